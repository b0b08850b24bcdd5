// The REST API, and answers streamed as server-sent events read from fetch (EventSource cannot POST).

const base = '/api/v1';

/** An error the API answered with, or a network failure (status 0). */
export class ApiError extends Error {
  constructor(status, type, message, retryAfterMs = null, code = null) {
    super(message);
    this.status = status;
    this.type = type;
    this.retryAfterMs = retryAfterMs;
    this.code = code;
  }

  /** A sentence for people: what happened and, for rate limits, when to try again. */
  get explanation() {
    if (this.status === 0) return 'Parley cannot be reached. Check the connection and try again.';
    if (this.status === 429) {
      const seconds = Math.max(1, Math.ceil((this.retryAfterMs ?? 1000) / 1000));
      return `Rate limit reached: you can send again in ${seconds} s.`;
    }
    if (this.status === 503) return `Parley is busy or cannot reach its database: ${this.message}`;
    return this.message;
  }
}

async function errorFrom(response) {
  let type = 'http_error';
  let message = `${response.status} ${response.statusText}`;
  let code = null;
  try {
    const body = await response.json();
    if (body?.error) ({ type, message, code = null } = body.error);
  } catch { /* not JSON: keep the status line */ }
  let retryAfterMs = null;
  const precise = Number(response.headers.get('retry-after-ms'));
  const seconds = Number(response.headers.get('retry-after'));
  if (precise > 0) retryAfterMs = precise;
  else if (seconds > 0) retryAfterMs = seconds * 1000;
  return new ApiError(response.status, type, message, retryAfterMs, code);
}

let csrfToken = null;
let signInAgain = null;

/** The session's CSRF token, sent with every request that changes something. */
export function setCsrfToken(token) { csrfToken = token; }

/** What to do when the session has ended: `handler` resolves once the user has signed in again. */
export function onSignedOut(handler) { signInAgain = handler; }

/**
 * Fetches; resolves with an OK response or rejects with an ApiError (status 0 when the network failed).
 * A 401 (the session ended) asks the user to sign in again and then repeats the request once, so nothing on
 * the page is lost: not the open conversation, not the message being written.
 */
async function request(path, init = {}, repeated = false) {
  const method = (init.method ?? 'GET').toUpperCase();
  const headers = { ...init.headers };
  if (csrfToken && method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = csrfToken;
  let response;
  try {
    response = await fetch(base + path, { ...init, headers, credentials: 'same-origin' });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, 'network', String(error.message || error));
  }
  if (response.status === 401 && signInAgain && !repeated && !path.startsWith('/auth/')) {
    await signInAgain();
    return request(path, init, true);
  }
  if (!response.ok) throw await errorFrom(response);
  return response;
}

/** Calls the API; resolves with the JSON body (null for 204) or rejects with an ApiError. */
export async function api(method, path, body, init = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await request(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body), ...init,
  });
  return response.status === 204 ? null : response.json();
}

/**
 * Reads a `text/event-stream` body, calling onEvent({id, type, data}) with data parsed as JSON.
 * Resolves when the stream ends (whether or not it ended cleanly: the caller knows by the events it saw).
 */
export async function readEvents(response, onEvent) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let event = { id: null, type: 'message', data: [] };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let start = 0;
    let end;
    while ((end = buffer.indexOf('\n', start)) >= 0) {
      let line = buffer.slice(start, end);
      start = end + 1;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line === '') {
        if (event.data.length) {
          let data;
          try { data = JSON.parse(event.data.join('\n')); } catch { data = null; }
          if (data) onEvent({ id: event.id === null ? null : Number(event.id), type: event.type, data });
        }
        event = { id: null, type: 'message', data: [] };
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'id') event.id = value;
      else if (field === 'event') event.type = value;
      else if (field === 'data') event.data.push(value);
    }
    buffer = buffer.slice(start);
  }
}

/** Uploads a file to a knowledge base as the request body; resolves with {document, duplicate}. */
export async function uploadDocument(baseId, file) {
  const response = await request(`/knowledge-bases/${baseId}/documents?name=${encodeURIComponent(file.name)}`, {
    method: 'POST', headers: { 'Content-Type': file.type || 'application/octet-stream', Accept: 'application/json' }, body: file,
  });
  return response.json();
}

/** Uploads a file or image to attach to a message; resolves with the attachment. */
export async function uploadAttachment(file, name) {
  const response = await request(`/attachments?name=${encodeURIComponent(name)}`, {
    method: 'POST', headers: { 'Content-Type': 'application/octet-stream', Accept: 'application/json' }, body: file,
  });
  return response.json();
}

/** Imports another app's export file (sent as the body); resolves with the report. */
export async function importChats(file) {
  const response = await request('/imports', {
    method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: file,
  });
  return response.json();
}

/** Posts a message; resolves with the streaming response or rejects with an ApiError. */
export function postMessage(conversationId, body, signal) {
  return request(`/conversations/${conversationId}/messages`, {
    method: 'POST',
    headers: { Accept: 'text/event-stream', 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  });
}

/** Continues an answer where it stopped; its events stream as a posted message's do. */
export function continueAnswer(messageId, signal) {
  return request(`/messages/${messageId}/continue`, { method: 'POST', headers: { Accept: 'text/event-stream' }, signal });
}

/** Reattaches to an answer: the events after lastEventId (all of them when null), then live ones. */
export function messageEvents(messageId, lastEventId, signal) {
  const headers = { Accept: 'text/event-stream' };
  if (lastEventId !== null && lastEventId !== undefined) headers['Last-Event-ID'] = String(lastEventId);
  return request(`/messages/${messageId}/events`, { headers, signal });
}
