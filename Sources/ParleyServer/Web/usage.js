// Usage in the account dialog: this period's budget (what is spent, what is left, when it renews) and the
// tokens of the last 30 days per day and model.
import { api } from './api.js';
import { h, byId } from './dom.js';

const number = new Intl.NumberFormat();

/** Renders a usage report (`GET /account/usage` or an administrator's view of one user) into the dialog. */
export function showUsage(report, container = byId('usage')) {
  const renews = new Date(report.resets_at).toLocaleString();
  const summary = report.budget === null
    ? `${number.format(report.spent)} tokens this ${report.period}; no budget.`
    : `${number.format(report.spent)} of ${number.format(report.budget)} tokens this ${report.period}; renews ${renews}.`;
  const rows = report.data.map((row) => h('tr', {},
    h('td', { text: row.day }), h('td', { text: row.model }), h('td', { text: row.key_id ? 'API key' : 'Web' }),
    h('td', { class: 'number', text: number.format(row.requests) }),
    h('td', { class: 'number', text: number.format(row.prompt_tokens + row.completion_tokens) })));
  const table = rows.length === 0 ? h('p', { class: 'hint', text: 'Nothing used in the last 30 days.' })
    : h('table', { class: 'usage-table' },
      h('thead', {}, h('tr', {}, ...['Day', 'Model', 'Via', 'Requests', 'Tokens'].map((name) => h('th', { scope: 'col', text: name })))),
      h('tbody', {}, ...rows));
  const meter = report.budget === null ? null
    : h('meter', { min: 0, max: Math.max(1, report.budget), value: report.spent, 'aria-label': 'Budget used' });
  container.replaceChildren(h('p', { class: 'hint', text: summary }), meter, table);
}

export async function loadUsage() {
  showUsage(await api('GET', '/account/usage?days=30'));
}
