// Keyboard shortcuts (ChatGPT's, so hands already know them), listed by `?` or Ctrl+/: new chat, search,
// focus the message box, stop the answer, copy the last answer.
import { h, byId, copyText, toast } from './dom.js';

const mac = /Mac|iPhone|iPad/.test(navigator.platform);
const modifier = mac ? '⌘' : 'Ctrl';
const withModifier = (event) => (mac ? event.metaKey : event.ctrlKey) && !event.altKey;
const isKey = (event, letter) => event.key.toLowerCase() === letter || event.code === `Key${letter.toUpperCase()}`;
const typing = (event) => event.target.closest?.('input, textarea, select, [contenteditable="true"]');
const dialogOpen = () => document.querySelector('dialog[open]') !== null;

/** Installs the shortcuts; `lastAnswer()` gives the newest answer's text on screen (or null). */
export function installShortcuts({ lastAnswer }) {
  const shortcuts = [
    { keys: `${modifier}+Shift+O`, label: 'New chat', matches: (e) => withModifier(e) && e.shiftKey && isKey(e, 'o'),
      run: () => byId('new-chat').click() },
    { keys: `${modifier}+K`, label: 'Search conversations', matches: (e) => withModifier(e) && !e.shiftKey && isKey(e, 'k'),
      run: () => { if (byId('open-sidebar').offsetParent) byId('open-sidebar').click(); byId('search-input').focus(); } },
    { keys: 'Shift+Esc', label: 'Focus the message box', matches: (e) => e.shiftKey && e.key === 'Escape',
      run: () => byId('composer-input').focus() },
    { keys: 'Esc', label: 'Stop the answer', matches: (e) => e.key === 'Escape' && !e.shiftKey && !byId('stop').hidden && !dialogOpen(),
      run: () => byId('stop').click() },
    { keys: `${modifier}+Shift+C`, label: 'Copy the last answer', matches: (e) => withModifier(e) && e.shiftKey && isKey(e, 'c'),
      run: () => { const text = lastAnswer(); if (text) copyText(text); else toast('No answer to copy yet'); } },
    { keys: `? or ${modifier}+/`, label: 'Show these shortcuts',
      matches: (e) => (e.key === '?' && !typing(e) && !dialogOpen()) || (withModifier(e) && e.key === '/'), run: show },
  ];

  byId('shortcut-list').replaceChildren(...shortcuts.map((shortcut) =>
    h('div', { class: 'shortcut' }, h('dt', {}, shortcut.label), h('dd', {}, h('kbd', {}, shortcut.keys)))));

  document.addEventListener('keydown', (event) => {
    if (event.defaultPrevented || event.isComposing) return;
    const shortcut = shortcuts.find((candidate) => candidate.matches(event));
    if (!shortcut) return;
    event.preventDefault();
    shortcut.run();
  });
}

function show() {
  const dialog = byId('shortcuts-dialog');
  if (!dialog.open) dialog.showModal();
}
