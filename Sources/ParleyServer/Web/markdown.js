// Markdown to DOM, safely: every piece of text becomes a text node, so HTML in model output shows as text;
// links keep only http(s), mailto and same-site targets. Rendering is by block: when an answer grows, blocks
// whose source did not change keep their nodes, so streaming rewrites only the last block.
import { h, copyText } from './dom.js';
import { highlight, languageOf } from './highlight.js';

const fencePattern = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)/;
const headingPattern = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const rulePattern = /^ {0,3}([-*_])(\s*\1){2,}\s*$/;
const listPattern = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;
const tableRulePattern = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;
const quotePattern = /^ {0,3}> ?(.*)$/;
const mathsPattern = /^ {0,3}(\$\$|\\\[)/;

/** Splits text into blocks: {kind, src, ...}. `src` identifies a block's rendering. */
export function scanBlocks(text) {
  const lines = text.split('\n');
  const blocks = [];
  let i = 0;
  const startsBlock = (line, next) => fencePattern.test(line) || headingPattern.test(line) || rulePattern.test(line) || mathsPattern.test(line)
    || quotePattern.test(line) || listPattern.test(line) || (line.includes('|') && next !== undefined && tableRulePattern.test(next));
  while (i < lines.length) {
    const line = lines[i];
    if (line.trim() === '') { i++; continue; }
    let match;
    if ((match = fencePattern.exec(line))) {
      const closing = new RegExp(`^ {0,3}${match[1][0]}{${match[1].length},}\\s*$`);
      const body = [];
      let closed = false;
      for (i++; i < lines.length; i++) {
        if (closing.test(lines[i])) {
          closed = true;
          i++;
          break;
        }
        body.push(lines[i]);
      }
      const code = body.join('\n');
      blocks.push({ kind: 'code', lang: match[2], code, src: `code:${closed}:${match[2]}:${code}` });
    } else if ((match = mathsPattern.exec(line))) {
      // Display maths: from `$$` or `\[` to its closing twin, on this line or a later one.
      const close = match[1] === '$$' ? '$$' : '\\]';
      const body = [];
      let text = line.slice(match[0].length);
      let closed = false;
      let after = '';
      for (;;) {
        const end = text.indexOf(close);
        if (end >= 0) { body.push(text.slice(0, end)); after = text.slice(end + close.length); closed = true; break; }
        body.push(text);
        if (++i >= lines.length) break;
        text = lines[i];
      }
      i++;
      const tex = body.join('\n').trim();
      blocks.push({ kind: 'maths', tex, closed, src: `m:${closed}:${tex}` });
      // What follows the closing delimiter on its line is a paragraph of its own.
      if (after.trim()) blocks.push({ kind: 'paragraph', text: after.trim(), src: `p:${after.trim()}` });
    } else if ((match = headingPattern.exec(line))) {
      blocks.push({ kind: 'heading', level: match[1].length, text: match[2], src: `h:${line}` });
      i++;
    } else if (rulePattern.test(line)) {
      blocks.push({ kind: 'rule', src: 'hr' });
      i++;
    } else if (quotePattern.test(line)) {
      const body = [];
      while (i < lines.length && (match = quotePattern.exec(lines[i]))) { body.push(match[1]); i++; }
      blocks.push({ kind: 'quote', text: body.join('\n'), src: `q:${body.join('\n')}` });
    } else if (line.includes('|') && i + 1 < lines.length && tableRulePattern.test(lines[i + 1]) && lines[i + 1].includes('-')) {
      const rows = [line, lines[i + 1]];
      for (i += 2; i < lines.length && lines[i].includes('|') && lines[i].trim() !== ''; i++) rows.push(lines[i]);
      blocks.push({ kind: 'table', rows, src: `t:${rows.join('\n')}` });
    } else if ((match = listPattern.exec(line))) {
      const body = [line];
      const indent = match[1].length;
      const ordered = /\d/.test(match[2]);
      for (i++; i < lines.length; i++) {
        const current = lines[i];
        const item = listPattern.exec(current);
        // An item of the other kind at the list's own indentation starts a new list.
        if (item && item[1].length <= indent && /\d/.test(item[2]) !== ordered) break;
        if (current.trim() === '') {
          // A blank line continues the list only if what follows is indented or another item.
          const next = lines[i + 1];
          if (next !== undefined && (listPattern.test(next) || /^\s{2,}\S/.test(next))) { body.push(''); continue; }
          break;
        }
        if (listPattern.test(current) || /^\s+\S/.test(current)) { body.push(current); continue; }
        if (body[body.length - 1] === '' || startsBlock(current, lines[i + 1])) break;
        body.push(current); // a lazy continuation of the item's text
      }
      blocks.push({ kind: 'list', lines: body, src: `l:${body.join('\n')}` });
    } else {
      const body = [line];
      for (i++; i < lines.length && lines[i].trim() !== '' && !startsBlock(lines[i], lines[i + 1]); i++) body.push(lines[i]);
      blocks.push({ kind: 'paragraph', text: body.join('\n'), src: `p:${body.join('\n')}` });
    }
  }
  return blocks;
}

/** Renders markdown into `container`, reusing the nodes of blocks that did not change. */
export function renderMarkdown(container, text) {
  const blocks = scanBlocks(text);
  const children = container.children;
  for (let index = 0; index < blocks.length; index++) {
    const existing = children[index];
    if (existing && existing.markdownSource === blocks[index].src) continue;
    const node = renderBlock(blocks[index]);
    node.markdownSource = blocks[index].src;
    if (existing) existing.replaceWith(node); else container.append(node);
  }
  while (children.length > blocks.length) container.lastElementChild.remove();
}

function renderBlocks(text) {
  const fragment = document.createDocumentFragment();
  for (const block of scanBlocks(text)) fragment.append(renderBlock(block));
  return fragment;
}

function renderBlock(block) {
  switch (block.kind) {
    case 'code': return codeBlock(block.code, block.lang);
    case 'heading': return inline(h(`h${Math.min(block.level + 2, 6)}`), block.text);
    case 'rule': return h('hr');
    case 'quote': return h('blockquote', {}, renderBlocks(block.text));
    case 'table': return table(block.rows);
    case 'list': return list(block.lines);
    case 'maths': return formula('div', block.tex, true, block.closed);
    default: return inline(h('p'), block.text);
  }
}

function codeBlock(code, lang) {
  return h('div', { class: 'code-block' },
    h('div', { class: 'code-head' },
      h('span', { class: 'code-lang', text: lang || 'code' }),
      h('button', { type: 'button', class: 'link-button', 'aria-label': 'Copy code', onclick: () => copyText(code) }, 'Copy')),
    h('pre', {}, highlighted(code, lang)));
}

/** The code element of a block: painted when its language is one `highlight.js` knows, plain otherwise. */
function highlighted(code, lang) {
  const painted = highlight(code, lang);
  if (!painted) return h('code', { text: code });
  const element = h('code', { class: `language-${languageOf(lang)}` });
  element.append(painted);
  return element;
}

function splitRow(row) {
  let text = row.trim();
  if (text.startsWith('|')) text = text.slice(1);
  if (text.endsWith('|') && !text.endsWith('\\|')) text = text.slice(0, -1);
  return text.split(/(?<!\\)\|/).map((cell) => cell.trim().replace(/\\\|/g, '|'));
}

function table(rows) {
  const aligns = splitRow(rows[1]).map((cell) => (cell.endsWith(':') ? (cell.startsWith(':') ? 'center' : 'right') : cell.startsWith(':') ? 'left' : null));
  const cellClass = (index) => (aligns[index] ? `align-${aligns[index]}` : null);
  const head = h('tr', {}, ...splitRow(rows[0]).map((cell, index) => inline(h('th', { class: cellClass(index), scope: 'col' }), cell)));
  const body = rows.slice(2).map((row) => h('tr', {}, ...splitRow(row).map((cell, index) => inline(h('td', { class: cellClass(index) }), cell))));
  return h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, head), h('tbody', {}, ...body)));
}

