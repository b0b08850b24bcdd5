// The open conversation: history paged from the newest (or around a search hit, then both ways), answers
// streamed as they are generated, reattached after a dropped connection or a reload, and the composer.
import { api, postMessage, continueAnswer as postContinue, messageEvents, readEvents } from './api.js';
import { byId } from './dom.js';
import { MessageView } from './message-view.js';
import { ScrollKeeper } from './scroll-keeper.js';
import { ComposerAttachments } from './attachments.js';

const pageSize = 50;
const aroundHit = 25; // messages read on each side of a message opened from search
const autoSizing = CSS.supports('field-sizing', 'content');

export class Chat {
  /** @param hooks {created(conversation), changed(conversation), newConversationBody(), latestShown(id)} */
  constructor(hooks) {
    this.hooks = hooks;
    this.conversation = null;
    this.views = new Map();
    this.scroller = byId('messages');
    this.list = byId('message-list');
    this.input = byId('composer-input');
    this.sendButton = byId('send');
    this.stopButton = byId('stop');
    this.errorBox = byId('chat-error');
    this.jumpButton = byId('jump-latest');
    this.scroll = new ScrollKeeper(this.scroller, this.list, this.jumpButton, () => this.atNewest);
    this.attached = new ComposerAttachments((text) => this.showError(text));
    this.session = new AbortController(); // aborted when another conversation opens
    this.streams = new Set(); // ids of answers being followed
    this.hasMore = false;
    this.nextBefore = null;
    this.nextAfter = null; // set while the newest messages are not on screen (opened at a search hit)
    this.loading = new Set(); // 'older', 'newer': pages being loaded

    byId('composer').addEventListener('submit', (event) => { event.preventDefault(); this.submit(); });
    this.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) { event.preventDefault(); this.submit(); }
    });
    this.input.addEventListener('input', () => this.fitInput());
    this.stopButton.addEventListener('click', () => this.stop());
    this.jumpButton.addEventListener('click', () => this.showLatest());
    this.olderObserver = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) this.loadMore('older');
    }, { root: this.scroller, rootMargin: '400px 0px 0px 0px' });
    this.olderObserver.observe(byId('history-status'));
    this.newerObserver = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) this.loadMore('newer');
    }, { root: this.scroller, rootMargin: '0px 0px 400px 0px' });
    this.newerObserver.observe(byId('newer-status'));
    window.addEventListener('online', () => this.resumeStreams());
    this.fitInput();
  }

  /** True when the newest messages are on screen (new answers appear there, and the view may follow them). */
  get atNewest() { return this.nextAfter === null; }

  /**
   * Shows a conversation (null: a new, empty chat): its newest messages, or with `at` (a message index, from a
   * search hit) the messages around that one, with older and newer ones loaded as the user scrolls.
   */
  async open(id, at = null) {
    this.session.abort();
    this.session = new AbortController();
    this.streams.clear();
    this.views.clear();
    this.list.replaceChildren();
    this.hideError();
    this.conversation = null;
    this.hasMore = false;
    this.nextBefore = null;
    this.nextAfter = null;
    byId('newer-status').textContent = '';
    this.scroll.reset(at === null);
    this.updateComposer();
    byId('empty-state').hidden = id !== null;
    if (id === null) return null;
    const session = this.session;
    byId('history-status').textContent = 'Loading…';
    try {
      const read = (query) => api('GET', `/conversations/${id}/messages?${query}`, undefined, { signal: session.signal });
      const [conversation, page, newer] = await Promise.all([
        api('GET', `/conversations/${id}`, undefined, { signal: session.signal }),
        at === null ? read(`limit=${pageSize}`) : read(`limit=${aroundHit}&before=${at + 1}`),
        at === null ? null : read(`limit=${aroundHit}&after=${at}`),
      ]);
      if (session.signal.aborted) return null;
      this.conversation = conversation;
      this.showPage(page, 'first');
      if (newer) {
        this.showPage(newer, 'newer');
        for (const view of this.views.values()) view.renderActions(); // the newest answer may not be on screen
      }
      byId('empty-state').hidden = this.views.size > 0;
      const found = at === null ? null : [...this.views.values()].find((view) => view.index === at);
      if (found) {
        this.scroll.pin(found.element);
        found.element.classList.add('found');
      } else if (this.atNewest) {
        this.scroll.follow();
      } else {
        this.scroll.toBottomOnly();
      }
      for (const view of this.views.values()) if (view.isStreaming) this.follow(view.id, null);
      this.updateComposer();
      return conversation;
    } catch (error) {
      if (error.name === 'AbortError') return null;
      byId('history-status').textContent = '';
      this.showError(error.status === 404 ? 'This conversation does not exist (it may have been deleted).' : error.explanation);
      throw error;
    }
  }

  /** Puts a page of history on screen: an older page above what is shown, the first or a newer one below. */
  showPage(page, place) {
    if (place === 'newer') {
      this.nextAfter = page.has_more ? page.next_after : null;
      byId('newer-status').textContent = this.atNewest ? '' : 'Loading newer messages…';
    } else {
      this.hasMore = page.has_more;
      this.nextBefore = page.next_before;
      byId('history-status').textContent = this.hasMore ? 'Loading older messages…' : '';
    }
    const fragment = document.createDocumentFragment();
    for (const message of page.data) {
      if (this.views.has(message.id)) continue;
      const view = new MessageView(message, this);
      this.views.set(message.id, view);
      fragment.append(view.element);
    }
    if (place === 'older') {
      this.list.prepend(fragment);
    } else {
      this.list.append(fragment);
      // Views are made before they are on screen; the newest answer learns now that it is the newest.
      const newest = [...this.list.querySelectorAll('.message.assistant')].pop();
      if (newest) this.views.get(newest.dataset.id)?.renderActions();
    }
  }

  /**
   * Loads the next page of history beyond what is shown: `older` above it (keeping what is shown in place), or
   * `newer` below it while the newest messages are not on screen. Goes on while the screen has room.
   */
  async loadMore(place) {
    const older = place === 'older';
    if (!(older ? this.hasMore : !this.atNewest) || this.loading.has(place) || !this.conversation) return;
    this.loading.add(place);
    const session = this.session;
    try {
      const query = older ? `before=${this.nextBefore}` : `after=${this.nextAfter}`;
      const page = await api('GET', `/conversations/${this.conversation.id}/messages?limit=${pageSize}&${query}`,
        undefined, { signal: session.signal });
      if (session.signal.aborted) return;
      if (older) this.scroll.keepingPlace(() => this.showPage(page, place)); else this.showPage(page, place);
      for (const message of page.data) if (this.views.get(message.id)?.isStreaming) this.follow(message.id, null);
    } catch (error) {
      if (error.name !== 'AbortError') {
        byId(older ? 'history-status' : 'newer-status').textContent =
          `${older ? 'Older' : 'Newer'} messages could not be loaded: ${error.explanation}`;
      }
    } finally {
      this.loading.delete(place);
    }
    // A short page may leave the sentinel in view: keep loading until the screen is full.
    const room = older ? this.scroller.scrollTop : this.scroll.distanceToBottom;
    if (!session.signal.aborted && room < 400) requestAnimationFrame(() => this.loadMore(place));
  }

  /** Brings the newest messages on screen and follows them. */
  async showLatest() {
    if (!this.atNewest && this.conversation) {
      const id = this.conversation.id;
      await this.open(id);
      this.hooks.latestShown(id);
    }
    this.scroll.follow();
    this.input.focus();
  }

  /** Grows the message box with its text, up to a limit (CSS does it where `field-sizing` is supported). */
  fitInput() {
    if (autoSizing) return;
    if (!this.input.value) { // no need to measure (measuring forces a layout)
      this.input.style.height = '';
      this.input.style.overflowY = 'hidden';
      return;
    }
    this.input.style.height = 'auto';
    this.input.style.height = `${Math.min(this.input.scrollHeight + 2, 240)}px`;
    this.input.style.overflowY = this.input.scrollHeight > 238 ? 'auto' : 'hidden';
  }

  submit() {
    const content = this.input.value;
    if ((!content.trim() && !this.attached.count) || this.isBusy() || this.sendButton.disabled) return;
    if (this.attached.uploading) { this.showError('Wait a moment: an attachment is still uploading.'); return; }
    this.send(content, null);
  }

  /** Sends a message, or replaces `replaced` (a user message view) and what follows it. */
  async send(content, replaced) {
    const fromComposer = replaced === null;
    if (fromComposer) { this.input.value = ''; this.fitInput(); }
    // A new message goes after the newest one, so that is what must be on screen.
    if (fromComposer && !this.atNewest) await this.showLatest();
    this.hideError();
    const session = this.session;
    let conversation = this.conversation;
    try {
      if (!conversation) {
        conversation = await api('POST', '/conversations', this.hooks.newConversationBody());
        this.conversation = conversation;
        this.hooks.created(conversation);
      }
    } catch (error) {
      if (fromComposer) { this.input.value = content; this.fitInput(); }
      this.showError(error.explanation);
      return;
    }
    // Replaced messages leave the screen at once (kept on the server as an earlier version), and come back if the
    // server refuses.
    const removed = replaced ? [...this.views.values()].filter((view) => view.index >= replaced.index) : [];
    for (const view of removed) { view.element.remove(); this.views.delete(view.id); }
    // What follows a replaced message goes, so what is left on screen ends at the newest.
    const nextAfter = this.nextAfter;
    if (replaced) { this.nextAfter = null; byId('newer-status').textContent = ''; }
    const body = { content };
    if (replaced) body.replaces = replaced.id;
    if (fromComposer && this.attached.count) body.attachments = this.attached.ids;
    // The new message is one more version of the replaced one.
    const versions = replaced ? [...(replaced.message.siblings ?? [replaced.id])] : null;
    const pending = { active: true };
    this.pending = pending;
    this.updateComposer();
    let response;
    try {
      response = await postMessage(conversation.id, body, session.signal);
    } catch (error) {
      this.pending = null;
      if (error.name === 'AbortError') return;
      if (removed.length && !(error.status >= 400 && error.status < 500)) {
        // Not a refusal (a network or server failure): show what the server holds rather than guess.
        await this.open(conversation.id).then(() => this.hooks.latestShown(conversation.id), () => {});
      } else {
        // Refused (4xx): nothing changed on the server, so the replaced messages come back.
        for (const view of removed) { this.views.set(view.id, view); this.insertInOrder(view); }
        this.showPage({ data: [], has_more: nextAfter !== null, next_after: nextAfter }, 'newer');
      }
      if (fromComposer) { this.input.value = content; this.fitInput(); }
      this.showError(error.explanation, error.status === 429 ? error.retryAfterMs : null);
      this.updateComposer();
      // An edit that could not be sent stays in its edit box.
      const edited = replaced && this.views.get(replaced.id);
      if (edited?.startEditing && content !== edited.message.content) edited.startEditing(content);
      return;
    }
    if (body.attachments) this.attached.clear();
    this.scroll.follow();
    const assistantId = response.headers.get('X-Parley-Message-Id');
    byId('empty-state').hidden = true;
    this.pending = null;
    await this.consume(response, assistantId, session);
    const answer = this.views.get(assistantId);
    const question = answer && this.views.get(answer.message.parent_id);
    if (versions && question) question.update({ siblings: [...versions, question.id] });
    if (!session.signal.aborted) {
      const refreshed = await this.refreshConversation();
      if (refreshed?.message_count === 2) this.awaitTitle(refreshed);
    }
  }

  /** After the first answer a model may name the conversation in the background: looks again a few times. */
  awaitTitle(conversation) {
    for (const delay of [1000, 3000, 8000]) {
      setTimeout(() => {
        if (this.conversation?.id === conversation.id && this.conversation.title === conversation.title) this.refreshConversation();
      }, delay);
    }
  }

  /** Reads an answer's events; if the stream breaks before the answer ends, reattaches. */
  async consume(response, assistantId, session) {
    const state = { lastEventId: null, finished: false };
    this.streams.add(assistantId);
    this.updateComposer();
    try {
      await readEvents(response, (event) => this.apply(event, state));
    } catch (error) {
      if (error.name === 'AbortError' || session.signal.aborted) return;
    }
    if (!state.finished && !session.signal.aborted) await this.follow(assistantId, state.lastEventId);
    else this.finishStream(assistantId);
  }

  /** Follows an answer through `GET /messages/{id}/events`, reattaching with backoff until it ends. */
  async follow(messageId, lastEventId) {
    const session = this.session;
    const state = { lastEventId, finished: false };
    this.streams.add(messageId);
    this.updateComposer();
    let delay = 500;
    while (!state.finished && !session.signal.aborted) {
      try {
        const response = await messageEvents(messageId, state.lastEventId, session.signal);
        delay = 500;
        await readEvents(response, (event) => this.apply(event, state));
      } catch (error) {
        if (error.name === 'AbortError' || session.signal.aborted) return;
        if (error.status === 404) break; // deleted meanwhile
        if (error.status >= 400 && error.status < 500) { this.showError(error.explanation); break; }
        this.showError('Connection lost while answering; reconnecting…');
      }
      if (state.finished || session.signal.aborted) break;
      // A replica that shuts down says so: reconnect at once (the load balancer picks another).
      if (state.reattach) { state.reattach = false; continue; }
      await new Promise((resolve) => { this.wake = resolve; setTimeout(resolve, delay); });
      delay = Math.min(delay * 2, 8000);
    }
    if (!session.signal.aborted) {
      if (state.finished) this.hideError();
      this.finishStream(messageId);
    }
  }

  finishStream(messageId) {
    this.streams.delete(messageId);
    this.updateComposer();
    for (const view of this.views.values()) view.renderActions();
  }

  resumeStreams() { this.wake?.(); }

  /** Applies one event of an answer's stream to the screen. */
  apply(event, state) {
    if (event.id !== null) state.lastEventId = event.id;
    const data = event.data;
    switch (event.type) {
      case 'message': this.upsert(data); break;
      case 'delta': this.views.get(data.message_id)?.appendDelta(data.content); break;
      case 'reasoning': this.views.get(data.message_id)?.appendReasoning(data.content); break;
      case 'done': this.upsert(data); state.finished = true; break;
      case 'reattach': state.reattach = true; break;
      case 'error':
        this.upsert({ ...data.message, error: data.message?.error ?? data.error?.message });
        state.finished = true;
        break;
      default: break;
    }
  }

  upsert(message) {
    if (!message?.id || (this.conversation && message.conversation_id && message.conversation_id !== this.conversation.id)) return;
    let view = this.views.get(message.id);
    if (view) {
      view.update(message);
      return;
    }
    view = new MessageView(message, this);
    this.views.set(message.id, view);
    this.insertInOrder(view);
    byId('empty-state').hidden = true;
  }

  insertInOrder(view) {
    let next = null;
    for (const element of this.list.children) {
      if (Number(element.dataset.index) > view.index) { next = element; break; }
    }
    this.list.insertBefore(view.element, next);
  }

  isBusy() { return this.streams.size > 0 || Boolean(this.pending); }

  /** True for the newest answer on screen (the one that can be regenerated). */
  isLatestAnswer(view) {
    if (!this.atNewest) return false;
    for (let element = this.list.lastElementChild; element; element = element.previousElementSibling) {
      if (element.classList.contains('assistant')) return element === view.element;
    }
    return false;
  }

  updateComposer() {
    const busy = this.isBusy();
    this.sendButton.hidden = busy;
    this.stopButton.hidden = !busy || Boolean(this.pending);
    for (const view of this.views.values()) if (view.message.role === 'user') view.renderActions();
  }

  async stop() {
    const ids = [...this.streams];
    try {
      await Promise.all(ids.map((id) => api('POST', `/messages/${id}/stop`)));
    } catch (error) {
      this.showError(`Could not stop the answer: ${error.explanation}`);
    }
    this.input.focus();
  }

  /** Asks again for an answer: its user message is replaced by itself. */
  async regenerate(view) {
    let parent = this.views.get(view.message.parent_id);
    if (!parent) {
      try {
        const message = await api('GET', `/messages/${view.message.parent_id}`);
        parent = { id: message.id, index: message.index, message };
      } catch (error) {
        this.showError(error.explanation);
        return;
      }
    }
    await this.send(parent.message.content, parent);
  }

  edit(view, content) { return this.send(content, view); }

  /** Makes the branch through a message (another version of one on screen) the one shown and continued. */
  async switchBranch(messageId) {
    if (!this.conversation) return;
    if (this.isBusy()) {
      this.showError('Stop the answer, or let it finish, before switching to another version.');
      return;
    }
    const id = this.conversation.id;
    this.hideError();
    try {
      const page = await api('POST', `/conversations/${id}/branch`, { message_id: messageId });
      const shown = page.data.find((message) => message.id === messageId);
      await this.open(id, shown ? shown.index : null);
    } catch (error) {
      if (error.name !== 'AbortError') this.showError(error.explanation);
    }
  }

  /** Has the model write on where an answer stopped, into the same message. */
  async continueAnswer(view) {
    const session = this.session;
    this.hideError();
    this.pending = { active: true };
    this.updateComposer();
    let response;
    try {
      response = await postContinue(view.id, session.signal);
    } catch (error) {
      this.pending = null;
      this.updateComposer();
      if (error.name !== 'AbortError') this.showError(error.explanation, error.status === 429 ? error.retryAfterMs : null);
      return;
    }
    this.pending = null;
    this.scroll.follow();
    await this.consume(response, view.id, session);
  }

  /** The text of the newest answer on screen, or null. */
  lastAnswerText() {
    const answers = [...this.views.values()].filter((view) => view.message.role === 'assistant');
    answers.sort((a, b) => a.index - b.index);
    return answers.at(-1)?.message.content || null;
  }

  async refreshConversation() {
    if (!this.conversation) return;
    try {
      const conversation = await api('GET', `/conversations/${this.conversation.id}`);
      if (this.conversation?.id !== conversation.id) return;
      this.conversation = conversation;
      this.hooks.changed(conversation);
      return conversation;
    } catch { return null; /* the next action will show the problem */ }
  }

  showError(text, retryAfterMs = null) {
    clearInterval(this.countdown);
    this.errorBox.hidden = false;
    if (retryAfterMs) {
      const until = Date.now() + retryAfterMs;
      const tick = () => {
        const seconds = Math.ceil((until - Date.now()) / 1000);
        if (seconds <= 0) {
          clearInterval(this.countdown);
          this.sendButton.disabled = false;
          this.errorBox.textContent = 'You can send again now.';
          return;
        }
        this.sendButton.disabled = true;
        this.errorBox.textContent = `Rate limit reached: you can send again in ${seconds} s.`;
      };
      tick();
      this.countdown = setInterval(tick, 1000);
    } else {
      this.errorBox.textContent = text;
    }
  }

  hideError() {
    clearInterval(this.countdown);
    this.sendButton.disabled = false;
    this.errorBox.hidden = true;
    this.errorBox.textContent = '';
  }
}
