// Assistants: saved chat presets listed under "New chat". Choosing one starts a new chat with its model, system
// prompt and knowledge bases; the conversation settings dialog saves the current chat's settings as one.
import { api } from './api.js';
import { h, byId, toast, confirmAction } from './dom.js';

export class Assistants {
  /** @param settings the Settings of the chat; hooks {startNew()} shows an empty new chat */
  constructor(settings, hooks) {
    this.settings = settings;
    this.hooks = hooks;
    this.list = byId('assistant-list');
    byId('save-assistant').addEventListener('click', () => this.saveCurrent());
    this.load();
  }

  async load() {
    let assistants = [];
    try {
      assistants = (await api('GET', '/assistants')).data;
    } catch (error) {
      this.list.replaceChildren(h('li', { class: 'hint' }, `Assistants could not be loaded: ${error.explanation}`));
      return;
    }
    this.list.replaceChildren(...assistants.map((assistant) => h('li', {},
      h('button', { type: 'button', class: 'assistant-start', title: assistant.description || 'Start a chat with this assistant',
        onclick: () => this.start(assistant) }, assistant.name),
      h('button', { type: 'button', class: 'icon-button', 'aria-label': `Delete assistant ${assistant.name}`,
        onclick: () => this.remove(assistant) }, '✕'))));
  }

  /** A new chat with the assistant's settings; it is created by its first message. */
  start(assistant) {
    this.hooks.startNew();
    this.settings.pending = {
      model: assistant.model, systemPrompt: assistant.system_prompt ?? '', knowledgeBaseIds: assistant.knowledge_base_ids,
    };
    this.settings.show(null);
    toast(`New chat with ${assistant.name}`);
  }

  /** Saves the settings shown in the dialog (and the picked model) as a new assistant. */
  async saveCurrent() {
    const input = byId('assistant-name');
    const name = input.value.trim();
    if (!name) { input.focus(); return; }
    const body = { name, system_prompt: this.settings.prompt.value.trim() ? this.settings.prompt.value : null };
    if (this.settings.picker.value) body.model = this.settings.picker.value;
    if (this.settings.basesLoaded) body.knowledge_base_ids = this.settings.chosenBases();
    try {
      await api('POST', '/assistants', body);
      input.value = '';
      toast(`Saved as the assistant ${name}`);
      await this.load();
    } catch (error) {
      toast(`Assistant not saved: ${error.explanation}`, 6000);
    }
  }

  async remove(assistant) {
    if (!await confirmAction(`Delete the assistant ${assistant.name}? Chats started from it stay.`)) return;
    try {
      await api('DELETE', `/assistants/${assistant.id}`);
      await this.load();
    } catch (error) {
      toast(`Not deleted: ${error.explanation}`, 6000);
    }
  }
}
