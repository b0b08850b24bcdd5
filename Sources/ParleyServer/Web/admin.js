// The administrators' part of the account dialog: users with their role, token budget and tokens of the last
// 30 days (approving a pending sign-up is choosing "user"; a reset link for a forgotten password), and the
// security events, newest first.
import { api } from './api.js';
import { h, byId, toast } from './dom.js';
import { currentUser } from './auth.js';

const number = new Intl.NumberFormat();
let auditBefore = null;

async function patchUser(user, change, done) {
  try {
    await api('PATCH', `/admin/users/${user.id}`, change);
    toast(done);
    return true;
  } catch (error) {
    toast(error.explanation, 6000);
    return false;
  }
}

function rolePicker(user) {
  const picker = h('select', { 'aria-label': `Role of ${user.email}`, disabled: user.id === currentUser().id ? '' : null },
    ...['admin', 'user', 'pending', 'disabled'].map((role) => h('option', { value: role, text: role })));
  picker.value = user.role;
  picker.addEventListener('change', async () => {
    if (!await patchUser(user, { role: picker.value }, `${user.email} is now ${picker.value}.`)) picker.value = user.role;
  });
  return picker;
}

function budgetField(user) {
  const field = h('input', { type: 'number', min: 0, step: 1000, class: 'budget-field', placeholder: 'default',
    'aria-label': `Token budget of ${user.email} (empty: the server's default)`, value: user.token_budget ?? '' });
  field.addEventListener('change', async () => {
    const budget = field.value === '' ? null : Number(field.value);
    const said = budget === null ? `${user.email} has the default budget.` : `${user.email} may use ${number.format(budget)} tokens.`;
    if (!await patchUser(user, { token_budget: budget }, said)) field.value = user.token_budget ?? '';
  });
  return field;
}

export async function loadUsers() {
  const [{ data }, { data: usage }] = await Promise.all([api('GET', '/admin/users?limit=200'), api('GET', '/admin/usage?days=30&limit=200')]);
  const spent = new Map(usage.map((row) => [row.user_id, row.prompt_tokens + row.completion_tokens]));
  byId('user-list').replaceChildren(...data.map((user) => {
    const reset = h('button', { class: 'button', type: 'button', text: 'Reset link', 'aria-label': `Password reset link for ${user.email}`,
      onclick: () => resetLink(user) });
    return h('li', { class: 'user-item' },
      h('span', {}, user.email, h('span', { class: 'hint', text: ` · ${number.format(spent.get(user.id) ?? 0)} tokens in 30 days` })),
      h('span', {}, rolePicker(user), ' ', budgetField(user), ' ', reset));
  }));
}

/** A one-time link with which the user sets a new password (valid a day), for the administrator to pass on. */
async function resetLink(user) {
  try {
    const { reset_path: path } = await api('POST', `/admin/users/${user.id}/password-reset`);
    byId('reset-link').textContent = `Send this link to ${user.email}; it works once, within a day: ${location.origin}${path}`;
    byId('reset-link').hidden = false;
  } catch (error) {
    toast(error.explanation, 6000);
  }
}

/** Security events, 50 at a time; `more` adds the next older page. */
export async function loadAudit(more = false) {
  if (!more) auditBefore = null;
  const query = auditBefore ? `&before=${encodeURIComponent(auditBefore)}` : '';
  const { data } = await api('GET', `/admin/audit?limit=50${query}`);
  const items = data.map((event) => h('li', { class: 'audit-item' },
    h('span', { text: `${new Date(event.at).toLocaleString()} · ${event.kind.replaceAll('_', ' ')}` }),
    h('span', { class: 'hint', text: [event.detail, event.address].filter(Boolean).join(' · ') })));
  if (more) byId('audit-list').append(...items);
  else byId('audit-list').replaceChildren(...items);
  if (data.length > 0) auditBefore = data[data.length - 1].at;
  byId('audit-more').hidden = data.length < 50;
}

byId('audit-more').addEventListener('click', () => loadAudit(true).catch((error) => toast(error.explanation, 6000)));
