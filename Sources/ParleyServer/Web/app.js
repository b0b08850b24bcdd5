// Starts the UI: the conversation named by the URL (/c/{id}), the sidebar, the settings, and history
// navigation (back, forward and reload show the conversation the URL names).
import { byId } from './dom.js';
import { Chat } from './chat.js';
import { Sidebar } from './sidebar.js';
import { Settings } from './settings.js';

const idPattern = /^\/c\/([0-9a-fA-F-]{36})\/?$/;

function idFromLocation() {
  const match = idPattern.exec(location.pathname);
  return match ? match[1].toLowerCase() : null;
}

function setTitle(conversation) {
  const title = conversation ? conversation.title || 'New chat' : 'New chat';
  byId('chat-title').textContent = title;
  document.title = `${title} · Parley`;
}

const chat = new Chat({
  newConversationBody: () => settings.newConversationBody(),
  created(conversation) {
    history.pushState({ id: conversation.id }, '', `/c/${conversation.id}`);
    sidebar.upsert(conversation);
    sidebar.setActive(conversation.id);
    setTitle(conversation);
  },
  changed(conversation) {
    sidebar.upsert(conversation);
    setTitle(conversation);
  },
});

const settings = new Settings(chat, {
  changed(conversation) { sidebar.upsert(conversation); setTitle(conversation); },
});

const sidebar = new Sidebar({
  navigate(id) { navigate(id); },
  renamed(conversation) { if (chat.conversation?.id === conversation.id) { chat.conversation = conversation; setTitle(conversation); } },
  deleted(id) { if (chat.conversation?.id === id || idFromLocation() === id) navigate(null, true); },
});

/** Shows a conversation and, unless it came from the history itself, records it there. */
async function show(id) {
  sidebar.setActive(id);
  closeSidebar();
  setTitle(null);
  try {
    const conversation = await chat.open(id);
    if (conversation) setTitle(conversation);
  } catch { /* chat.open showed the problem */ }
  settings.show(chat.conversation);
  byId('composer-input').focus();
}

function navigate(id, replace = false) {
  const path = id ? `/c/${id}` : '/';
  if (location.pathname !== path) {
    if (replace) history.replaceState({ id }, '', path); else history.pushState({ id }, '', path);
  }
  show(id);
}

window.addEventListener('popstate', () => show(idFromLocation()));
byId('new-chat').addEventListener('click', () => navigate(null));

// Narrow screens: the conversation list is a drawer.
const sidebarElement = byId('sidebar');
const openButton = byId('open-sidebar');
function closeSidebar() {
  sidebarElement.classList.remove('open');
  openButton.setAttribute('aria-expanded', 'false');
}
openButton.addEventListener('click', () => {
  sidebarElement.classList.add('open');
  openButton.setAttribute('aria-expanded', 'true');
  byId('new-chat').focus();
});
byId('close-sidebar').addEventListener('click', () => { closeSidebar(); openButton.focus(); });
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && sidebarElement.classList.contains('open')) { closeSidebar(); openButton.focus(); }
});

if (location.pathname !== '/' && !idFromLocation()) history.replaceState(null, '', '/');
show(idFromLocation());
settings.loadModels();
sidebar.loadMore();
