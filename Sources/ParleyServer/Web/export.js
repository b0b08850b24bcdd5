// Exports a whole conversation, read page by page, as Markdown or JSON.
import { api } from './api.js';
import { download } from './dom.js';

async function allMessages(conversationId) {
  const pages = [];
  let before = null;
  do {
    const query = before === null ? '' : `&before=${before}`;
    const page = await api('GET', `/conversations/${conversationId}/messages?limit=200${query}`);
    pages.unshift(page.data);
    before = page.has_more ? page.next_before : null;
  } while (before !== null);
  return pages.flat();
}

function fileName(conversation, extension) {
  const slug = (conversation.title || 'conversation').toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '-').replace(/^-|-$/g, '').slice(0, 60);
  return `${slug || 'conversation'}.${extension}`;
}

export function toMarkdown(conversation, messages) {
  const lines = [`# ${conversation.title || 'Conversation'}`, ''];
  if (conversation.system_prompt) lines.push(`> System prompt: ${conversation.system_prompt.replace(/\n/g, '\n> ')}`, '');
  for (const message of messages) {
    const who = message.role === 'user' ? 'You' : `Assistant${message.model ? ` (${message.model})` : ''}`;
    const status = message.status === 'complete' ? '' : ` — ${message.status}`;
    lines.push(`## ${who} · ${message.created_at}${status}`, '', message.content, '');
  }
  return lines.join('\n');
}

export async function exportConversation(conversation, format) {
  const messages = await allMessages(conversation.id);
  if (format === 'json') {
    const document = { conversation, messages, exported_at: new Date().toISOString() };
    download(fileName(conversation, 'json'), 'application/json', JSON.stringify(document, null, 2));
  } else {
    download(fileName(conversation, 'md'), 'text/markdown', toMarkdown(conversation, messages));
  }
}
