// The sources under an answer, as the pages outside an account show them (the visitors' chat, a shared link): the
// cited ones (all when none is cited), folded, each with its document, page and passage.
import { h } from './dom.js';

/** A `details` element listing the message's shown sources, in an array (empty when there are none). */
export function sourceList(message) {
  const cited = new Set(message.citations ?? []);
  const shown = (message.sources ?? []).filter((source) => !cited.size || cited.has(source.n));
  if (!shown.length) return [];
  return [h('details', { class: 'visitor-sources' }, h('summary', {}, `Sources (${shown.length})`),
    ...shown.map((source) => h('div', {},
      h('strong', {}, `[${source.n}] ${source.document_name}${source.page ? `, p. ${source.page}` : ''}`),
      h('blockquote', {}, source.text))))];
}
