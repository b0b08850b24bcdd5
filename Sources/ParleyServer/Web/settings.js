// The model picker and the conversation settings dialog (system prompt, knowledge bases and how they are searched,
// answer parameters, export, shared links).
import { api } from './api.js';
import { h, byId, toast } from './dom.js';
import { exportConversation } from './export.js';
import { showShares } from './share.js';

/** The answer fields with one value each, and the parameter each sets. */
const parameterFields = [
  ['param-temperature', 'temperature'], ['param-top-p', 'top_p'], ['param-max-tokens', 'max_tokens'],
  ['param-seed', 'seed'], ['param-reasoning', 'reasoning_effort'],
];

export class Settings {
  /** @param chat the Chat whose conversation these settings belong to; hooks {changed(conversation)} */
  constructor(chat, hooks) {
    this.chat = chat;
    this.hooks = hooks;
    this.picker = byId('model-picker');
    this.dialog = byId('settings-dialog');
    this.prompt = byId('system-prompt');
    this.defaultModel = null;
    this.pending = Settings.emptyPending(); // for a chat not created yet
    this.basesList = byId('settings-bases-list');
    this.picker.addEventListener('change', () => this.pickModel(this.picker.value));
    byId('open-settings').addEventListener('click', () => this.openDialog());
    this.dialog.addEventListener('close', () => { if (this.dialog.returnValue === 'save') this.savePrompt(this.prompt.value); });
    byId('export-markdown').addEventListener('click', () => this.export('markdown'));
    byId('export-json').addEventListener('click', () => this.export('json'));
  }

  /** The settings of a new chat before anything is chosen. */
  static emptyPending() {
    return { model: null, systemPrompt: '', knowledgeBaseIds: [], parameters: {}, retrieval: {}, tags: [] };
  }

  async loadModels() {
    try {
      const list = await api('GET', '/models');
      this.defaultModel = list.default ?? list.data[0]?.id ?? null;
      this.picker.replaceChildren(...list.data.map((model) => h('option', { value: model.id },
        model.id === this.defaultModel ? `${model.id} (default)` : model.id)));
      if (list.data.length === 0) this.picker.append(h('option', { value: '', text: 'No models' }));
    } catch (error) {
      this.picker.replaceChildren(h('option', { value: '', text: 'Models unavailable' }));
      toast(`Models could not be loaded: ${error.explanation}`, 6000);
    }
    this.show(this.chat.conversation);
  }

  /** Shows the settings of a conversation (null: the new chat's). */
  show(conversation) {
    const model = conversation ? conversation.model ?? this.defaultModel : this.pending.model ?? this.defaultModel;
    if (model && ![...this.picker.options].some((option) => option.value === model)) {
      this.picker.append(h('option', { value: model, text: `${model} (unavailable)` }));
    }
    if (model) this.picker.value = model;
  }

  async pickModel(model) {
    const conversation = this.chat.conversation;
    if (!conversation) { this.pending.model = model; return; }
    try {
      const updated = await api('PATCH', `/conversations/${conversation.id}`, { model });
      this.chat.conversation = updated;
      this.hooks.changed(updated);
      toast(`Model: ${model}`);
    } catch (error) {
      toast(`Model not changed: ${error.explanation}`, 6000);
      this.show(conversation);
    }
  }

  /** Checkboxes for the knowledge bases the user can read, those of the conversation checked. */
  async showBases(chosen) {
    let bases = [];
    this.basesLoaded = false;
    try {
      bases = (await api('GET', '/knowledge-bases')).data;
      this.basesLoaded = true;
    } catch {
      this.basesList.replaceChildren(h('p', { class: 'hint' }, 'Knowledge bases could not be loaded.'));
      return;
    }
    if (!bases.length) { this.basesList.replaceChildren(h('p', { class: 'hint' }, 'None yet: create one with 📚.')); return; }
    this.basesList.replaceChildren(...bases.map((base) => {
      const box = h('input', { type: 'checkbox', value: base.id, name: 'knowledge-base' });
      box.checked = chosen.includes(base.id);
      return h('label', {}, box, ` ${base.name}`);
    }));
  }

  chosenBases() {
    return [...this.basesList.querySelectorAll('input[name="knowledge-base"]:checked')].map((box) => box.value);
  }

