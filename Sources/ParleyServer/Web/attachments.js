// Files and images for the next message: picked, pasted or dropped on the message box, uploaded at once (the
// server reads their type and refuses a wrong or oversized one before it has all of it), shown as chips until the
// message is sent; and the attachments a sent message carries.
import { h, byId } from './dom.js';
import { uploadAttachment } from './api.js';

const maxPerMessage = 10;

/** The attachments waiting in the composer. */
export class ComposerAttachments {
  /** @param showError(text) shows why a file was refused */
  constructor(showError) {
    this.showError = showError;
    this.items = [];
    this.tray = byId('attachment-tray');
    this.picker = byId('attach-input');
    byId('attach').addEventListener('click', () => this.picker.click());
    this.picker.addEventListener('change', () => { this.add([...this.picker.files]); this.picker.value = ''; });
    byId('composer-input').addEventListener('paste', (event) => {
      const files = [...(event.clipboardData?.files ?? [])];
      if (files.length) { event.preventDefault(); this.add(files); }
    });
    const composer = byId('composer');
    composer.addEventListener('dragover', (event) => {
      if (!event.dataTransfer?.types.includes('Files')) return;
      event.preventDefault();
      composer.classList.add('dropping');
    });
    composer.addEventListener('dragleave', () => composer.classList.remove('dropping'));
    composer.addEventListener('drop', (event) => {
      composer.classList.remove('dropping');
      if (!event.dataTransfer?.files.length) return;
      event.preventDefault();
      this.add([...event.dataTransfer.files]);
    });
  }

  get count() { return this.items.length; }
  /** True while a file is still uploading. */
  get uploading() { return this.items.some((item) => !item.id); }
  /** The ids of the uploaded attachments, in the order they were added. */
  get ids() { return this.items.map((item) => item.id).filter(Boolean); }

  add(files) {
    for (const file of files) {
      if (this.items.length >= maxPerMessage) { this.showError(`A message can carry at most ${maxPerMessage} attachments.`); return; }
      const item = { id: null, name: file.name || 'pasted image' };
      const remove = h('button', { type: 'button', class: 'chip-remove', 'aria-label': `Remove ${item.name}`, onclick: () => this.remove(item) }, '×');
      item.element = h('li', { class: 'attachment-chip uploading', title: item.name }, h('span', { text: item.name }), remove);
      this.items.push(item);
      this.tray.append(item.element);
      this.tray.hidden = false;
      this.upload(file, item);
    }
  }

  async upload(file, item) {
    try {
      const body = await uploadAttachment(file, item.name);
      if (!this.items.includes(item)) return;
      item.id = body.id;
      item.element.classList.remove('uploading');
      item.element.dataset.id = body.id;
      if (body.kind === 'image') item.element.prepend(h('img', { src: body.url, alt: '' }));
    } catch (error) {
      this.remove(item);
      this.showError(`${item.name} could not be attached: ${error.explanation ?? error.message}`);
    }
  }

  remove(item) {
    this.items = this.items.filter((other) => other !== item);
    item.element.remove();
    this.tray.hidden = this.items.length === 0;
  }

  clear() { for (const item of [...this.items]) this.remove(item); }
}

/** The attachments of a sent message: images as thumbnails, files as links; both open the file. */
export function attachmentList(attachments) {
  return h('ul', { class: 'message-attachments' }, ...attachments.map((attachment) => h('li', {},
    h('a', { href: attachment.url, target: '_blank', rel: 'noopener', title: attachment.name, class: `attachment ${attachment.kind}` },
      attachment.kind === 'image' ? h('img', { src: attachment.url, alt: attachment.name, loading: 'lazy' }) : attachment.name))));
}
