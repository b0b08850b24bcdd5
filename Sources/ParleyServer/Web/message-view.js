// One message on screen: author, model and time; a reasoning model's reasoning, collapsed above the answer; the
// text (markdown for answers, plain text for the user's); status; and its actions — copy, edit, regenerate, retry, feedback.
import { h, icon, shortTime, fullTime, copyText, toast } from './dom.js';
import { renderMarkdown } from './markdown.js';
import { api } from './api.js';
import { linkCitations, sourceList } from './citations.js';
import { attachmentList } from './attachments.js';

const statusLabels = {
  streaming: 'Answering…',
  cancelled: 'Stopped',
  error: 'Failed',
  interrupted: 'Interrupted',
};

export class MessageView {
  /**
   * @param message the message as the API returns it
   * @param chat callbacks: edit(view, content), regenerate(view), switchBranch(messageId), isLatestAnswer(view), isBusy()
   */
  constructor(message, chat) {
    this.message = message;
    this.chat = chat;
    this.renderScheduled = false;
    this.body = h('div', { class: message.role === 'user' ? 'message-body plain' : 'message-body markdown' });
    this.head = h('div', { class: 'message-head' });
    this.reasoningSummary = h('summary');
    this.reasoningBody = h('div', { class: 'reasoning-body' });
    this.reasoning = h('details', { class: 'reasoning', hidden: true }, this.reasoningSummary, this.reasoningBody);
    this.error = h('p', { class: 'message-error', hidden: true });
    this.actions = h('div', { class: 'message-actions', role: 'group', 'aria-label': 'Message actions' });
    this.extra = h('div', { class: 'message-extra' });
    this.sources = h('div', { class: 'message-sources' });
    this.attachments = h('div', { class: 'message-attached' });
    this.element = h('li', { class: `message ${message.role}` }, this.head, this.reasoning, this.body, this.attachments, this.sources,
      this.error, this.actions, this.extra);
    this.update(message);
  }

  get id() { return this.message.id; }
  get index() { return this.message.index; }
  get isStreaming() { return this.message.status === 'streaming'; }

  /** Shows the message as stored (a `message`, `done` or `error` event, or a page of history). */
  update(message) {
    this.message = { ...this.message, ...message };
    const m = this.message;
    this.element.dataset.id = m.id;
    this.element.dataset.index = m.index;
    this.element.dataset.status = m.status;
    this.element.setAttribute('aria-busy', m.status === 'streaming' ? 'true' : 'false');
    this.renderHead();
    this.renderBody();
    this.attachments.replaceChildren(...(m.attachments?.length ? [attachmentList(m.attachments)] : []));
    const failed = m.status === 'error' || m.status === 'interrupted';
    this.error.hidden = !(failed && m.error);
    this.error.textContent = m.error ? `Error: ${m.error}` : '';
    this.renderActions();
  }

  /** Adds streamed text; the screen catches up once per frame. */
  appendDelta(text) {
    if (this.reasoningStarted && !this.reasoningEnded) this.reasoningEnded = performance.now();
    this.message.content += text;
    this.scheduleRender();
  }

  /** Adds streamed reasoning, shown apart from the answer. */
  appendReasoning(text) {
    this.reasoningStarted ??= performance.now();
    this.message.reasoning = (this.message.reasoning ?? '') + text;
    this.scheduleRender();
  }

  scheduleRender() {
    if (this.renderScheduled) return;
    this.renderScheduled = true;
    requestAnimationFrame(() => {
      this.renderScheduled = false;
      this.renderBody();
    });
  }

  renderReasoning() {
    const m = this.message;
    this.reasoning.hidden = !m.reasoning;
    if (!m.reasoning) return;
    const localMs = this.reasoningStarted && this.reasoningEnded ? this.reasoningEnded - this.reasoningStarted : null;
    const ms = m.reasoning_ms ?? localMs;
    const thinking = m.status === 'streaming' && ms === null;
    this.reasoningSummary.textContent = thinking ? 'Thinking…' : ms === null ? 'Reasoning' : `Thought for ${(ms / 1000).toFixed(1)} s`;
    this.reasoning.classList.toggle('thinking', thinking);
    this.reasoningBody.textContent = m.reasoning;
  }

  renderBody() {
    this.renderReasoning();
    if (this.editing) return;
    if (this.message.role === 'user') { this.body.textContent = this.message.content; return; }
    renderMarkdown(this.body, this.message.content);
    const sources = this.message.sources;
    if (!sources) return;
    linkCitations(this.body, sources);
    const list = sourceList(sources, this.message.content);
    this.sources.replaceChildren(...(list ? [list] : []));
  }

  renderHead() {
    const m = this.message;
    const parts = [h('span', { class: 'author', text: m.role === 'user' ? 'You' : 'Assistant' })];
    if (m.siblings?.length > 1) parts.push(this.versions(m.siblings));
    if (m.role === 'assistant' && m.model) parts.push(h('span', { class: 'model', text: m.model }));
    const sampling = Object.entries(m.parameters ?? {}).map(([name, value]) => `${name.replace('_', ' ')} ${value}`);
    if (sampling.length) parts.push(h('span', { class: 'parameters', text: sampling.join(' · ') }));
    if (m.cache === 'hit') parts.push(h('span', { class: 'cache-hit', title: 'Answered from the response cache', text: 'cached' }));
    const details = [fullTime(m.created_at)];
    if (m.latency_ms) details.push(`${(m.latency_ms / 1000).toFixed(1)} s`);
    if (m.usage) details.push(`${m.usage.total_tokens} tokens`);
    parts.push(h('time', { datetime: m.created_at, title: details.join(' · '), text: shortTime(m.created_at) }));
    if (statusLabels[m.status]) parts.push(h('span', { class: `status status-${m.status}`, text: statusLabels[m.status] }));
    this.head.replaceChildren(...parts);
  }

