// The knowledge-base pages: bases (create, delete, change of embedding model with its progress), their documents
// (upload by picking or dropping files, status and progress as they are ingested, cancel, retry, pin, delete), followed
// live over the base's event stream.
import { api, uploadDocument } from './api.js';
import { h, byId, toast, confirmAction } from './dom.js';

const statusText = { queued: 'Queued', processing: 'Reading', ready: 'Ready', failed: 'Failed', cancelled: 'Cancelled' };

export class KnowledgePanel {
  constructor() {
    this.dialog = byId('knowledge-dialog');
    this.list = byId('kb-list');
    this.detail = byId('kb-detail');
    this.bases = [];
    this.current = null;
    this.documents = new Map();
    this.events = null;
    byId('open-knowledge').addEventListener('click', () => this.open());
    byId('kb-create').addEventListener('click', () => this.create());
    byId('kb-new-name').addEventListener('keydown', (event) => {
      if (event.key === 'Enter') { event.preventDefault(); this.create(); }
    });
    this.dialog.addEventListener('close', () => this.follow(null));
  }

  async open() {
    this.dialog.showModal();
    await this.load();
    if (this.current) this.select(this.current.id); else if (this.bases[0]) this.select(this.bases[0].id);
  }

  async load() {
    try {
      this.bases = (await api('GET', '/knowledge-bases')).data;
    } catch (error) {
      toast(`Knowledge bases could not be loaded: ${error.explanation}`, 6000);
    }
    this.list.replaceChildren(...this.bases.map((base) => h('li', {}, h('button', {
      type: 'button', 'aria-current': String(base.id === this.current?.id), onclick: () => this.select(base.id),
    }, `${base.name} (${base.document_count})`))));
  }

  async create() {
    const input = byId('kb-new-name');
    const name = input.value.trim();
    if (!name) { input.focus(); return; }
    try {
      const base = await api('POST', '/knowledge-bases', { name });
      input.value = '';
      this.current = base;
      await this.load();
      this.select(base.id);
    } catch (error) {
      toast(`Not created: ${error.explanation}`, 6000);
    }
  }

  async select(id) {
    try {
      this.current = await api('GET', `/knowledge-bases/${id}`);
      const documents = (await api('GET', `/knowledge-bases/${id}/documents`)).data;
      this.documents = new Map(documents.map((document) => [document.id, document]));
    } catch (error) {
      toast(`Not opened: ${error.explanation}`, 6000);
      return;
    }
    for (const button of this.list.querySelectorAll('button')) button.setAttribute('aria-current', 'false');
    [...this.list.children].find((item, index) => this.bases[index]?.id === id)?.firstChild.setAttribute('aria-current', 'true');
    this.renderDetail();
    this.follow(id);
  }

  /** Follows the base's documents as they are ingested, on any replica. */
  follow(id) {
    this.events?.close();
    this.events = null;
    if (!id) return;
    this.events = new EventSource(`/api/v1/knowledge-bases/${id}/events`);
    this.events.addEventListener('document', (event) => {
      const document = JSON.parse(event.data);
      this.documents.set(document.id, document);
      this.renderDocuments();
    });
    this.events.addEventListener('deleted', (event) => {
      this.documents.delete(JSON.parse(event.data).id);
      this.renderDocuments();
    });
    this.events.addEventListener('embedding', (event) => {
      if (this.current?.id !== id) return;
      const state = JSON.parse(event.data);
      Object.assign(this.current, { reembedding: null }, state);
      this.renderMode();
    });
  }

  renderDetail() {
    const base = this.current;
    const picker = h('input', { type: 'file', multiple: true, class: 'visually-hidden', id: 'kb-file' });
    picker.addEventListener('change', () => { this.upload([...picker.files]); picker.value = ''; });
    const zone = h('div', { class: 'drop-zone' }, 'Drop files here, or ', h('label', { for: 'kb-file', class: 'link-button' }, 'choose files'),
      picker, h('p', { class: 'hint' }, 'Text, Markdown, PDF, HTML, Word (.docx), CSV, TSV and JSON files.'));
    zone.addEventListener('dragover', (event) => { event.preventDefault(); zone.classList.add('over'); });
    zone.addEventListener('dragleave', () => zone.classList.remove('over'));
    zone.addEventListener('drop', (event) => {
      event.preventDefault();
      zone.classList.remove('over');
      this.upload([...event.dataTransfer.files]);
    });
    const actions = base.owned ? [h('button', { type: 'button', class: 'link-button', onclick: () => this.deleteBase() }, 'Delete knowledge base')] : [];
    this.docList = h('ul', { class: 'plain-list doc-list', 'aria-label': 'Documents' });
    this.modeLine = h('p', { class: 'hint', id: 'kb-mode' });
    this.detail.replaceChildren(h('h3', {}, base.name), this.modeLine, ...(base.owned ? [this.modelChooser(), zone] : []),
      this.docList, ...actions);
    this.renderMode();
    this.renderDocuments();
  }