function list(lines) {
  const first = listPattern.exec(lines[0]);
  const baseIndent = first[1].length;
  const ordered = /\d/.test(first[2]);
  const element = ordered ? h('ol', { start: parseInt(first[2], 10) === 1 ? null : parseInt(first[2], 10) }) : h('ul');
  let item = null;
  const flush = () => {
    if (!item) return;
    const text = item.join('\n');
    // The item's first paragraph sits in the item itself (no <p>), then any nested blocks.
    const [first, ...rest] = scanBlocks(text);
    const li = h('li');
    if (first?.kind === 'paragraph') inline(li, first.text); else if (first) li.append(renderBlock(first));
    for (const block of rest) li.append(renderBlock(block));
    element.append(li);
  };
  for (const line of lines) {
    const match = listPattern.exec(line);
    if (match && match[1].length <= baseIndent + 1) {
      flush();
      item = [match[3]];
    } else {
      // Item continuation or a nested list: drop the item's indentation.
      item.push(line.replace(new RegExp(`^\\s{0,${baseIndent + 4}}`), ''));
    }
  }
  flush();
  return element;
}

const inlinePattern = new RegExp([
  '(`+)([^`]|[^`][\\s\\S]*?[^`])\\1(?!`)', // 1, 2: code span
  '\\[([^\\]\\n]+)\\]\\(\\s*([^)\\s]+)(?:\\s+"[^"\\n]*")?\\s*\\)', // 3, 4: link
  '(https?:\\/\\/[^\\s<>()]*[^\\s<>().,;:!?\'")\\]])', // 5: bare URL
  '\\*\\*(?=\\S)([\\s\\S]*?\\S)\\*\\*', // 6: strong
  '(?<![\\w])__(?=\\S)([\\s\\S]*?\\S)__(?![\\w])', // 7: strong
  '~~(?=\\S)([\\s\\S]*?\\S)~~', // 8: strikethrough
  '\\*(?=[^\\s*])([^*]*?[^\\s*])\\*', // 9: emphasis
  '(?<![\\w])_(?=[^\\s_])([^_]*?[^\\s_])_(?![\\w])', // 10: emphasis
  '(\\n)', // 11: line break
  '\\$\\$([^$]+?)\\$\\$', // 12: display maths within a line
  '\\\\\\(([\\s\\S]+?)\\\\\\)', // 13: \( maths \)
  '(?<![\\w$\\\\])\\$(?=[^\\s$])([^$\\n]*?[^\\s$\\\\])\\$(?![\\w$])', // 14: $maths$ (not "$5 and $10")
].join('|'), 'g');