  openDialog() {
    const conversation = this.chat.conversation;
    this.showBases(conversation ? conversation.knowledge_base_ids ?? [] : this.pending.knowledgeBaseIds);
    this.prompt.value = conversation ? conversation.system_prompt ?? '' : this.pending.systemPrompt;
    this.showParameters(conversation ? conversation.parameters ?? {} : this.pending.parameters);
    this.showRetrieval(conversation ? conversation.retrieval ?? {} : this.pending.retrieval);
    byId('conversation-tags').value = conversation ? (conversation.tags ?? []).join(', ') : this.pending.tags.join(', ');
    byId('export-markdown').disabled = !conversation;
    byId('export-json').disabled = !conversation;
    showShares(conversation);
    this.dialog.returnValue = '';
    this.dialog.showModal();
    this.prompt.focus();
  }

  /** Fills the answer fields from parameters ({temperature, top_p, max_tokens, seed, stop, reasoning_effort}). */
  showParameters(parameters) {
    for (const [id, name] of parameterFields) byId(id).value = parameters[name] ?? '';
    byId('param-stop').value = (parameters.stop ?? []).join(', ');
  }

  /** The answer fields as parameters: blank fields are left out (the model's defaults). */
  chosenParameters() {
    const parameters = {};
    for (const [id, name] of parameterFields) {
      const value = byId(id).value.trim();
      if (value === '') continue;
      parameters[name] = name === 'reasoning_effort' ? value : Number(value);
    }
    const stop = byId('param-stop').value.split(',').map((part) => part.trim()).filter(Boolean);
    if (stop.length) parameters.stop = stop;
    return parameters;
  }

  /** Fills the search fields from retrieval settings ({passages, min_similarity, rerank}). */
  showRetrieval(retrieval) {
    byId('retrieval-passages').value = retrieval.passages ?? '';
    byId('retrieval-similarity').value = retrieval.min_similarity ?? '';
    byId('retrieval-rerank').value = retrieval.rerank === undefined ? '' : retrieval.rerank ? 'on' : 'off';
  }

  /** The search fields as retrieval settings: blank fields are left out (the server's defaults). */
  chosenRetrieval() {
    const retrieval = {};
    const passages = byId('retrieval-passages').value.trim();
    if (passages !== '') retrieval.passages = Number(passages);
    const similarity = byId('retrieval-similarity').value.trim();
    if (similarity !== '') retrieval.min_similarity = Number(similarity);
    const rerank = byId('retrieval-rerank').value;
    if (rerank) retrieval.rerank = rerank === 'on';
    return retrieval;
  }

  async savePrompt(text) {
    const conversation = this.chat.conversation;
    const prompt = text.trim() ? text : null;
    const bases = this.chosenBases();
    const parameters = this.chosenParameters();
    const retrieval = this.chosenRetrieval();
    const tags = byId('conversation-tags').value.split(',').map((tag) => tag.trim()).filter(Boolean);
    if (!conversation) {
      this.pending.tags = tags;
      this.pending.systemPrompt = text;
      this.pending.parameters = parameters;
      this.pending.retrieval = retrieval;
      if (this.basesLoaded) this.pending.knowledgeBaseIds = bases;
      toast('Settings kept for this new chat');
      return;
    }
    try {
      // The bases are only sent when their list was shown: a list that failed to load detaches nothing.
      const body = this.basesLoaded ? { system_prompt: prompt, knowledge_base_ids: bases } : { system_prompt: prompt };
      body.parameters = parameters;
      body.retrieval = retrieval;
      body.tags = tags;
      const updated = await api('PATCH', `/conversations/${conversation.id}`, body);
      this.chat.conversation = updated;
      this.hooks.changed(updated);
      toast('Settings saved');
    } catch (error) {
      toast(`Settings not saved: ${error.explanation}`, 6000);
    }
  }

  /** The body that creates a conversation from the new chat's settings, which are then reset. */
  newConversationBody() {
    const body = {};
    if (this.pending.model && this.pending.model !== this.defaultModel) body.model = this.pending.model;
    if (this.pending.systemPrompt.trim()) body.system_prompt = this.pending.systemPrompt;
    if (this.pending.knowledgeBaseIds.length) body.knowledge_base_ids = this.pending.knowledgeBaseIds;
    if (Object.keys(this.pending.parameters).length) body.parameters = this.pending.parameters;
    if (Object.keys(this.pending.retrieval).length) body.retrieval = this.pending.retrieval;
    if (this.pending.tags.length) body.tags = this.pending.tags;
    this.pending = Settings.emptyPending();
    return body;
  }

  async export(format) {
    const conversation = this.chat.conversation;
    if (!conversation) return;
    try {
      await exportConversation(conversation, format);
    } catch (error) {
      toast(`Export failed: ${error.explanation ?? error.message}`, 6000);
    }
  }
}
