// Read-only links to the open conversation, in its settings dialog: make one (for signed-in users or anyone with
// the link), see its address once, copy it, list the conversation's links, revoke them.
import { api } from './api.js';
import { h, byId, toast, shortTime } from './dom.js';

let current = null;

/** Shows the sharing part of the dialog for `conversation` (null: the new chat, which has nothing to share). */
export async function showShares(conversation) {
  current = conversation;
  byId('create-share').disabled = !conversation;
  byId('share-created').replaceChildren();
  byId('share-created').hidden = true;
  byId('share-list').replaceChildren();
  if (!conversation) return;
  try {
    const { data } = await api('GET', `/conversations/${conversation.id}/shares`);
    if (current === conversation) listShares(data);
  } catch (error) {
    toast(error.message);
  }
}

function listShares(shares) {
  byId('share-list').replaceChildren(...shares.map((share) => h('li', { 'data-share': share.id },
    `${share.audience === 'anyone' ? 'Anyone with the link' : 'Signed-in users'} · messages 1–${share.through_index} · ${shortTime(share.created_at)} `,
    h('button', { type: 'button', class: 'button', onclick: () => revoke(share) }, 'Revoke'))));
}

async function create() {
  const conversation = current;
  if (!conversation) return;
  try {
    const share = await api('POST', `/conversations/${conversation.id}/shares`, { audience: byId('share-audience').value });
    const address = new URL(share.url, location.origin).href;
    const field = h('input', { id: 'share-url', readonly: '', value: address, 'aria-label': 'Link to the shared conversation' });
    byId('share-created').replaceChildren(field,
      h('button', { type: 'button', class: 'button', onclick: () => copy(address) }, 'Copy'),
      h('span', { class: 'hint' }, ' Shown once: copy it now.'));
    byId('share-created').hidden = false;
    field.select();
    const { data } = await api('GET', `/conversations/${conversation.id}/shares`);
    if (current === conversation) listShares(data);
  } catch (error) {
    toast(error.message);
  }
}

async function revoke(share) {
  try {
    await api('DELETE', `/conversations/${share.conversation_id}/shares/${share.id}`);
    byId('share-list').querySelector(`[data-share="${share.id}"]`)?.remove();
    toast('Link revoked');
  } catch (error) {
    toast(error.message);
  }
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    toast('Link copied');
  } catch {
    byId('share-url')?.select();
  }
}

byId('create-share').addEventListener('click', create);
