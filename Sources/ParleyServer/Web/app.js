// Starts the UI: the conversation named by the URL (/c/{id}, or /c/{id}#m{index} for one of its messages), the
// sidebar, the settings, and history navigation (back, forward and reload show what the URL names).
import { byId } from './dom.js';
import { Chat } from './chat.js';
import { Sidebar } from './sidebar.js';
import { Settings } from './settings.js';
import { signedIn } from './auth.js';
import './account.js';
import { KnowledgePanel } from './knowledge.js';
import { Assistants } from './assistants.js';
import { installShortcuts } from './shortcuts.js';
import { installPromptMenu } from './prompts.js';

const idPattern = /^\/c\/([0-9a-fA-F-]{36})\/?$/;

function idFromLocation() {
  const match = idPattern.exec(location.pathname);
  return match ? match[1].toLowerCase() : null;
}

/** The message index the URL's fragment names (`#m{index}`), if any. */
function indexFromLocation() {
  const match = /^#m(\d{1,10})$/.exec(location.hash);
  return match ? Number(match[1]) : null;
}

function setTitle(conversation) {
  const title = conversation ? conversation.title || 'New chat' : 'New chat';
  byId('chat-title').textContent = title;
  document.title = `${title} · Parley`;
}

// Nothing is read before someone is signed in (on a fresh server: before the administrator exists).
await signedIn();

new KnowledgePanel();

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
  latestShown(id) {
    if (idFromLocation() === id && location.hash) history.replaceState({ id }, '', `/c/${id}`);
  },
});

const settings = new Settings(chat, {
  changed(conversation) { sidebar.upsert(conversation); setTitle(conversation); },
});

new Assistants(settings, { startNew: () => navigate(null) });

installShortcuts({ lastAnswer: () => chat.lastAnswerText() });
installPromptMenu();

const sidebar = new Sidebar({
  navigate(id, at = null) { navigate(id, false, at); },
  renamed(conversation) { if (chat.conversation?.id === conversation.id) { chat.conversation = conversation; setTitle(conversation); } },
  deleted(id) { if (chat.conversation?.id === id || idFromLocation() === id) navigate(null, true); },
});

/** Shows a conversation (at a message, with `at`). */
async function show(id, at = null) {
  sidebar.setActive(id);
  closeSidebar();
  setTitle(null);
  try {
    const conversation = await chat.open(id, at);
    if (conversation) setTitle(conversation);
  } catch { /* chat.open showed the problem */ }
  settings.show(chat.conversation);
  byId('composer-input').focus();
}

/** Shows a conversation (at a message, with `at`) and records it in the history. */
function navigate(id, replace = false, at = null) {
  const path = id ? `/c/${id}${at === null ? '' : `#m${at}`}` : '/';
  if (location.pathname + location.hash !== path) {
    if (replace) history.replaceState({ id }, '', path); else history.pushState({ id }, '', path);
  }
  show(id, at);
}

window.addEventListener('popstate', () => show(idFromLocation(), indexFromLocation()));
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
show(idFromLocation(), indexFromLocation());
settings.loadModels();
sidebar.reload();
