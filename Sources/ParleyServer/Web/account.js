// The account dialog: who is signed in, two-factor sign-in (on with a code from the app, recovery codes shown
// once; off with the password), API keys (a new key is shown once, with an optional token budget), usage, the
// devices signed in (each can be signed out), sign-out, and for administrators users and security events
// (admin.js).
import { api } from './api.js';
import { h, byId, toast, copyText, confirmAction } from './dom.js';
import { currentUser, signOut } from './auth.js';
import { loadUsage } from './usage.js';
import { loadUsers, loadAudit } from './admin.js';
import { loadPromptSettings, savePrompt } from './prompts.js';

const dialog = byId('account-dialog');

async function loadKeys() {
  const { data } = await api('GET', '/account/keys');
  byId('key-list').replaceChildren(...data.map((key) => h('li', { class: 'key-item' },
    h('span', { class: 'key-name', text: `${key.name} · ${key.prefix}… · ${key.scopes.join(', ')}${key.token_budget === null ? '' : ` · budget ${key.token_budget}`}` }),
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
  const budget = byId('key-budget').value;
  try {
    const key = await api('POST', '/account/keys', { name, ...(budget === '' ? {} : { token_budget: Number(budget) }) });
    byId('key-secret-value').textContent = key.key;
    byId('key-secret').hidden = false;
    byId('key-name').value = '';
    byId('key-budget').value = '';
    await loadKeys();
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
    const [me] = await Promise.all([api('GET', '/account'), loadKeys(), loadSessions(), loadUsage(), loadPromptSettings()]);
    showSecondFactor(me.two_factor);
    if (user.role === 'admin') await Promise.all([loadUsers(), loadAudit()]);
  } catch (error) {
    toast(error.explanation, 6000);
  }
});
byId('key-create').addEventListener('click', createKey);
byId('prompt-save').addEventListener('click', savePrompt);
byId('key-copy').addEventListener('click', () => copyText(byId('key-secret-value').textContent));
byId('sign-out').addEventListener('click', () => signOut());
byId('totp-start').addEventListener('click', () => startSecondFactor().catch((error) => toast(error.explanation, 6000)));
byId('totp-confirm').addEventListener('click', confirmSecondFactor);
byId('totp-off').addEventListener('click', stopSecondFactor);
