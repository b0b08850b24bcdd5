// The chat anonymous visitors hold with a published assistant, at /a/{address} (alone, or in the widget's
// frame). The chat's id and token are kept in this browser only; answers stream as the signed-in chat's do.
import { h, byId } from './dom.js';
import { renderMarkdown } from './markdown.js';
import { readEvents } from './api.js';
import { sourceList } from './public-sources.js';

const slug = location.pathname.split('/')[2] ?? '';
const storageKey = `parley-visitor:${slug}`;
const views = new Map();
let chat = load();
let streaming = null;

function load() {
  try { return JSON.parse(localStorage.getItem(storageKey)) ?? null; } catch { return null; }
}

function save(value) {
  chat = value;
  try {
    if (value) localStorage.setItem(storageKey, JSON.stringify(value));
    else localStorage.removeItem(storageKey);
  } catch { /* storage blocked: the chat lasts as long as the page */ }
}

/** Calls the visitors' API; only the question's own request is cut by `signal` (Stop still reaches the server). */
async function call(method, path, body, accept = 'application/json', signal = undefined) {
  const headers = { Accept: accept };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (chat?.token) headers['Parley-Visitor-Token'] = chat.token;
  const response = await fetch(`/api/v1/public/${path}`, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal,
  });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try { message = (await response.json()).error?.message ?? message; } catch { /* keep the status line */ }
    const error = new Error(message);
    error.status = response.status;
    error.retryAfter = Number(response.headers.get('retry-after')) || null;
    throw error;
  }
  return response;
}

function status(text) { byId('visitor-status').textContent = text; }

function explain(error) {
  if (error.status === 429) return `Too many questions at once: try again in ${error.retryAfter ?? 'a few'} s.`;
  if (!error.status) return 'The assistant cannot be reached. Check the connection and try again.';
  return error.message;
}

/** Shows or updates one message. */
function show(message) {
  let view = views.get(message.id);
  if (!view) {
    view = { element: h('article', { class: `turn ${message.role}`, 'data-id': message.id }), text: '' };
    views.set(message.id, view);
    byId('visitor-log').append(view.element);
  }
  view.message = { ...view.message, ...message };
  view.text = message.content ?? view.text;
  render(view);
  byId('visitor-log').scrollTop = byId('visitor-log').scrollHeight;
}

function render(view) {
  const { element, message } = view;
  element.replaceChildren();
  if (message.role === 'user') {
    element.textContent = view.text;
    return;
  }
  const body = h('div', { class: 'answer' });
  renderMarkdown(body, view.text || (message.status === 'streaming' ? '…' : ''));
  element.append(body);
  if (message.error) element.append(h('p', { class: 'failed' }, message.error));
  if (message.status === 'streaming') return;
  element.append(...sourceList(message));
  if (message.unanswered && !byId('handoff-form').dataset.sent) {
    element.append(h('p', { class: 'offer' }, 'The documents did not answer this.',
      h('button', { type: 'button', class: 'secondary', onclick: openHandoff }, 'Talk to a person')));
  }
  if (message.status === 'complete') element.append(rating(view));
}

function rating(view) {
  const rate = (value) => async () => {
    try {
      await call('PUT', `chats/${chat.id}/messages/${view.message.id}/feedback`, { rating: value });
      view.message.rating = value;
      render(view);
      status('Thanks for the feedback.');
    } catch (error) { status(explain(error)); }
  };
  const current = view.message.rating;
  return h('div', { class: 'turn-tools' },
    h('button', { type: 'button', 'aria-label': 'Helpful', 'aria-pressed': String(current === 1), onclick: rate(1) }, '👍'),
    h('button', { type: 'button', 'aria-label': 'Not helpful', 'aria-pressed': String(current === -1), onclick: rate(-1) }, '👎'));
}

async function restore() {
  if (!chat) return;
  try {
    const state = await (await call('GET', `chats/${chat.id}`)).json();
    for (const message of state.data) show(message);
    if (state.handoff_requested) byId('handoff-form').dataset.sent = '1';
    // An answer still being written (the page was reloaded mid-answer): follow it from its start.
    const running = state.data.find((message) => message.status === 'streaming');
    if (running) await reattach(running.id, null);
  } catch (error) {
    if (error.status === 404 || error.status === 401) save(null);
    else status(explain(error));
  }
}

/** Shows an answer's events as they come, keeping in `progress` the last event's id and whether the answer ended
 * (kept also when the connection drops half-way). */
