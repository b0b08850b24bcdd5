// Exports a conversation, read page by page: its active branch as Markdown, or every branch as JSON.
import { api } from './api.js';
import { download } from './dom.js';

/** The active branch, read backwards page by page. */
async function activeBranch(conversationId) {
  const pages = [];
  let before = null;
  do {
    const query = before === null ? '' : `&before=${before}`;
    const page = await api('GET', `/conversations/${conversationId}/messages?limit=100${query}`);
    pages.unshift(page.data);
    before = page.has_more ? page.next_before : null;
  } while (before !== null);
  return pages.flat();
}

/** Every message of every branch (each with its parent and whether it is on the active branch), oldest first. */
async function wholeTree(conversationId) {
  const messages = [];
  let after = 0;
  do {
    const page = await api('GET', `/conversations/${conversationId}/messages?branches=all&limit=100&after=${after}`);
    messages.push(...page.data);
    after = page.has_more ? page.next_after : null;
  } while (after !== null);
  return messages;
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
    if (message.attachments?.length) lines.push(...message.attachments.map((a) => `- Attached: ${a.name} (${a.media_type}, ${a.size} bytes)`), '');
  }
  return lines.join('\n');
}

export async function exportConversation(conversation, format) {
  if (format === 'json') {
    const document = { conversation, messages: await wholeTree(conversation.id), exported_at: new Date().toISOString() };
    download(fileName(conversation, 'json'), 'application/json', JSON.stringify(document, null, 2));
  } else {
    download(fileName(conversation, 'md'), 'text/markdown', toMarkdown(conversation, await activeBranch(conversation.id)));
  }
}
