// A conversation shared read-only, at /s/{token}: its title and its messages up to the moment it was shared,
// newest page first with earlier ones on request. Nothing here writes.
import { h, byId } from './dom.js';
import { renderMarkdown } from './markdown.js';
import { sourceList } from './public-sources.js';

const token = location.pathname.split('/')[2] ?? '';
let nextBefore = null;

async function get(path) {
  const response = await fetch(`/api/v1/shared/${encodeURIComponent(token)}${path}`, { headers: { Accept: 'application/json' } });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try { message = (await response.json()).error?.message ?? message; } catch { /* keep the status line */ }
    const error = new Error(message);
    error.status = response.status;
    throw error;
  }
  return response.json();
}

function turn(message) {
  const element = h('article', { class: `turn ${message.role}`, 'data-index': String(message.index) });
  if (message.role === 'user') {
    element.textContent = message.content;
    if (message.attachments?.length) {
      element.append(h('p', { class: 'turn-tools', text: `Attached: ${message.attachments.map((a) => a.name).join(', ')}` }));
    }
    return element;
  }
  const body = h('div', { class: 'answer' });
  renderMarkdown(body, message.content || (message.status === 'streaming' ? '…' : ''));
  element.append(body, ...sourceList(message));
  if (message.model) element.append(h('div', { class: 'turn-tools' }, message.model));
  return element;
}

async function loadPage() {
  const page = await get(`/messages?limit=50${nextBefore === null ? '' : `&before=${nextBefore}`}`);
  const log = byId('shared-log');
  const first = nextBefore === null;
  const height = log.scrollHeight;
  log.prepend(...page.data.map(turn));
  nextBefore = page.has_more ? page.next_before : null;
  byId('shared-earlier').hidden = nextBefore === null;
  // The newest messages in view first; earlier pages keep the reader's place.
  log.scrollTop = first ? log.scrollHeight : log.scrollHeight - height;
}

async function start() {
  const status = byId('shared-status');
  try {
    const shared = await get('');
    document.title = shared.title || 'Shared conversation';
    byId('shared-title').textContent = shared.title || 'Shared conversation';
    byId('shared-when').textContent = `Shared ${new Date(shared.shared_at).toLocaleString()} · read only`;
    await loadPage();
  } catch (error) {
    if (error.status === 401) {
      status.replaceChildren('This conversation is shared with signed-in users. ',
        h('a', { href: '/' }, 'Sign in'), ', then open the link again.');
    } else {
      status.textContent = error.status === 404 ? 'Nothing is shared at this link: it may have been revoked.' : error.message;
    }
  }
}

byId('shared-earlier').addEventListener('click', async () => {
  try { await loadPage(); } catch (error) { byId('shared-status').textContent = error.message; }
});
start();
