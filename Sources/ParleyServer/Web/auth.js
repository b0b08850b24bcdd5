// Signing in: the first-run form that creates the administrator, sign-in (with the single sign-on button when
// the server has a provider; its refusals come back as `/#sso-error=…`), sign-up where the server allows it,
// and signing in again over the page when a session ends mid-chat (the page, its conversation and the message
// being typed stay as they are underneath).
import { api, setCsrfToken, onSignedOut } from './api.js';
import { byId } from './dom.js';

const dialog = byId('auth-dialog');
const form = byId('auth-form');
let state = null;
let mode = 'login';
let waiting = null;
let resetToken = null;

const texts = {
  setup: ['Create the administrator', 'Welcome to Parley. This first account manages the server; it also receives any chats stored before accounts existed.', 'Create account'],
  login: ['Sign in', '', 'Sign in'],
  again: ['Sign in again', 'Your session has ended. Sign in to continue; nothing on the page is lost.', 'Sign in'],
  signup: ['Create an account', '', 'Create account'],
  reset: ['Choose a new password', 'An administrator sent you this link; it works once, within a day.', 'Set password'],
};

function show(newMode) {
  mode = newMode;
  const [title, intro, submit] = texts[mode];
  byId('auth-title').textContent = title;
  byId('auth-intro').textContent = intro;
  byId('auth-intro').hidden = !intro;
  byId('auth-submit').textContent = submit;
  const naming = mode === 'setup' || mode === 'signup';
  byId('auth-name-row').hidden = !naming;
  byId('auth-email-row').hidden = mode === 'reset';
  byId('auth-email').required = mode !== 'reset';
  byId('auth-password').autocomplete = naming || mode === 'reset' ? 'new-password' : 'current-password';
  byId('auth-switch').hidden = !(mode === 'login' && state?.signup !== 'closed');
  // Single sign-on leaves the page, so not while a chat waits underneath.
  byId('auth-sso').hidden = !(state?.sso && mode === 'login');
  byId('auth-sso').textContent = state?.sso ?? '';
  byId('auth-error').hidden = true;
  if (!dialog.open) dialog.showModal();
  byId(naming ? 'auth-name' : mode === 'reset' ? 'auth-password' : 'auth-email').focus();
}

/** Resolves with the signed-in user once the form succeeds. */
function ask(newMode) {
  waiting ??= new Promise((resolve) => {
    form.onsubmit = async (event) => {
      event.preventDefault();
      const body = mode === 'reset' ? { token: resetToken, password: byId('auth-password').value }
        : { email: byId('auth-email').value, password: byId('auth-password').value };
      if (mode === 'setup' || mode === 'signup') body.name = byId('auth-name').value;
      if (!byId('auth-code-row').hidden) body.code = byId('auth-code').value;
      const path = { setup: '/auth/setup', signup: '/auth/signup', login: '/auth/login', again: '/auth/login',
        reset: '/auth/reset' }[mode];
      byId('auth-submit').disabled = true;
      try {
        const answer = await api('POST', path, body);
        if (!answer.csrf_token) {
          fail('Your account waits for an administrator’s approval. You can sign in once it is approved.');
          show('login');
          return;
        }
        state = answer;
        setCsrfToken(answer.csrf_token);
        byId('auth-password').value = '';
        byId('auth-code').value = '';
        byId('auth-code-row').hidden = true;
        dialog.close();
        waiting = null;
        resolve(answer.user);
      } catch (error) {
        if (error.code === 'totp_required') {
          byId('auth-code-row').hidden = false;
          byId('auth-code').focus();
        }
        fail(error.explanation);
      } finally {
        byId('auth-submit').disabled = false;
      }
    };
    show(newMode);
  });
  return waiting;
}

function fail(text) {
  byId('auth-error').textContent = text;
  byId('auth-error').hidden = false;
}

byId('auth-switch').addEventListener('click', () => show('signup'));
// The form is the way on; Escape does not dismiss it.
dialog.addEventListener('cancel', (event) => event.preventDefault());
// A session that ended: behind a proxy that signs users in, asking again makes a new one; otherwise the form.
// A reset link pasted into an open tab changes only the fragment: start over so it is read.
window.addEventListener('hashchange', () => { if (location.hash.startsWith('#reset=')) location.reload(); });
onSignedOut(async () => {
  const fresh = await api('GET', '/auth/session').catch(() => null);
  if (fresh?.user) {
    state = fresh;
    setCsrfToken(fresh.csrf_token);
    return fresh.user;
  }
  return ask('again');
});

/** The signed-in user, asking for the first-run form or sign-in first when needed. */
export async function signedIn() {
  // A reset link (`/#reset=TOKEN`, from an administrator): the token stays out of the history and the server's logs.
  const reset = /^#reset=([A-Za-z0-9_-]{20,100})$/.exec(location.hash);
  if (reset) {
    resetToken = reset[1];
    history.replaceState(null, '', location.pathname);
    state = await api('GET', '/auth/session');
    return ask('reset');
  }
  // A refused single sign-on: say why on the form.
  const refused = /^#sso-error=(.*)$/.exec(location.hash);
  if (refused) history.replaceState(null, '', location.pathname);
  try {
    state = await api('GET', '/auth/session');
  } catch (error) {
    // Signed in by a proxy as an account that may not use Parley (waiting for approval, disabled): say so.
    const answer = ask('login');
    fail(error.explanation);
    return answer;
  }
  if (state.user) {
    setCsrfToken(state.csrf_token);
    return state.user;
  }
  const answer = ask(state.setup_required ? 'setup' : 'login');
  if (refused) {
    let reason = 'the sign-in was refused';
    try { reason = decodeURIComponent(refused[1]); } catch { /* a mangled address: the plain words */ }
    fail(`Single sign-on failed: ${reason}`);
  }
  return answer;
}

/** The user signed in now. */
export function currentUser() { return state?.user ?? null; }

export async function signOut() {
  await api('POST', '/auth/logout');
  setCsrfToken(null);
  location.assign('/');
}
