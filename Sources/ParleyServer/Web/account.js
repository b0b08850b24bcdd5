// The account dialog: who is signed in, two-factor sign-in (on with a code from the app, recovery codes shown
// once; off with the password), API keys (a new key is shown once), the devices signed in (each can be
// signed out), sign-out, and for administrators
// the list of users with their roles (approving a pending sign-up is choosing "user").
import { api } from './api.js';
import { h, byId, toast, copyText, confirmAction } from './dom.js';
import { currentUser, signOut } from './auth.js';

const dialog = byId('account-dialog');

async function loadKeys() {
  const { data } = await api('GET', '/account/keys');
  byId('key-list').replaceChildren(...data.map((key) => h('li', { class: 'key-item' },
    h('span', { class: 'key-name', text: `${key.name} · ${key.prefix}… · ${key.scopes.join(', ')}` }),
    h('button', { class: 'button', type: 'button', text: 'Delete', onclick: () => deleteKey(key) }))));
  if (data.length === 0) byId('key-list').append(h('li', { class: 'hint', text: 'No API keys yet.' }));
}

function showSecondFactor(on) {
  byId('totp-status').textContent = on ? 'On: signing in also takes a code from your authenticator app.'
    : 'Off: signing in takes the password only.';
  byId('totp-start').hidden = on;
  byId('totp-password').hidden = !on;
  byId('totp-off').hidden = !on;
  byId('totp-setup').hidden = true;
}

async function startSecondFactor() {
  const { secret, otpauth_url: url } = await api('POST', '/account/totp');
  byId('totp-secret').textContent = secret;
  byId('totp-link').href = url;
  byId('totp-setup').hidden = false;
  byId('totp-code').focus();
}

async function confirmSecondFactor() {
  try {
    const { recovery_codes: codes } = await api('POST', '/account/totp/enable',
      { secret: byId('totp-secret').textContent, code: byId('totp-code').value });
    byId('totp-code').value = '';
    byId('totp-recovery-codes').textContent = codes.join('  ');
    byId('totp-recovery').hidden = false;
    showSecondFactor(true);
  } catch (error) {
    toast(error.explanation, 6000);
  }
}

async function stopSecondFactor() {
  try {
    await api('POST', '/account/totp/disable', { password: byId('totp-password').value });
    byId('totp-password').value = '';
    showSecondFactor(false);
  } catch (error) {
    toast(error.explanation, 6000);
  }
}

async function loadSessions() {
  const { data } = await api('GET', '/account/sessions');
  byId('session-list').replaceChildren(...data.map((session) => h('li', {},
    h('span', { text: `${session.user_agent.slice(0, 60) || 'Unknown browser'} · ${session.address} · since ${new Date(session.created_at).toLocaleDateString()}` }),
    session.current ? h('span', { class: 'hint', text: 'This device' })
      : h('button', { class: 'button', type: 'button', text: 'Sign out', onclick: () => endSession(session) }))));
}

async function endSession(session) {
  await api('DELETE', `/account/sessions/${session.id}`);
  await loadSessions();
}

async function deleteKey(key) {
  if (!await confirmAction(`Delete the key “${key.name}”? Programs using it stop working.`)) return;
  await api('DELETE', `/account/keys/${key.id}`);
  await loadKeys();
}

async function createKey() {
  const name = byId('key-name').value.trim() || 'API key';
  try {
    const key = await api('POST', '/account/keys', { name });
    byId('key-secret-value').textContent = key.key;
    byId('key-secret').hidden = false;
    byId('key-name').value = '';
    await loadKeys();
  } catch (error) {
    toast(error.explanation, 6000);
  }
}

async function loadUsers() {
  const { data } = await api('GET', '/admin/users?limit=200');
  const me = currentUser();
  byId('user-list').replaceChildren(...data.map((user) => {
    const picker = h('select', { 'aria-label': `Role of ${user.email}`, disabled: user.id === me.id ? '' : null },
      ...['admin', 'user', 'pending', 'disabled'].map((role) => h('option', { value: role, text: role })));
    picker.value = user.role;
    picker.addEventListener('change', async () => {
      try {
        await api('PATCH', `/admin/users/${user.id}`, { role: picker.value });
        toast(`${user.email} is now ${picker.value}.`);
      } catch (error) {
        toast(error.explanation, 6000);
        picker.value = user.role;
      }
    });
    const reset = h('button', { class: 'button', type: 'button', text: 'Reset link', 'aria-label': `Password reset link for ${user.email}`,
      onclick: () => resetLink(user) });
    return h('li', { class: 'user-item' }, h('span', { text: user.email }), h('span', {}, picker, ' ', reset));
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

byId('open-account').addEventListener('click', async () => {
  const user = currentUser();
  byId('account-who').textContent = `${user.name || user.email} · ${user.email} · ${user.role}`;
  byId('key-secret').hidden = true;
  byId('totp-recovery').hidden = true;
  byId('reset-link').hidden = true;
  byId('admin-section').hidden = user.role !== 'admin';
  dialog.showModal();
  try {
    const [me] = await Promise.all([api('GET', '/account'), loadKeys(), loadSessions()]);
    showSecondFactor(me.two_factor);
    if (user.role === 'admin') await loadUsers();
  } catch (error) {
    toast(error.explanation, 6000);
  }
});
byId('key-create').addEventListener('click', createKey);
byId('key-copy').addEventListener('click', () => copyText(byId('key-secret-value').textContent));
byId('sign-out').addEventListener('click', () => signOut());
byId('totp-start').addEventListener('click', () => startSecondFactor().catch((error) => toast(error.explanation, 6000)));
byId('totp-confirm').addEventListener('click', confirmSecondFactor);
byId('totp-off').addEventListener('click', stopSecondFactor);
