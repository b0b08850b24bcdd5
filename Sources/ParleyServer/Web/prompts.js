// Saved prompts: typing `/` at the start of the message box lists them (filtered as you type the command;
// arrows choose, Enter or Tab inserts, Esc closes); a prompt with {{variables}} asks for their values first.
// The account dialog lists them and saves new ones.
import { api } from './api.js';
import { h, byId, toast, confirmAction } from './dom.js';

let prompts = null;

async function load() {
  try { prompts = (await api('GET', '/prompts')).data; } catch { prompts = []; }
  return prompts;
}

/** Fills in a prompt's variables: every `{{name}}` becomes its value. */
export function fill(content, values) {
  return content.replace(/\{\{\s*([^{}]+?)\s*\}\}/g, (whole, name) => (name in values ? values[name] : whole));
}

export function installPromptMenu() {
  const box = byId('composer-input');
  const menu = byId('prompt-menu');
  let shown = [];
  let chosen = 0;

  const close = () => { menu.hidden = true; shown = []; box.removeAttribute('aria-activedescendant'); };
  const render = () => {
    menu.replaceChildren(...(shown.length ? shown.map((prompt, index) => h('li', {
      id: `prompt-option-${index}`, role: 'option', 'aria-selected': String(index === chosen), class: 'prompt-option',
      onmousedown: (event) => { event.preventDefault(); insert(prompt); },
    }, h('strong', {}, `/${prompt.command}`), ` ${prompt.title || prompt.content.slice(0, 60)}`))
      : [h('li', { class: 'hint' }, 'No saved prompt starts so: save them in 👤 Account.')]));
    if (shown.length) box.setAttribute('aria-activedescendant', `prompt-option-${chosen}`);
    menu.hidden = false;
  };

  async function update() {
    const match = /^\/([a-z0-9_-]*)$/i.exec(box.value);
    if (!match) { close(); return; }
    const list = prompts ?? await load();
    shown = list.filter((prompt) => prompt.command.startsWith(match[1].toLowerCase())).slice(0, 8);
    chosen = Math.min(chosen, Math.max(0, shown.length - 1));
    render();
  }

  async function insert(prompt) {
    close();
    const content = prompt.variables.length ? await askValues(prompt) : prompt.content;
    if (content === null) { box.focus(); return; }
    box.value = content;
    box.dispatchEvent(new Event('input'));
    box.focus();
  }

  box.addEventListener('input', update);
  box.addEventListener('blur', () => setTimeout(close, 150));
  // Before the composer's own keys (Enter sends), while the list is open.
  box.addEventListener('keydown', (event) => {
    if (menu.hidden) return;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      if (!shown.length) return;
      chosen = (chosen + (event.key === 'ArrowDown' ? 1 : shown.length - 1)) % shown.length;
      render();
    } else if ((event.key === 'Enter' || event.key === 'Tab') && shown.length && !event.shiftKey) {
      insert(shown[chosen]);
    } else if (event.key === 'Escape') {
      close();
    } else {
      return;
    }
    event.preventDefault();
    event.stopImmediatePropagation();
  }, true);
}

/** Asks for the values of a prompt's variables; resolves with the filled-in text, or null when cancelled. */
function askValues(prompt) {
  const dialog = byId('prompt-dialog');
  const fields = prompt.variables.map((name) => h('input', { 'data-name': name, 'aria-label': name, maxlength: 10000 }));
  byId('prompt-dialog-title').textContent = `/${prompt.command}`;
  byId('prompt-fields').replaceChildren(...prompt.variables.map((name, index) => h('label', {}, name, fields[index])));
  dialog.returnValue = '';
  dialog.showModal();
  fields[0]?.focus();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      if (dialog.returnValue !== 'insert') { resolve(null); return; }
      resolve(fill(prompt.content, Object.fromEntries(fields.map((field) => [field.dataset.name, field.value]))));
    }, { once: true });
  });
}

/** The account dialog's list of prompts, with delete, and the form that saves a new one. */
export async function loadPromptSettings() {
  const list = await load();
  byId('prompt-list').replaceChildren(...(list.length ? list.map((prompt) => h('li', { class: 'key-item' },
    h('span', { class: 'key-name', text: `/${prompt.command}${prompt.title ? ` · ${prompt.title}` : ''}` }),
    h('button', { class: 'button', type: 'button', text: 'Delete', 'aria-label': `Delete /${prompt.command}`, onclick: () => remove(prompt) })))
    : [h('li', { class: 'hint', text: 'No saved prompts yet.' })]));
}

async function remove(prompt) {
  if (!await confirmAction(`Delete the prompt /${prompt.command}?`)) return;
  try {
    await api('DELETE', `/prompts/${prompt.id}`);
  } catch (error) { toast(`Not deleted: ${error.explanation}`, 6000); }
  await loadPromptSettings();
}

export async function savePrompt() {
  const body = { command: byId('prompt-command').value, title: byId('prompt-title').value, content: byId('prompt-content').value };
  try {
    await api('POST', '/prompts', body);
    for (const id of ['prompt-command', 'prompt-title', 'prompt-content']) byId(id).value = '';
    toast(`Saved: type /${body.command.replace(/^\//, '').toLowerCase()} in the message box`);
    await loadPromptSettings();
  } catch (error) {
    toast(`Prompt not saved: ${error.explanation}`, 6000);
  }
}