let maths = null;
let mathsLoading = null;

/** A formula: its TeX as text until the maths module, loaded with the first formula shown, draws it. */
function formula(tag, tex, display, complete = true) {
  const element = h(tag, { class: display ? 'maths display' : 'maths', text: tex });
  if (!complete) return element;
  if (maths) maths.typeset(element, tex, display);
  else {
    mathsLoading ??= import('./maths.js');
    mathsLoading.then((module) => { maths = module; module.typeset(element, tex, display); }, () => {});
  }
  return element;
}

/** A safe link target, or null: http(s), mailto, and paths on this site. */
export function safeURL(url) {
  const trimmed = url.trim();
  if (/^(https?:|mailto:)/i.test(trimmed)) return trimmed;
  if (/^(\/(?!\/)|#|\.{0,2}\/)/.test(trimmed) && !/^[a-z][a-z0-9+.-]*:/i.test(trimmed)) return trimmed;
  return null;
}

function link(href, text) {
  return inline(h('a', { href, target: '_blank', rel: 'noopener noreferrer nofollow' }), text);
}

/** Appends inline markdown to `parent` as nodes and returns it. */
function inline(parent, text) {
  let last = 0;
  const pattern = new RegExp(inlinePattern.source, 'g');
  let match;
  while ((match = pattern.exec(text))) {
    if (match.index > last) parent.append(text.slice(last, match.index));
    last = pattern.lastIndex;
    if (match[2] !== undefined) parent.append(h('code', { text: match[2] }));
    else if (match[4] !== undefined) {
      const href = safeURL(match[4]);
      parent.append(href ? link(href, match[3]) : match[0]);
    } else if (match[5] !== undefined) parent.append(h('a', { href: match[5], target: '_blank', rel: 'noopener noreferrer nofollow', text: match[5] }));
    else if (match[6] !== undefined || match[7] !== undefined) parent.append(inline(h('strong'), match[6] ?? match[7]));
    else if (match[8] !== undefined) parent.append(inline(h('del'), match[8]));
    else if (match[9] !== undefined || match[10] !== undefined) parent.append(inline(h('em'), match[9] ?? match[10]));
    else if (match[11] !== undefined) parent.append(h('br'));
    else parent.append(formula('span', match[12] ?? match[13] ?? match[14], match[12] !== undefined));
  }
  if (last < text.length) parent.append(text.slice(last));
  return parent;
}
