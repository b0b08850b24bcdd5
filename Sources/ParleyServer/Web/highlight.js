// Syntax highlighting for code blocks: one small tokenizer that knows the comments, strings, numbers, keywords and
// literals of the common languages, and paints them with classes (no inline styles, so the CSP stays strict).
// Text is only ever set as text: a highlighted block is as inert as a plain one.

const C = String.raw`\/\/[^\n]*|\/\*[\s\S]*?(?:\*\/|$)`;
const HASH = String.raw`#[^\n]*`;
const DASHES = String.raw`--[^\n]*|\/\*[\s\S]*?(?:\*\/|$)`;
const DOUBLE = String.raw`"(?:[^"\\\n]|\\.)*"?`;
const SINGLE = String.raw`'(?:[^'\\\n]|\\.)*'?`;
const BACKTICK = String.raw`\`(?:[^\`\\]|\\[\s\S])*\`?`;
const TRIPLE = String.raw`"""[\s\S]*?(?:"""|$)|'''[\s\S]*?(?:'''|$)`;
const NUMBER = String.raw`\b(?:0[xXbBoO][\da-fA-F_]+|\d[\d_]*(?:\.\d[\d_]*)?(?:[eE][+-]?\d+)?)\b`;
const WORD = String.raw`[A-Za-z_$@][\w$]*`;

const c = 'break case continue default do else for if return switch while';
const LANGUAGES = {
  js: [C, [BACKTICK, DOUBLE, SINGLE], `${c} catch class const debugger delete export extends finally function import in instanceof let new of super this throw try typeof var void with yield async await static get set from as interface type enum implements private public protected readonly declare namespace abstract`, 'true false null undefined NaN'],
  python: [HASH, [TRIPLE, DOUBLE, SINGLE], 'and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield match case self', 'True False None'],
  swift: [C, [TRIPLE, DOUBLE], `${c} actor associatedtype async await catch class defer deinit do enum extension fallthrough fileprivate final func guard import in init inout internal is let mutating nonisolated open operator override private protocol public repeat rethrows self Self some any static struct subscript super throw throws try typealias var where`, 'true false nil'],
  go: [C, [BACKTICK, DOUBLE, SINGLE], `${c} chan const defer fallthrough func go goto import interface map package range select struct type var`, 'true false nil iota'],
  rust: [C, [DOUBLE], `${c} as async await const crate dyn enum extern fn impl in let loop match mod move mut pub ref self Self static struct super trait type unsafe use where`, 'true false None Some Ok Err'],
  java: [C, [TRIPLE, DOUBLE, SINGLE], `${c} abstract assert catch class extends final finally implements import instanceof interface native new package private protected public static super synchronized this throw throws try var void volatile record sealed val fun object when override data`, 'true false null'],
  c: [C, [DOUBLE, SINGLE], `${c} auto char class const constexpr delete double enum extern float goto inline int long namespace new private protected public register short signed sizeof static struct template this typedef typename union unsigned using virtual void volatile bool`, 'true false NULL nullptr'],
  csharp: [C, [DOUBLE, SINGLE], `${c} abstract as async await base bool catch class const decimal delegate double enum event explicit extern finally float foreach get implicit in int interface internal is lock long namespace new object operator out override params private protected public readonly ref sealed set static string struct this throw try typeof using var virtual void`, 'true false null'],
  ruby: [HASH, [DOUBLE, SINGLE], 'alias and begin break case class def defined do else elsif end ensure for if in module next not or redo rescue retry return self super then unless until when while yield require attr_accessor', 'true false nil'],
  shell: [HASH, [DOUBLE, SINGLE], 'if then else elif fi for in do done while until case esac function return local export set unset echo exit cd source sudo', ''],
  sql: [DASHES, [SINGLE, DOUBLE], 'select from where and or not insert into values update set delete create table index view drop alter add column primary key foreign references join left right inner outer on group by order having limit offset as distinct union all case when then else end begin commit rollback with returning in is like between exists default unique constraint cascade', 'null true false'],
  json: ['(?!)', [DOUBLE], '', 'true false null'],
  yaml: [HASH, [DOUBLE, SINGLE], '', 'true false null yes no'],
  css: [C, [DOUBLE, SINGLE], 'important media import from to', ''],
  html: [String.raw`<!--[\s\S]*?(?:-->|$)`, [DOUBLE, SINGLE], '', ''],
};
const ALIASES = {
  javascript: 'js', jsx: 'js', ts: 'js', typescript: 'js', tsx: 'js', mjs: 'js', node: 'js', py: 'python', python3: 'python',
  kotlin: 'java', kt: 'java', scala: 'java', dart: 'java', cpp: 'c', 'c++': 'c', h: 'c', hpp: 'c', cc: 'c', objc: 'c',
  cs: 'csharp', 'c#': 'csharp', rb: 'ruby', sh: 'shell', bash: 'shell', zsh: 'shell', console: 'shell', shell: 'shell',
  postgres: 'sql', postgresql: 'sql', sqlite: 'sql', mysql: 'sql', yml: 'yaml', toml: 'yaml', scss: 'css', less: 'css',
  xml: 'html', svg: 'html', vue: 'html', rs: 'rust', golang: 'go',
};
const compiled = new Map();

/** The language a fence names, as this highlighter knows it; null for one it does not. */
export function languageOf(name) {
  const key = (name || '').toLowerCase();
  return LANGUAGES[key] ? key : ALIASES[key] ?? null;
}

function compile(language) {
  if (!compiled.has(language)) {
    const [comments, strings, keywords, literals] = LANGUAGES[language];
    const word = language === 'html' ? String.raw`<\/?[A-Za-z][\w:-]*|\/?>` : WORD;
    compiled.set(language, {
      pattern: new RegExp(`(${comments})|(${strings.join('|')})|(${NUMBER})|(${word})`, 'g'),
      keywords: new Set(keywords.split(' ')),
      literals: new Set(literals.split(' ').filter(Boolean)),
      caseless: language === 'sql',
    });
  }
  return compiled.get(language);
}

/** `code` as a fragment of text nodes and classed spans; null when the language is unknown or the code too long. */
export function highlight(code, name) {
  const language = languageOf(name);
  if (!language || code.length > 50000) return null;
  const { pattern, keywords, literals, caseless } = compile(language);
  const fragment = document.createDocumentFragment();
  let last = 0;
  const span = (kind, text) => {
    const element = document.createElement('span');
    element.className = `tok-${kind}`;
    element.textContent = text;
    fragment.append(element);
  };
  pattern.lastIndex = 0;
  for (let match; (match = pattern.exec(code));) {
    if (match[0] === '') { pattern.lastIndex++; continue; }
    if (match.index > last) fragment.append(code.slice(last, match.index));
    const [text, comment, string, number, word] = match;
    if (comment) span('comment', text);
    else if (string) span(language === 'json' && /^\s*:/.test(code.slice(pattern.lastIndex, pattern.lastIndex + 3)) ? 'property' : 'string', text);
    else if (number) span('number', text);
    else if (language === 'html') span('keyword', text);
    else {
      const key = caseless ? word.toLowerCase() : word;
      if (keywords.has(key)) span('keyword', text);
      else if (literals.has(key)) span('literal', text);
      else fragment.append(text);
    }
    last = pattern.lastIndex;
  }
  if (last < code.length) fragment.append(code.slice(last));
  return fragment;
}
