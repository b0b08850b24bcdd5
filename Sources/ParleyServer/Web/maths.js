// TeX maths to MathML, which the browser lays out itself: loaded only when an answer holds maths. Elements are
// created one by one (nothing is parsed as HTML), so the page's Content-Security-Policy stays as it is. Covers
// what answers use: fractions, roots, scripts and limits, Greek, operators and relations, \left…\right,
// accents, fonts (\mathbb, \mathcal, \mathbf…), \text, matrices, cases and aligned equations. A command it does
// not know shows as itself, marked.
const ns = 'http://www.w3.org/1998/Math/MathML';
const maxLength = 5000;
const maxDepth = 60;

function node(tag, attributes = {}, ...children) {
  const element = document.createElementNS(ns, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  for (const child of children) element.append(child);
  return element;
}
const row = (children) => (children.length === 1 ? children[0] : node('mrow', {}, ...children));
const mo = (text, attributes = {}) => node('mo', attributes, text);

const greek = 'alpha:α beta:β gamma:γ delta:δ epsilon:ϵ varepsilon:ε zeta:ζ eta:η theta:θ vartheta:ϑ iota:ι kappa:κ '
  + 'lambda:λ mu:μ nu:ν xi:ξ omicron:ο pi:π varpi:ϖ rho:ρ varrho:ϱ sigma:σ varsigma:ς tau:τ upsilon:υ phi:ϕ varphi:φ '
  + 'chi:χ psi:ψ omega:ω Gamma:Γ Delta:Δ Theta:Θ Lambda:Λ Xi:Ξ Pi:Π Sigma:Σ Upsilon:Υ Phi:Φ Psi:Ψ Omega:Ω '
  + 'infty:∞ partial:∂ nabla:∇ emptyset:∅ varnothing:∅ ell:ℓ hbar:ℏ Re:ℜ Im:ℑ aleph:ℵ wp:℘ imath:ı jmath:ȷ';
const operators = 'pm:± mp:∓ times:× div:÷ cdot:⋅ ast:∗ star:⋆ circ:∘ bullet:∙ oplus:⊕ ominus:⊖ otimes:⊗ odot:⊙ '
  + 'cup:∪ cap:∩ setminus:∖ wedge:∧ land:∧ vee:∨ lor:∨ neg:¬ lnot:¬ leq:≤ le:≤ geq:≥ ge:≥ neq:≠ ne:≠ ll:≪ gg:≫ '
  + 'approx:≈ equiv:≡ sim:∼ simeq:≃ cong:≅ propto:∝ in:∈ notin:∉ ni:∋ subset:⊂ subseteq:⊆ supset:⊃ supseteq:⊇ '
  + 'mid:∣ parallel:∥ perp:⊥ top:⊤ bot:⊥ vdash:⊢ models:⊨ forall:∀ exists:∃ nexists:∄ angle:∠ triangle:△ '
  + 'to:→ rightarrow:→ leftarrow:← gets:← leftrightarrow:↔ Rightarrow:⇒ Leftarrow:⇐ Leftrightarrow:⇔ implies:⟹ '
  + 'impliedby:⟸ iff:⟺ mapsto:↦ longrightarrow:⟶ longleftarrow:⟵ uparrow:↑ downarrow:↓ nearrow:↗ searrow:↘ '
  + 'ldots:… dots:… cdots:⋯ vdots:⋮ ddots:⋱ prime:′ degree:° colon:: langle:⟨ rangle:⟩ lfloor:⌊ rfloor:⌋ '
  + 'lceil:⌈ rceil:⌉ lbrace:{ rbrace:} vert:| Vert:‖ |:‖ {:{ }:} #:# $:$ %:% &:& _:_ '
  + 'sum:∑ prod:∏ coprod:∐ int:∫ iint:∬ iiint:∭ oint:∮ bigcup:⋃ bigcap:⋂ bigoplus:⨁ bigotimes:⨂ bigvee:⋁ bigwedge:⋀';
const table = (text) => Object.fromEntries(text.split(' ').map((pair) => [pair.slice(0, pair.indexOf(':', 1)), pair.slice(pair.indexOf(':', 1) + 1)]));
const identifiers = table(greek);
const symbols = table(operators);
const bigOperators = new Set(['sum', 'prod', 'coprod', 'bigcup', 'bigcap', 'bigoplus', 'bigotimes', 'bigvee', 'bigwedge']);
const functions = new Set(('sin cos tan cot sec csc arcsin arccos arctan sinh cosh tanh coth exp log ln lg det dim ker deg '
  + 'gcd hom arg max min sup inf lim liminf limsup Pr').split(' '));
const limitFunctions = new Set(['lim', 'liminf', 'limsup', 'max', 'min', 'sup', 'inf', 'det', 'gcd', 'Pr']);
const spaces = { ',': '0.1667em', ':': '0.2222em', '>': '0.2222em', ';': '0.2778em', ' ': '0.25em', '!': '-0.1667em', quad: '1em', qquad: '2em', enspace: '0.5em' };
const accents = { hat: '^', widehat: '^', bar: '¯', overline: '‾', vec: '→', overrightarrow: '→', dot: '˙', ddot: '¨',
  tilde: '~', widetilde: '~', check: 'ˇ', breve: '˘', acute: '´', grave: '`', overbrace: '⏞' };
const underAccents = { underline: '_', underbrace: '⏟' };
const fonts = { mathbb: [0x1D538, 0x1D552, 0x1D7D8, 'C2102H210DN2115P2119Q211AR211DZ2124'],
  mathcal: [0x1D49C, 0x1D4B6, null, 'B212CE2130F2131H210BI2110L2112M2133R211Be212Fg210Ao2134'],
  mathscr: [0x1D49C, 0x1D4B6, null, 'B212CE2130F2131H210BI2110L2112M2133R211Be212Fg210Ao2134'],
  mathfrak: [0x1D504, 0x1D51E, null, 'C212DH210CI2111R211CZ2128'],
  mathbf: [0x1D400, 0x1D41A, 0x1D7CE, ''], boldsymbol: [0x1D400, 0x1D41A, 0x1D7CE, ''], bm: [0x1D400, 0x1D41A, 0x1D7CE, ''],
  mathsf: [0x1D5A0, 0x1D5BA, 0x1D7E2, ''], mathtt: [0x1D670, 0x1D68A, 0x1D7F6, ''] };
const fences = { matrix: ['', ''], pmatrix: ['(', ')'], bmatrix: ['[', ']'], Bmatrix: ['{', '}'], vmatrix: ['|', '|'],
  Vmatrix: ['‖', '‖'], cases: ['{', ''], rcases: ['', '}'] };

/** A letter or digit in one of the mathematical alphabets. */
function styled(character, font) {
  const [upper, lower, digit, holes] = fonts[font];
  const hole = holes.match(new RegExp(`${character}([0-9A-F]{4})`));
  if (hole) return String.fromCodePoint(parseInt(hole[1], 16));
  const code = character.charCodeAt(0);
  if (code >= 65 && code <= 90) return String.fromCodePoint(upper + code - 65);
  if (code >= 97 && code <= 122) return String.fromCodePoint(lower + code - 97);
  if (code >= 48 && code <= 57 && digit) return String.fromCodePoint(digit + code - 48);
  return character;
}

class Parser {
  constructor(source) {
    this.source = source;
    this.at = 0;
    this.depth = 0;
  }

  get done() { return this.at >= this.source.length; }
  skipSpace() { while (!this.done && /\s/.test(this.source[this.at])) this.at++; }
  peek() { this.skipSpace(); return this.source[this.at]; }

  /** The command name at the position (after `\`), without moving. */
  peekCommand() {
    this.skipSpace();
    const match = /^\\([a-zA-Z]+|.)/.exec(this.source.slice(this.at, this.at + 40));
    return match ? match[1] : null;
  }

  readCommand() {
    const match = /^\\([a-zA-Z]+\*?|.)/.exec(this.source.slice(this.at));
    if (!match) { this.at++; return ''; }
    this.at += match[0].length;
    return match[1];
  }

  /** Nodes up to the end or a closing token: `}`, `]` when asked, `&` and `\\` in tables, `\right`, `\end`. */
  list(closing = '') {
    const nodes = [];
    if (++this.depth > maxDepth) { nodes.push(node('mtext', {}, this.source.slice(this.at))); this.at = this.source.length; }
    while (!this.done) {
      const next = this.peek();
      if (next === undefined || closing.includes(next)) break;
      const command = next === '\\' ? this.peekCommand() : null;
      if (command === 'right' || command === 'end' || (closing.includes('&') && command === '\\')) break;
      if (command === '\\' || next === '&') { this.at += next === '&' ? 1 : 2; continue; }
      nodes.push(this.scripted());
    }
    this.depth--;
    return nodes;
  }

  /** A term with its subscript and superscript. */
  scripted() {
    const base = this.primary();
    let sub = null;
    let sup = null;
    for (;;) {
      const next = this.peek();
      if (next === '^' && !sup) { this.at++; sup = this.argument(); } else if (next === '_' && !sub) { this.at++; sub = this.argument(); } else if (next === "'") {
        this.at++;
        sup = sup ? row([sup, mo('′')]) : mo('′');
      } else break;
    }
    if (!sub && !sup) return base;
    const limits = base.limits;
    if (sub && sup) return node(limits ? 'munderover' : 'msubsup', {}, base, sub, sup);
    return sub ? node(limits ? 'munder' : 'msub', {}, base, sub) : node(limits ? 'mover' : 'msup', {}, base, sup);
  }

  /** The argument of a command or script: a group, or one symbol (one digit of a number). */
  argument() {
    const next = this.peek();
    if (next === undefined) return node('mrow');
    if (next === '{') return this.group();
    if (/[0-9]/.test(next)) { this.at++; return node('mn', {}, next); }
    return this.primary();
  }

  group() {
    this.at++;
    const nodes = this.list('}');
    if (this.peek() === '}') this.at++;
    return node('mrow', {}, ...nodes);
  }

  /** Raw text between braces (for \text and \begin), braces nested inside kept. */
  rawGroup() {
    if (this.peek() !== '{') return this.done ? '' : this.source[this.at++];
    let depth = 0;
    const start = this.at + 1;
    for (; this.at < this.source.length; this.at++) {
      const character = this.source[this.at];
      if (character === '\\') { this.at++; continue; }
      if (character === '{') depth++;
      if (character === '}' && --depth === 0) return this.source.slice(start, this.at++);
    }
    return this.source.slice(start);
  }

  optional() {
    if (this.peek() !== '[') return null;
    this.at++;
    const nodes = this.list(']');
    if (this.peek() === ']') this.at++;
    return row(nodes);
  }

  primary() {
    const character = this.peek();
    if (character === '{') return this.group();
    if (character === '\\') return this.command(this.readCommand());
    this.at++;
    if (/[0-9.]/.test(character)) {
      const number = /^[0-9]*\.?[0-9]*/.exec(this.source.slice(this.at - 1))[0];
      this.at += number.length - 1;
      return node(number === '.' ? 'mo' : 'mn', {}, number);
    }
    if (/[a-zA-Z]/.test(character)) return node('mi', {}, character);
    if (character === '~') return node('mspace', { width: '0.25em' });
    if (character === '^' || character === '_') { this.at--; return node('mrow'); }
    const symbol = { '-': '−', '*': '∗', "'": '′' }[character] ?? character;
    const fence = '()[]|'.includes(character);
    return mo(symbol, fence ? { stretchy: 'false' } : {});
  }

  /** A delimiter after \left, \right, \big…: a character or a command; `.` is none. */
  delimiter() {
    const next = this.peek();
    if (next === undefined) return '';
    if (next === '\\') {
      const name = this.readCommand();
      return symbols[name] ?? ({ lvert: '|', rvert: '|', lVert: '‖', rVert: '‖' }[name] ?? '');
    }
    this.at++;
    return next === '.' ? '' : next;
  }

  command(starred) {
    const name = starred.replace(/(.)\*$/, '$1');
    if (name in spaces) return node('mspace', { width: spaces[name] });
    if (name in identifiers) return node('mi', /^[A-Z]/.test(name) && name.length > 1 ? { mathvariant: 'normal' } : {}, identifiers[name]);
    if (name in symbols) {
      const operator = mo(symbols[name]);
      if (bigOperators.has(name)) operator.limits = true;
      return operator;
    }
    if (functions.has(name)) {
      const identifier = node('mi', {}, name);
      if (limitFunctions.has(name)) identifier.limits = true;
      return identifier;
    }
    if (name in accents) return node('mover', { accent: 'true' }, this.argument(), mo(accents[name], { stretchy: String(name.startsWith('wide') || name.startsWith('over')) }));
    if (name in underAccents) return node('munder', { accentunder: 'true' }, this.argument(), mo(underAccents[name], { stretchy: 'true' }));
    if (name in fonts) {
      const text = this.rawGroup();
      if (text.includes('\\')) return row(new Parser(text).list());
      return node('mi', { mathvariant: 'normal' }, [...text].filter((c) => !/\s/.test(c)).map((c) => styled(c, name)).join(''));
    }
    switch (name) {
      case 'frac': case 'dfrac': case 'tfrac': case 'cfrac': return node('mfrac', {}, this.argument(), this.argument());
      case 'binom': case 'dbinom': case 'tbinom':
        return node('mrow', {}, mo('('), node('mfrac', { linethickness: '0' }, this.argument(), this.argument()), mo(')'));
      case 'sqrt': {
        const index = this.optional();
        const radicand = this.argument();
        return index ? node('mroot', {}, radicand, index) : node('msqrt', {}, radicand);
      }
      case 'left': {
        const open = this.delimiter();
        const inner = this.list();
        let close = '';
        if (this.peekCommand() === 'right') { this.readCommand(); close = this.delimiter(); }
        return node('mrow', {}, mo(open, { stretchy: 'true' }), ...inner, mo(close, { stretchy: 'true' }));
      }
      case 'middle': return mo(this.delimiter(), { stretchy: 'true' });
      case 'big': case 'Big': case 'bigg': case 'Bigg': case 'bigl': case 'bigr': case 'Bigl': case 'Bigr': case 'biggl': case 'biggr':
        return mo(this.delimiter(), { stretchy: 'false', minsize: name.startsWith('Big') ? '1.6em' : '1.2em' });
      case 'text': case 'textrm': case 'textit': case 'textbf': case 'mbox': case 'textsf': case 'texttt':
        return node('mtext', {}, this.rawGroup());
      case 'mathrm': case 'operatorname': case 'mathit':
        return node('mi', name === 'mathit' ? {} : { mathvariant: 'normal' }, this.rawGroup().replace(/\s+/g, ''));
      case 'overset': case 'stackrel': { const over = this.argument(); return node('mover', {}, this.argument(), over); }
      case 'underset': { const under = this.argument(); return node('munder', {}, this.argument(), under); }
      case 'boxed': case 'fbox': return node('mrow', { class: 'maths-boxed' }, this.argument());
      case 'not': { const negated = this.primary(); negated.textContent += '\u0338'; return negated; }
      case 'pmod': return node('mrow', {}, mo('('), node('mi', {}, 'mod'), node('mspace', { width: '0.3em' }), this.argument(), mo(')'));
      case 'bmod': case 'mod': return mo('mod');
      case 'color': case 'textcolor': this.rawGroup(); return this.argument();
      case 'displaystyle': case 'textstyle': case 'scriptstyle': case 'limits': case 'nolimits': case 'nonumber': case 'notag':
        return node('mrow');
      case 'begin': return this.environment(this.rawGroup());
      default: return node('mtext', { class: 'maths-unknown' }, `\\${name}`);
    }
  }

  /** \begin{matrix}…\end{matrix} and its kin: rows split by `\\`, cells by `&`. */
  environment(name) {
    const bare = name.replace('*', '');
    if (bare === 'array') this.rawGroup();
    const rows = [];
    for (let cells = [[]]; ;) {
      cells[cells.length - 1].push(...this.list('&'));
      const next = this.peek();
      if (next === '&') { this.at++; cells.push([]); continue; }
      const command = this.peekCommand();
      if (command === '\\') { this.readCommand(); this.optional(); rows.push(cells); cells = [[]]; continue; }
      if (command === 'end') { this.readCommand(); this.rawGroup(); }
      if (cells.some((cell) => cell.length) || cells.length > 1) rows.push(cells);
      break;
    }
    const aligned = ['aligned', 'align', 'alignat', 'split', 'eqnarray', 'gather', 'gathered', 'cases', 'rcases'].includes(bare);
    const tableNode = node('mtable', aligned ? { columnalign: bare.startsWith('gather') ? 'center' : bare.endsWith('cases') ? 'left left' : 'right left' } : {},
      ...rows.map((cells) => node('mtr', {}, ...cells.map((cell) => node('mtd', {}, row(cell.length ? cell : [node('mrow')]))))));
    const [open, close] = fences[bare] ?? ['', ''];
    if (!open && !close) return tableNode;
    return node('mrow', {}, mo(open, { stretchy: 'true' }), tableNode, mo(close, { stretchy: 'true' }));
  }
}

/** The MathML of a TeX formula (in display style for `display`). */
export function toMathML(tex, display = false) {
  const math = node('math', display ? { display: 'block' } : {});
  if (tex.length > maxLength) { math.append(node('mtext', {}, tex)); return math; }
  const parser = new Parser(tex);
  const nodes = [];
  while (!parser.done) {
    nodes.push(...parser.list());
    if (!parser.done) { parser.readCommand(); parser.rawGroup(); } // a stray \right or \end
  }
  math.append(row(nodes.length ? nodes : [node('mrow')]));
  return math;
}

/** Shows the formula in `element` (which holds its TeX source until then). */
export function typeset(element, tex, display) {
  element.replaceChildren(toMathML(tex, display));
}
