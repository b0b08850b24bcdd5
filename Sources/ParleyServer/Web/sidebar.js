// The conversation list: pinned ones on top, then newest first, paged as it scrolls; search, rename, pin, tag
// (a tag filters the list), archive (the archived list restores) and delete.
import { api, importChats } from './api.js';
import { h, icon, byId, confirmAction, toast } from './dom.js';

const pageSize = 30;

export class Sidebar {
  /** @param hooks {navigate(id, at), deleted(id)} — `at`: a message index to open the conversation at */
  constructor(hooks) {
    this.hooks = hooks;
    this.list = byId('conversation-list');
    this.pinnedList = byId('pinned-list');
    this.archivedView = false;
    this.tag = null;
    this.generation = 0;
    byId('show-archived').addEventListener('click', () => {
      this.archivedView = !this.archivedView;
      byId('show-archived').setAttribute('aria-pressed', String(this.archivedView));
      byId('show-archived').textContent = this.archivedView ? 'Back to chats' : 'Archived chats';
      this.reload();
    });
    const picker = byId('import-file');
    picker.addEventListener('change', () => { const [file] = picker.files; picker.value = ''; if (file) this.importFile(file); });
    this.status = byId('list-status');
    this.results = byId('search-results');
    this.search = byId('search-input');
    this.items = new Map();
    this.cursor = null;
    this.exhausted = false;
    this.loading = false;
    this.activeId = null;
    this.observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) this.loadMore();
    }, { root: byId('sidebar'), rootMargin: '0px 0px 200px 0px' });
    this.observer.observe(this.status);
    let timer = 0;
    this.search.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(() => this.runSearch(this.search.value.trim()), 250);
    });
    this.search.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') { this.search.value = ''; this.runSearch(''); }
    });
  }

  /** The list's filter as query parameters: archived or not, the chosen tag. */
  filter() {
    const tag = this.tag ? `&tag=${encodeURIComponent(this.tag)}` : '';
    return this.archivedView ? `&archived=true${tag}` : tag;
  }

  /** Starts the lists again (another view or filter); pages still on their way for the old one are dropped. */
  reload() {
    this.generation += 1;
    this.loading = false;
    this.list.replaceChildren();
    this.pinnedList.replaceChildren();
    this.items.clear();
    this.cursor = null;
    this.exhausted = false;
    const filter = byId('list-filter');
    filter.hidden = !this.tag;
    if (this.tag) {
      filter.replaceChildren(`Tagged “${this.tag}” `, h('button', { type: 'button', class: 'link-button',
        'aria-label': `Show all chats, not only those tagged ${this.tag}`, onclick: () => { this.tag = null; this.reload(); } }, 'Show all'));
    }
    this.loadPinned();
    this.loadMore();
  }

  async loadPinned() {
    byId('pinned-heading').hidden = true;
    if (this.archivedView) return;
    const generation = this.generation;
    try {
      const page = await api('GET', `/conversations?pinned=true&limit=200${this.filter()}`);
      if (generation !== this.generation) return;
      for (const conversation of page.data) if (!this.items.has(conversation.id)) this.pinnedList.append(this.item(conversation));
      byId('pinned-heading').hidden = this.pinnedList.children.length === 0;
    } catch { /* the main list reports problems */ }
  }

  async loadMore() {
    if (this.loading || this.exhausted) return;
    const generation = this.generation;
    this.loading = true;
    this.status.textContent = 'Loading…';
    try {
      const query = this.cursor ? `&cursor=${encodeURIComponent(this.cursor)}` : '';
      const pinned = this.archivedView ? '' : '&pinned=false';
      const page = await api('GET', `/conversations?limit=${pageSize}${pinned}${this.filter()}${query}`);
      if (generation !== this.generation) return;
      for (const conversation of page.data) if (!this.items.has(conversation.id)) this.list.append(this.item(conversation));
      this.cursor = page.next_cursor;
      this.exhausted = !page.next_cursor;
      this.status.textContent = this.list.children.length === 0
        ? (this.archivedView ? 'No archived chats.' : this.tag ? 'No other chats with this tag.' : this.pinnedList.children.length ? '' : 'No conversations yet.')
        : '';
    } catch (error) {
      if (generation !== this.generation) return;
      this.status.textContent = `Conversations could not be loaded: ${error.explanation}`;
      this.loading = false;
      return;
    }
    this.loading = false;
    // Keep going while the sentinel is still in view (a tall screen, a short page).
    const box = this.status.getBoundingClientRect();
    if (!this.exhausted && box.top < window.innerHeight + 200) this.loadMore();
  }

  item(conversation) {
    const link = h('a', { class: 'conversation-link', href: `/c/${conversation.id}` });
    link.addEventListener('click', (event) => {
      if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault();
      this.hooks.navigate(conversation.id);
    });
    const rename = h('button', { type: 'button', class: 'icon-button small', title: 'Rename' }, icon('pencil'));
    const pin = h('button', { type: 'button', class: 'icon-button small pin' }, icon('pin'));
    const archive = h('button', { type: 'button', class: 'icon-button small' }, icon('archive'));
    const remove = h('button', { type: 'button', class: 'icon-button small', title: 'Delete' }, icon('trash'));
    const tags = h('span', { class: 'tag-chips' });
    const element = h('li', { class: 'conversation-item', 'data-id': conversation.id }, link, tags, rename, pin, archive, remove);
    const entry = { conversation, element, link, rename, pin, archive, remove, tags };
    this.label(entry);
    rename.addEventListener('click', () => this.startRename(entry));
    pin.addEventListener('click', () => this.change(entry, { pinned: !entry.conversation.pinned }));
    archive.addEventListener('click', () => this.change(entry, { archived: !entry.conversation.archived }));
    remove.addEventListener('click', () => this.remove(entry));
    this.items.set(conversation.id, entry);
    if (conversation.id === this.activeId) link.setAttribute('aria-current', 'page');
    return element;
  }

  /** Pins or unpins, archives or restores a conversation, and moves it where it now belongs. */
  async change(entry, patch) {
    try {
      const updated = await api('PATCH', `/conversations/${entry.conversation.id}`, patch);
      this.upsert(updated);
      if (patch.archived !== undefined) toast(patch.archived ? `Archived “${updated.title || 'New chat'}”` : 'Restored');
    } catch (error) {
      toast(`Not changed: ${error.explanation}`, 6000);
    }
  }

  /** Adds a conversation or updates its entry; a conversation that changed moves to the top of its list (pinned
   * or not); one that no longer belongs in the view (archived, restored, another tag) leaves it. */
  upsert(conversation) {
    let entry = this.items.get(conversation.id);
    const belongs = conversation.archived === this.archivedView && (!this.tag || conversation.tags?.includes(this.tag));
    if (!belongs) {
      if (entry) { entry.element.remove(); this.items.delete(conversation.id); }
      return;
    }
    const list = conversation.pinned && !this.archivedView ? this.pinnedList : this.list;
    if (!entry) {
      list.prepend(this.item(conversation));
      this.status.textContent = '';
    } else {
      const moved = entry.conversation.updated_at !== conversation.updated_at || entry.element.parentElement !== list;
      entry.conversation = conversation;
      this.label(entry);
      if (moved) list.prepend(entry.element);
    }
    byId('pinned-heading').hidden = this.pinnedList.children.length === 0;
  }

  label(entry) {
    const conversation = entry.conversation;
    const title = conversation.title || 'New chat';
    entry.link.textContent = title;
    entry.rename.setAttribute('aria-label', `Rename “${title}”`);
    entry.remove.setAttribute('aria-label', `Delete “${title}”`);
    entry.pin.setAttribute('aria-label', `${conversation.pinned ? 'Unpin' : 'Pin'} “${title}”`);
    entry.pin.setAttribute('aria-pressed', String(Boolean(conversation.pinned)));
    entry.pin.title = conversation.pinned ? 'Unpin' : 'Pin';
    entry.archive.setAttribute('aria-label', `${conversation.archived ? 'Restore' : 'Archive'} “${title}”`);
    entry.archive.title = conversation.archived ? 'Restore' : 'Archive';
    entry.tags.replaceChildren(...(conversation.tags ?? []).map((tag) => h('button', {
      type: 'button', class: 'tag-chip', 'aria-label': `Show chats tagged ${tag}`,
      onclick: () => { this.tag = tag; this.reload(); },
    }, tag)));
  }

  setActive(id) {
    this.activeId = id;
    for (const [key, entry] of this.items) {
      if (key === id) entry.link.setAttribute('aria-current', 'page'); else entry.link.removeAttribute('aria-current');
    }
  }

  startRename(entry) {
    const input = h('input', { class: 'rename-input', type: 'text', maxlength: 500, 'aria-label': 'New title' });
    input.value = entry.conversation.title;
    let done = false;
    const finish = async (save) => {
      if (done) return;
      done = true;
      const title = input.value.trim();
      input.replaceWith(entry.link);
      if (!save || title === entry.conversation.title || !title) { entry.rename.focus(); return; }
      try {
        const updated = await api('PATCH', `/conversations/${entry.conversation.id}`, { title });
        entry.conversation = updated;
        this.label(entry);
        this.hooks.renamed(updated);
      } catch (error) {
        toast(`Not renamed: ${error.explanation}`, 6000);
      }
      entry.rename.focus();
    };
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') { event.preventDefault(); finish(true); } else if (event.key === 'Escape') finish(false);
    });
    input.addEventListener('blur', () => finish(true));
    entry.link.replaceWith(input);
    input.focus();
    input.select();
  }

  async remove(entry) {
    const title = entry.conversation.title || 'New chat';
    if (!(await confirmAction(`Delete “${title}” and all its messages? This cannot be undone.`))) { entry.remove.focus(); return; }
    try {
      await api('DELETE', `/conversations/${entry.conversation.id}`);
    } catch (error) {
      if (error.status !== 404) { toast(`Not deleted: ${error.explanation}`, 6000); return; }
    }
    entry.element.remove();
    this.items.delete(entry.conversation.id);
    toast(`Deleted “${title}”`);
    this.hooks.deleted(entry.conversation.id);
  }

  async runSearch(query) {
    if (!query) {
      this.results.hidden = true;
      this.results.replaceChildren();
      this.list.hidden = false;
      return;
    }
    this.searching = query;
    try {
      const found = await api('GET', `/search?q=${encodeURIComponent(query)}&limit=20`);
      if (this.searching !== query) return;
      const open = (id, at = null) => (event) => { event.preventDefault(); this.hooks.navigate(id, at); };
      const rows = [];
      for (const hit of found.conversations) {
        rows.push(h('li', {}, h('a', { href: `/c/${hit.conversation.id}`, class: 'result-title', onclick: open(hit.conversation.id) }, hit.conversation.title || 'New chat')));
      }
      for (const hit of found.messages) {
        rows.push(h('li', {}, h('a', { href: `/c/${hit.conversation_id}#m${hit.index}`, onclick: open(hit.conversation_id, hit.index) },
          h('span', { class: 'result-title', text: hit.conversation_title || 'New chat' }),
          h('span', { class: 'result-snippet', text: hit.snippet }))));
      }
      const heading = h('p', { class: 'results-heading', text: rows.length ? `Results for “${query}”` : `Nothing found for “${query}”` });
      this.results.replaceChildren(heading, h('ul', {}, ...rows));
    } catch (error) {
      this.results.replaceChildren(h('p', { class: 'results-heading', text: `Search failed: ${error.explanation}` }));
    }
    this.results.hidden = false;
    this.list.hidden = true;
  }

  /** Imports a ChatGPT, Open WebUI or LibreChat export and says what came in. */
  async importFile(file) {
    toast(`Importing ${file.name}…`, 60000);
    try {
      const report = await importChats(file);
      const skipped = report.skipped_count ? `, ${report.skipped_count} skipped (${report.skipped[0].reason})` : '';
      const stopped = report.failure ? `; the file stopped being readable: ${report.failure}` : '';
      toast(`Imported ${report.conversations} chat${report.conversations === 1 ? '' : 's'}${skipped}${stopped}`, 8000);
      this.reload();
    } catch (error) {
      toast(`Nothing imported: ${error.explanation}`, 8000);
    }
  }
}