  /** How the base is searched, and how far a change of embedding model has come. */
  renderMode() {
    const base = this.current;
    if (!this.modeLine || !base) return;
    const mode = base.search === 'hybrid' ? `hybrid search (${base.embedding_model})` : 'full-text search only: no embedding model is set';
    const change = base.reembedding;
    let progress = '';
    if (change?.status === 'failed') progress = ` Embedding with ${change.model} failed: ${change.error ?? 'unknown error'}.`;
    else if (change) progress = ` Embedding again with ${change.model}: ${change.embedded} of ${change.total} passages; the current index answers until then.`;
    this.modeLine.textContent = `${base.passage_count} passages, ${mode}.${progress}`;
    this.modeLine.dataset.reembedding = change?.status ?? '';
  }

  /** The owner's choice of embedding model: any model the server serves, or none (full-text only). */
  modelChooser() {
    const picker = h('select', { id: 'kb-embedding-model' });
    const wanted = this.current.reembedding?.model ?? this.current.embedding_model ?? '';
    const option = (value, text) => h('option', { value, selected: value === wanted }, text);
    picker.replaceChildren(option('', 'None: full-text search only'), ...(wanted ? [option(wanted, wanted)] : []));
    api('GET', '/models').then((list) => {
      picker.replaceChildren(option('', 'None: full-text search only'),
        ...[...new Set([wanted, ...list.data.map((model) => model.id)])].filter(Boolean).map((id) => option(id, id)));
    }).catch(() => {});
    const apply = h('button', { type: 'button', class: 'button', id: 'kb-embedding-apply', onclick: () => this.changeModel(picker.value) }, 'Use');
    return h('p', { class: 'kb-model' }, h('label', { for: 'kb-embedding-model' }, 'Embedding model '), picker, ' ', apply);
  }

  async changeModel(model) {
    try {
      this.current = await api('PATCH', `/knowledge-bases/${this.current.id}`, { embedding_model: model || null });
      this.renderMode();
    } catch (error) {
      toast(`Not changed: ${error.explanation}`, 6000);
    }
  }

  renderDocuments() {
    if (!this.docList) return;
    const documents = [...this.documents.values()].sort((a, b) => b.created_at.localeCompare(a.created_at));
    if (!documents.length) { this.docList.replaceChildren(h('li', { class: 'hint' }, 'No documents yet.')); return; }
    this.docList.replaceChildren(...documents.map((document) => this.documentItem(document)));
  }

  documentItem(document) {
    let status = statusText[document.status] ?? document.status;
    if (document.status === 'processing') status += ` · ${document.passage_count} passages`;
    if (document.status === 'ready') status = `${document.passage_count} passages`;
    if (document.pinned) status += ' · pinned: given whole to the model';
    const buttons = [];
    const act = (label, run, title) => buttons.push(h('button', { type: 'button', class: 'link-button', title, onclick: run }, label));
    if (this.current.owned) {
      if (document.status === 'queued' || document.status === 'processing') act('Cancel', () => this.act(document, 'cancel'));
      if (document.status === 'failed' || document.status === 'cancelled') act('Retry', () => this.act(document, 'retry'));
      act(document.pinned ? 'Unpin' : 'Pin', () => this.pin(document, !document.pinned),
        'A pinned document is given whole to the model in chats with this base, for questions about all of it');
      act('Delete', () => this.deleteDocument(document));
    }
    return h('li', { 'data-status': document.status }, h('span', {}, document.name),
      h('span', { class: `doc-status ${document.status}`, title: document.error ?? '' }, document.error ? `${status}: ${document.error}` : status),
      h('span', {}, ...buttons));
  }

  async upload(files) {
    for (const file of files) {
      try {
        const { document, duplicate } = await uploadDocument(this.current.id, file);
        this.documents.set(document.id, document);
        this.renderDocuments();
        if (duplicate) toast(`${file.name} is already here as ${document.name}`);
      } catch (error) {
        toast(`${file.name} not uploaded: ${error.explanation}`, 6000);
      }
    }
  }

  async act(document, action) {
    try {
      const updated = await api('POST', `/knowledge-bases/${this.current.id}/documents/${document.id}/${action}`);
      this.documents.set(updated.id, updated);
      this.renderDocuments();
    } catch (error) {
      toast(`Not done: ${error.explanation}`, 6000);
    }
  }

  /** A pinned document goes whole into the context of every chat with the base attached. */
  async pin(document, pinned) {
    try {
      const updated = await api('PATCH', `/knowledge-bases/${this.current.id}/documents/${document.id}`, { pinned });
      this.documents.set(updated.id, updated);
      this.renderDocuments();
    } catch (error) {
      toast(`Not done: ${error.explanation}`, 6000);
    }
  }

  async deleteDocument(document) {
    if (!await confirmAction(`Delete ${document.name}? Its passages leave every answer at once.`)) return;
    try {
      await api('DELETE', `/knowledge-bases/${this.current.id}/documents/${document.id}`);
      this.documents.delete(document.id);
      this.renderDocuments();
    } catch (error) {
      toast(`Not deleted: ${error.explanation}`, 6000);
    }
  }

  async deleteBase() {
    if (!await confirmAction(`Delete ${this.current.name} and all its documents?`)) return;
    try {
      await api('DELETE', `/knowledge-bases/${this.current.id}`);
      this.follow(null);
      this.current = null;
      this.detail.replaceChildren(h('p', { class: 'hint' }, 'Deleted.'));
      await this.load();
    } catch (error) {
      toast(`Not deleted: ${error.explanation}`, 6000);
    }
  }
}