async function follow(response, progress) {
  await readEvents(response, ({ id, type, data }) => {
    if (id !== null) progress.last = id;
    if (type === 'message' || type === 'done') show(data);
    else if (type === 'delta') {
      const view = views.get(data.message_id);
      if (view) { view.text += data.content; render(view); }
    } else if (type === 'error') show({ ...data.message, error: data.error?.message });
    if (type === 'done' || type === 'error') progress.ended = true;
  });
}

/** Reattaches to an answer after the last event seen (null: from its start) until it ends, waiting a little longer
 * each time the connection drops; the server kept writing it meanwhile. */
async function reattach(answerId, lastEventId) {
  const progress = { last: lastEventId, ended: false };
  for (let attempt = 1; attempt <= 6; attempt++) {
    try {
      const query = progress.last === null ? '' : `?last_event_id=${progress.last}`;
      const response = await call('GET', `chats/${chat.id}/messages/${answerId}/events${query}`, undefined, 'text/event-stream',
        streaming?.signal);
      await follow(response, progress);
      if (progress.ended) return;
    } catch (error) {
      if (error.name === 'AbortError' || error.status) throw error;
    }
    await new Promise((resolve) => { setTimeout(resolve, 500 * attempt); });
  }
  status('The answer stopped arriving. Reload the page to see it.');
}

async function ask(event) {
  event.preventDefault();
  const input = byId('visitor-input');
  const content = input.value.trim();
  if (!content || streaming) return;
  streaming = new AbortController();
  setBusy(true);
  status('');
  try {
    if (!chat) {
      const started = await (await call('POST', `assistants/${slug}/chats`)).json();
      save({ id: started.id, token: started.token });
    }
    const response = await call('POST', `chats/${chat.id}/messages`, { content }, 'text/event-stream', streaming.signal);
    input.value = '';
    const answerId = response.headers.get('X-Parley-Message-Id');
    const progress = { last: null, ended: false };
    try {
      await follow(response, progress);
    } catch (error) {
      if (error.name === 'AbortError' || !answerId) throw error; // a dropped connection: reattached below
    }
    if (!progress.ended) {
      if (answerId) await reattach(answerId, progress.last); else await restore();
    }
  } catch (error) {
    if (error.name !== 'AbortError') {
      if (error.status === 404) save(null);
      status(explain(error));
    }
  } finally {
    streaming = null;
    setBusy(false);
  }
}

async function stop() {
  const running = [...views.values()].find((view) => view.message.status === 'streaming');
  streaming?.abort();
  if (!running || !chat) return;
  try { show(await (await call('POST', `chats/${chat.id}/messages/${running.message.id}/stop`)).json()); } catch { /* it ended */ }
}

function setBusy(busy) {
  byId('visitor-send').disabled = busy;
  byId('visitor-stop').hidden = !busy;
}

function openHandoff() {
  const form = byId('handoff-form');
  form.hidden = false;
  byId('handoff-email').focus();
}

async function sendHandoff(event) {
  event.preventDefault();
  try {
    if (!chat) {
      const started = await (await call('POST', `assistants/${slug}/chats`)).json();
      save({ id: started.id, token: started.token });
    }
    const handoff = await (await call('POST', `chats/${chat.id}/handoff`, {
      email: byId('handoff-email').value, note: byId('handoff-note').value,
    })).json();
    const form = byId('handoff-form');
    form.hidden = true;
    form.dataset.sent = '1';
    status(`Thanks: someone will write to ${handoff.email}.`);
    for (const view of views.values()) render(view);
  } catch (error) { status(explain(error)); }
}

async function start() {
  try {
    const assistant = await (await call('GET', `assistants/${slug}`)).json();
    document.title = assistant.name;
    byId('assistant-name').textContent = assistant.name;
    byId('assistant-description').textContent = assistant.description;
  } catch (error) {
    byId('assistant-name').textContent = error.status === 404 ? 'This assistant is not available' : 'Assistant';
    byId('visitor-composer').hidden = true;
    byId('ask-person').hidden = true;
    status(error.status === 404 ? '' : explain(error));
    return;
  }
  byId('visitor-composer').addEventListener('submit', ask);
  byId('visitor-input').addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) byId('visitor-composer').requestSubmit();
  });
  byId('visitor-stop').addEventListener('click', stop);
  byId('ask-person').addEventListener('click', openHandoff);
  byId('handoff-cancel').addEventListener('click', () => { byId('handoff-form').hidden = true; });
  byId('handoff-form').addEventListener('submit', sendHandoff);
  await restore();
  byId('visitor-input').focus();
}

start();
