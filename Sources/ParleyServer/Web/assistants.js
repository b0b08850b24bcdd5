// Assistants: saved chat presets listed under "New chat". Choosing one starts a new chat with its model, system
// prompt, knowledge bases and how they are searched; the conversation settings dialog saves the current chat's settings as one. The
// publish dialog puts one on a public page and a website widget, and lists its visitors' chats.
import { api } from './api.js';
import { h, byId, toast, confirmAction, shortTime } from './dom.js';

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
      h('button', { type: 'button', class: 'icon-button', 'aria-label': `Publish assistant ${assistant.name}`,
        title: assistant.published ? 'Published: visitors can chat with it' : 'Publish', onclick: () => this.publishing(assistant) },
      assistant.published ? '◉' : '○'),
      h('button', { type: 'button', class: 'icon-button', 'aria-label': `Delete assistant ${assistant.name}`,
        onclick: () => this.remove(assistant) }, '✕'))));
  }

  /** The publish dialog of one assistant: its public page and widget tag, and its visitors' chats. */
  async publishing(assistant) {
    const dialog = byId('publish-dialog');
    byId('publish-title').textContent = `Publish ${assistant.name}`;
    const toggle = byId('publish-toggle');
    toggle.checked = assistant.published;
    toggle.onchange = async () => {
      try {
        assistant = await api('PATCH', `/assistants/${assistant.id}`, { published: toggle.checked });
        this.showAddress(assistant);
        await this.load();
      } catch (error) {
        toggle.checked = !toggle.checked;
        toast(`Not changed: ${error.explanation}`, 6000);
      }
    };
    byId('publish-origins-save').onclick = async () => {
      const sites = byId('publish-origins').value.split(/\s+/).filter(Boolean);
      try {
        assistant = await api('PATCH', `/assistants/${assistant.id}`, { embed_origins: sites });
        this.showAddress(assistant);
        toast(sites.length ? 'Only these sites may show it' : 'Any site may show it');
      } catch (error) {
        toast(`Not saved: ${error.explanation}`, 6000);
      }
    };
    this.showAddress(assistant);
    byId('visitor-chat-list').replaceChildren(h('li', { class: 'hint' }, 'Loading…'));
    if (!dialog.open) dialog.showModal();
    try {
      const chats = (await api('GET', `/assistants/${assistant.id}/visitor-chats?limit=50`)).data;
      byId('visitor-chat-list').replaceChildren(...(chats.length ? chats.map((chat) => this.visitorChat(chat))
        : [h('li', { class: 'hint' }, 'No visitor has chatted yet.')]));
    } catch (error) {
      byId('visitor-chat-list').replaceChildren(h('li', { class: 'hint' }, `Not loaded: ${error.explanation}`));
    }
  }

  showAddress(assistant) {
    byId('publish-where').hidden = !assistant.published;
    if (!assistant.published) return;
    const url = location.origin + assistant.public_path;
    byId('publish-link').href = url;
    byId('publish-link').textContent = url;
    const address = assistant.public_path.slice(3);
    byId('publish-snippet').value = `<script src="${location.origin}/widget.js" data-assistant="${address}" async></script>`;
    byId('publish-origins').value = (assistant.embed_origins ?? []).join('\n');
  }

  visitorChat(chat) {
    const handoff = chat.handoff
      ? h('div', { class: 'handoff-request' }, `Asked for a person: ${chat.handoff.email}`, chat.handoff.note ? ` — ${chat.handoff.note}` : '')
      : null;
    return h('li', { class: 'visitor-chat' },
      h('a', { href: `/c/${chat.id}` }, chat.title || 'Untitled'),
      ` · ${shortTime(chat.updated_at)} · ${chat.message_count} messages · 👍 ${chat.thumbs_up} 👎 ${chat.thumbs_down}`,
      handoff);
  }

  /** A new chat with the assistant's settings; it is created by its first message. */
  start(assistant) {
    this.hooks.startNew();
    this.settings.pending = {
      model: assistant.model, systemPrompt: assistant.system_prompt ?? '', knowledgeBaseIds: assistant.knowledge_base_ids,
      parameters: assistant.parameters ?? {}, retrieval: assistant.retrieval ?? {}, tags: [],
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
    body.parameters = this.settings.chosenParameters();
    body.retrieval = this.settings.chosenRetrieval();
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