  /** `‹ 2/3 ›`: which version of the message this is, with buttons to switch to the one before or after. */
  versions(siblings) {
    const at = siblings.indexOf(this.message.id);
    const step = (offset, label, symbol) => {
      const target = siblings[at + offset];
      const button = h('button', { type: 'button', class: 'link-button', 'aria-label': label, title: label,
        onclick: () => this.chat.switchBranch(target) }, symbol);
      button.disabled = target === undefined;
      return button;
    };
    return h('span', { class: 'versions', role: 'group', 'aria-label': 'Versions' },
      step(-1, 'Previous version', '‹'), h('span', { class: 'version-count', text: `${at + 1}/${siblings.length}` }),
      step(1, 'Next version', '›'));
  }

  renderActions() {
    const m = this.message;
    const buttons = [];
    if (m.status !== 'streaming') {
      buttons.push(this.button('Copy', 'Copy message', () => copyText(m.content)));
    }
    if (m.role === 'user' && !this.chat.isBusy()) {
      buttons.push(this.button('Edit', 'Edit message and send again', () => this.startEditing()));
    }
    if (m.role === 'assistant' && m.status !== 'streaming' && this.chat.isLatestAnswer(this)) {
      const failed = m.status === 'error' || m.status === 'interrupted';
      buttons.push(this.button(failed ? 'Retry' : 'Regenerate', failed ? 'Retry this answer' : 'Regenerate this answer',
        () => this.chat.regenerate(this)));
      // Cut at the output limit, or stopped part-way with text to build on.
      if (m.content && (m.finish_reason === 'length' || m.status !== 'complete')) {
        buttons.push(this.button('Continue', 'Continue this answer where it stopped', () => this.chat.continueAnswer(this)));
      }
    }
    if (m.role === 'assistant' && m.status !== 'streaming') {
      const rating = m.feedback?.rating ?? 0;
      buttons.push(this.toggle(icon('thumb'), 'Good answer', rating === 1, () => this.rate(rating === 1 ? 0 : 1)));
      buttons.push(this.toggle(icon('thumb', 'down'), 'Bad answer', rating === -1, () => this.rate(rating === -1 ? 0 : -1)));
      if (rating !== 0) buttons.push(this.button(m.feedback?.comment ? 'Edit comment' : 'Comment', 'Comment on this answer', () => this.openComment()));
    }
    this.actions.replaceChildren(...buttons);
  }

  button(label, description, onclick) {
    return h('button', { type: 'button', class: 'link-button', 'aria-label': description, title: description, onclick }, label);
  }

  toggle(label, description, pressed, onclick) {
    const button = this.button(label, description, onclick);
    button.setAttribute('aria-pressed', String(pressed));
    return button;
  }

  startEditing(text = this.message.content) {
    this.editing = true;
    const area = h('textarea', { class: 'edit-input', 'aria-label': 'Edited message', rows: 3 });
    area.value = text;
    const stop = () => {
      this.editing = false;
      this.body.hidden = false;
      this.extra.replaceChildren();
      this.renderBody();
    };
    const submit = (event) => {
      event.preventDefault();
      const content = area.value;
      if (!content.trim()) return;
      stop();
      this.chat.edit(this, content);
    };
    area.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) submit(event);
      else if (event.key === 'Escape') stop();
    });
    const form = h('form', { class: 'edit-form', onsubmit: submit },
      area,
      h('div', { class: 'form-actions' },
        h('button', { type: 'submit', class: 'button primary' }, 'Send'),
        h('button', { type: 'button', class: 'button', onclick: stop }, 'Cancel')));
    this.body.hidden = true;
    this.extra.replaceChildren(form);
    area.focus();
  }

  async rate(rating, comment = undefined) {
    try {
      if (rating === 0) {
        await api('DELETE', `/messages/${this.id}/feedback`);
        this.update({ feedback: null });
        return;
      }
      const body = { rating };
      const kept = comment === undefined ? this.message.feedback?.comment : comment;
      if (kept) body.comment = kept;
      const feedback = await api('PUT', `/messages/${this.id}/feedback`, body);
      this.update({ feedback });
      if (comment === undefined && !feedback.comment) this.openComment();
      else toast('Thanks for the feedback');
    } catch (error) {
      toast(`Feedback not saved: ${error.explanation ?? error.message}`, 6000);
    }
  }

  openComment() {
    const area = h('textarea', { class: 'comment-input', 'aria-label': 'Comment on this answer (optional)', rows: 2, maxlength: 10000, placeholder: 'What was good or bad about it? (optional)' });
    area.value = this.message.feedback?.comment ?? '';
    const close = () => this.extra.replaceChildren();
    const form = h('form', {
      class: 'comment-form',
      onsubmit: (event) => {
        event.preventDefault();
        close();
        this.rate(this.message.feedback?.rating ?? 1, area.value.trim() || null);
      },
    }, area, h('div', { class: 'form-actions' },
      h('button', { type: 'submit', class: 'button primary' }, 'Send comment'),
      h('button', { type: 'button', class: 'button', onclick: close }, 'Skip')));
    area.addEventListener('keydown', (event) => { if (event.key === 'Escape') close(); });
    this.extra.replaceChildren(form);
    area.focus();
  }
}
