// The conversation list: newest first, paged as it scrolls, with search, rename and delete.
import { api } from './api.js';
import { h, icon, byId, confirmAction, toast } from './dom.js';

const pageSize = 30;

export class Sidebar {
  /** @param hooks {navigate(id, at), deleted(id)} — `at`: a message index to open the conversation at */
  constructor(hooks) {
    this.hooks = hooks;
    this.list = byId('conversation-list');
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

  async loadMore() {
    if (this.loading || this.exhausted) return;
    this.loading = true;
    this.status.textContent = 'Loading…';
    try {
      const query = this.cursor ? `&cursor=${encodeURIComponent(this.cursor)}` : '';
      const page = await api('GET', `/conversations?limit=${pageSize}${query}`);
      for (const conversation of page.data) if (!this.items.has(conversation.id)) this.list.append(this.item(conversation));
      this.cursor = page.next_cursor;
      this.exhausted = !page.next_cursor;
      this.status.textContent = this.items.size === 0 ? 'No conversations yet.' : '';
    } catch (error) {
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
    const remove = h('button', { type: 'button', class: 'icon-button small', title: 'Delete' }, icon('trash'));
    const element = h('li', { class: 'conversation-item', 'data-id': conversation.id }, link, rename, remove);
    const entry = { conversation, element, link, rename, remove };
    this.label(entry);
    rename.addEventListener('click', () => this.startRename(entry));
    remove.addEventListener('click', () => this.remove(entry));
    this.items.set(conversation.id, entry);
    if (conversation.id === this.activeId) link.setAttribute('aria-current', 'page');
    return element;
  }

  /** Adds a conversation or updates its entry; a conversation that changed moves to the top. */
  upsert(conversation) {
    const entry = this.items.get(conversation.id);
    if (!entry) {
      this.list.prepend(this.item(conversation));
      this.status.textContent = '';
      return;
    }
    const moved = entry.conversation.updated_at !== conversation.updated_at;
    entry.conversation = conversation;
    this.label(entry);
    if (moved) this.list.prepend(entry.element);
  }

  label(entry) {
    const title = entry.conversation.title || 'New chat';
    entry.link.textContent = title;
    entry.rename.setAttribute('aria-label', `Rename “${title}”`);
    entry.remove.setAttribute('aria-label', `Delete “${title}”`);
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
}
