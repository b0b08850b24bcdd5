// Citations in grounded answers: `[n]` in the rendered text becomes a button that opens source n (its document,
// page, headings and passage), and the sources the answer cites are listed under it.
import { h, byId } from './dom.js';

/** Turns `[n]` in `container`'s text (outside code) into citation buttons for `sources`. */
export function linkCitations(container, sources) {
  if (!sources?.length) return;
  const walker = document.createTreeWalker(container, NodeFilter.SHOW_TEXT, {
    acceptNode: (node) => (node.parentElement.closest('code, pre, button') ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
  });
  const nodes = [];
  while (walker.nextNode()) if (/\[\d{1,3}\]/.test(walker.currentNode.data)) nodes.push(walker.currentNode);
  for (const node of nodes) {
    const parts = node.data.split(/(\[\d{1,3}\])/);
    node.replaceWith(...parts.map((part) => {
      const source = /^\[(\d{1,3})\]$/.test(part) && sources.find((item) => `[${item.n}]` === part);
      return source ? citeButton(source) : part;
    }));
  }
}

/** The source numbers `text` cites, in order of first citation. */
function cited(text, sources) {
  const numbers = [];
  for (const match of text.matchAll(/\[(\d{1,3})\]/g)) {
    const n = Number(match[1]);
    if (sources.some((source) => source.n === n) && !numbers.includes(n)) numbers.push(n);
  }
  return numbers;
}

/** The list of sources an answer cites, shown under it (all of them while it cites none). */
export function sourceList(sources, text) {
  if (!sources?.length) return null;
  const citations = cited(text, sources);
  const shown = citations.length ? citations.map((n) => sources.find((source) => source.n === n)).filter(Boolean) : sources;
  return h('div', { class: 'sources', 'aria-label': 'Sources' }, 'Sources:',
    ...shown.map((source) => h('span', {}, citeButton(source),
      ` ${source.document_name}${source.pinned ? ' (whole)' : source.page ? `, p. ${source.page}` : ''}`)));
}

function citeButton(source) {
  return h('button', { type: 'button', class: 'cite', title: `${source.document_name}: open source ${source.n}`,
    onclick: () => showSource(source) }, String(source.n));
}

function showSource(source) {
  const place = [source.document_name];
  if (source.pinned) place.push('pinned: given whole, its beginning shown');
  else if (source.page) place.push(`page ${source.page}`);
  if (source.heading_path?.length) place.push(source.heading_path.join(' › '));
  byId('passage-title').textContent = `Source ${source.n}`;
  byId('passage-place').textContent = place.join(' · ');
  byId('passage-text').textContent = source.text;
  byId('passage-dialog').showModal();
}
