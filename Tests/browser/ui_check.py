"""Drives Parley's web UI in headless Chromium (Selenium) against a live Parley in front of the mock model.

usage: ui_check.py BASE_URL SCREENSHOT_DIR LONG_CONVERSATION_ID [--limited BASE_URL]

BASE_URL is a fresh server (no account yet, sign-up by approval): the browser creates the administrator, who
receives the conversations stored before. The --limited server already has its administrator (same email and
password); the browser signs in there through the form.

Each check asserts on what a user sees, and on the API where the UI must have saved something. Prints one line
per check and "all passed" at the end; exits non-zero on the first failure, with the page's console log.
"""
import base64
import hashlib
import hmac
import json
import os
import socket
import sys
import threading
import time
import traceback
import urllib.request
import urllib.error
import urllib.parse

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.common.action_chains import ActionChains
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.support.ui import Select

from headless import browser, wait

BASE, SHOTS, LONG_ID = sys.argv[1], sys.argv[2], sys.argv[3]
LIMITED = sys.argv[sys.argv.index('--limited') + 1] if '--limited' in sys.argv else None


ADMIN_EMAIL, PASSWORD = 'admin@example.com', 'correct horse battery staple'
SESSIONS = {}


def raw_api(method, path, body=None, base=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request((base or BASE) + '/api/v1' + path, data=data, method=method,
                                     headers={'Content-Type': 'application/json', 'Accept': 'application/json',
                                              **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
            return response.status, (json.loads(text) if text else None), dict(response.headers)
    except urllib.error.HTTPError as error:
        text = error.read().decode()
        return error.code, (json.loads(text) if text else None), dict(error.headers)


def sign_in(email=ADMIN_EMAIL, password=PASSWORD, base=None):
    """A session of the test's own (beside the browser's): its cookie and CSRF token as request headers."""
    status, state, headers = raw_api('POST', '/auth/login', {'email': email, 'password': password}, base)
    assert status == 200, f'sign-in as {email}: {status} {state}'
    cookie = headers['Set-Cookie'].split(';')[0]
    return {'Cookie': cookie, 'X-CSRF-Token': state['csrf_token']}


def api(method, path, body=None, base=None):
    """Calls the API as the administrator."""
    base = base or BASE
    if base not in SESSIONS:
        SESSIONS[base] = sign_in(base=base)
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + '/api/v1' + path, data=data, method=method,
                                     headers={'Content-Type': 'application/json', 'Accept': 'application/json',
                                              **SESSIONS[base]})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
            return response.status, (json.loads(text) if text else None), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read().decode() or 'null'), dict(error.headers)


class CuttableProxy:
    """A TCP relay in front of Parley whose open connections can all be cut at once, as a dropped network would."""

    def __init__(self, target):
        parsed = urllib.parse.urlsplit(target)
        self.target = (parsed.hostname, parsed.port)
        self.listener = socket.create_server(('127.0.0.1', 0))
        self.url = f'http://127.0.0.1:{self.listener.getsockname()[1]}'
        self.lock = threading.Lock()
        self.open_sockets = set()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            client, _ = self.listener.accept()
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.open_sockets |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self.pump, args=(source, sink), daemon=True).start()

    def pump(self, source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            self.close(end)

    def close(self, end):
        with self.lock:
            self.open_sockets.discard(end)
        try:
            end.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        end.close()

    def cut(self):
        """Closes every connection open now; returns how many sockets were open."""
        with self.lock:
            ends = list(self.open_sockets)
        for end in ends:
            self.close(end)
        return len(ends)


class UI:
    def __init__(self, driver):
        self.d = driver

    def open(self, path='/', base=None):
        self.d.get((base or BASE) + path)
        wait('the app to start', lambda: self.d.execute_script(
            "return document.querySelector('#model-picker option') !== null"))

    def css(self, selector):
        return self.d.find_elements(By.CSS_SELECTOR, selector)

    def auth_form(self, title):
        """Waits for the sign-in dialog with this title."""
        wait(f'the “{title}” form', lambda: self.d.execute_script(
            "const d = document.getElementById('auth-dialog'); return d.open && "
            "document.getElementById('auth-title').textContent === arguments[0]", title))

    def fill_auth(self, email=ADMIN_EMAIL, password=PASSWORD, name=None):
        if name is not None:
            self.d.find_element(By.ID, 'auth-name').send_keys(name)
        email_box = self.d.find_element(By.ID, 'auth-email')
        email_box.clear()
        email_box.send_keys(email)
        self.d.find_element(By.ID, 'auth-password').send_keys(password, Keys.ENTER)
        wait('the form to close', lambda: not self.d.execute_script("return document.getElementById('auth-dialog').open"))

    def answers(self):
        return self.css('.message.assistant')

    def last_answer_text(self):
        answers = self.answers()
        return answers[-1].find_element(By.CSS_SELECTOR, '.message-body').text if answers else ''

    def last_answer_status(self):
        answers = self.answers()
        return answers[-1].get_attribute('data-status') if answers else None

    def type_and_send(self, text):
        box = self.d.find_element(By.ID, 'composer-input')
        # Long or multi-line text goes in at once (send_keys would press Enter at each line break).
        self.d.execute_script("arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'))", box, text)
        box.send_keys(Keys.ENTER)

    def conversation_id(self):
        path = self.d.execute_script('return location.pathname')
        assert path.startswith('/c/'), f'URL names no conversation: {path}'
        return path[3:]

    def wait_answer_done(self, timeout=30):
        wait('the answer to finish', lambda: self.answers() and self.last_answer_status() != 'streaming', timeout)

    def button(self, scope, label):
        # A message redraws its buttons (when it becomes the newest, when an answer ends): look again then. A
        # scope that is itself gone stays stale, for a caller that finds it again (unless_stale).
        stale = None
        for _ in range(20):
            try:
                for element in scope.find_elements(By.CSS_SELECTOR, 'button'):
                    if element.get_attribute('aria-label') == label or element.text == label:
                        return element
                stale = None
                break
            except StaleElementReferenceException as error:
                stale = error
                time.sleep(0.05)
        if stale:
            raise stale
        raise AssertionError(f'no button {label!r}')


def check_first_run_creates_the_administrator(ui):
    ui.d.get(BASE + '/')
    ui.auth_form('Create the administrator')
    status, _, _ = raw_api('GET', '/conversations')
    assert status == 401, 'nothing is readable before the administrator exists'
    ui.d.find_element(By.ID, 'auth-email').send_keys(ADMIN_EMAIL)
    ui.d.find_element(By.ID, 'auth-password').send_keys('password1', Keys.ENTER)  # too short and too common
    wait('the refusal', lambda: ui.d.find_element(By.ID, 'auth-error').is_displayed())
    ui.d.find_element(By.ID, 'auth-password').clear()
    ui.fill_auth(name='Ada')  # (fill_auth types the email again)
    wait('the app to start', lambda: ui.d.execute_script("return document.querySelector('#model-picker option') !== null"))
    cookie = next(c for c in ui.d.get_cookies() if c['name'] == 'parley_session')
    assert cookie['httpOnly'] and cookie.get('sameSite') == 'Lax', f'session cookie flags: {cookie}'
    assert 'parley_session' not in ui.d.execute_script('return document.cookie'), 'scripts cannot read the session'
    # The conversations stored before accounts existed now belong to the administrator.
    status, page, _ = api('GET', f'/conversations/{LONG_ID}')
    assert status == 200 and page['message_count'] == 1000, f'{status} {page}'


def totp(secret, at=None):
    """The code an authenticator app shows for `secret` (RFC 6238: SHA-1, 6 digits, 30 s)."""
    counter = int((at or time.time()) // 30)
    digest = hmac.new(secret.encode(), counter.to_bytes(8, 'big'), hashlib.sha1).digest()
    offset = digest[-1] & 0xF
    return f"{(int.from_bytes(digest[offset:offset + 4], 'big') & 0x7FFFFFFF) % 1000000:06d}"


def check_two_factor(ui):
    ui.open('/')
    ui.d.find_element(By.ID, 'open-account').click()
    wait('the two-factor status', lambda: 'Off' in ui.d.find_element(By.ID, 'totp-status').text)
    ui.d.find_element(By.ID, 'totp-start').click()
    secret = wait('the secret', lambda: ui.d.find_element(By.ID, 'totp-secret').text)
    assert ui.d.find_element(By.ID, 'totp-link').get_attribute('href').startswith('otpauth://totp/')
    ui.d.find_element(By.ID, 'totp-code').send_keys(totp(secret))
    ui.d.find_element(By.ID, 'totp-confirm').click()
    codes = wait('the recovery codes', lambda: ui.d.find_element(By.ID, 'totp-recovery').is_displayed()
                 and ui.d.find_element(By.ID, 'totp-recovery-codes').text.split())
    assert len(codes) == 10, codes
    assert 'On' in ui.d.find_element(By.ID, 'totp-status').text
    # Signing in again now takes the app's code.
    ui.d.find_element(By.ID, 'sign-out').click()
    ui.auth_form('Sign in')
    ui.d.find_element(By.ID, 'auth-email').send_keys(ADMIN_EMAIL)
    ui.d.find_element(By.ID, 'auth-password').send_keys(PASSWORD, Keys.ENTER)
    wait('the code field', lambda: ui.d.find_element(By.ID, 'auth-code').is_displayed())
    ui.d.find_element(By.ID, 'auth-code').send_keys(totp(secret), Keys.ENTER)
    wait('the app to start', lambda: ui.d.execute_script("return document.querySelector('#model-picker option') !== null"))
    # And off again, with the password.
    ui.d.find_element(By.ID, 'open-account').click()
    wait('the two-factor status', lambda: 'On' in ui.d.find_element(By.ID, 'totp-status').text)
    ui.d.find_element(By.ID, 'totp-password').send_keys(PASSWORD)
    ui.d.find_element(By.ID, 'totp-off').click()
    wait('two-factor off', lambda: 'Off' in ui.d.find_element(By.ID, 'totp-status').text)
    ui.d.find_element(By.CSS_SELECTOR, '#account-dialog button[value="close"]').click()
    SESSIONS.clear()


def check_password_reset_link(ui):
    ui.open('/')
    ui.d.find_element(By.ID, 'open-account').click()
    wait('the users', lambda: ui.css('button[aria-label="Password reset link for pending@example.com"]'))[0].click()
    text = wait('the link', lambda: ui.d.find_element(By.ID, 'reset-link').is_displayed() and ui.d.find_element(By.ID, 'reset-link').text)
    link = text.split(': ', 1)[1].strip()
    assert '/#reset=' in link, text
    ui.d.find_element(By.CSS_SELECTOR, '#account-dialog button[value="close"]').click()
    ui.d.get(link)
    ui.auth_form('Choose a new password')
    assert '#reset' not in ui.d.execute_script('return location.href'), 'the token leaves the address bar'
    ui.d.find_element(By.ID, 'auth-password').send_keys('a new and unusual passphrase', Keys.ENTER)
    wait('the app to start', lambda: ui.d.execute_script("return document.querySelector('#model-picker option') !== null"))
    assert raw_api('POST', '/auth/login', {'email': 'pending@example.com', 'password': 'a new and unusual passphrase'})[0] == 200
    ui.d.get(link)  # used: refused
    ui.auth_form('Choose a new password')
    ui.d.find_element(By.ID, 'auth-password').send_keys('another unusual passphrase', Keys.ENTER)
    error = wait('the refusal', lambda: ui.d.find_element(By.ID, 'auth-error').is_displayed() and ui.d.find_element(By.ID, 'auth-error'))
    assert 'unknown, used or expired' in error.text, error.text
    ui.d.get(BASE + '/')  # the session the reset made is still there; the next check signs out of it


def check_sign_out_and_in(ui):
    ui.open('/')
    ui.d.find_element(By.ID, 'open-account').click()
    wait('the account dialog', lambda: ui.d.find_element(By.ID, 'account-dialog').is_displayed())
    ui.d.find_element(By.ID, 'sign-out').click()
    ui.auth_form('Sign in')
    ui.d.find_element(By.ID, 'auth-email').send_keys(ADMIN_EMAIL)
    ui.d.find_element(By.ID, 'auth-password').send_keys('not the right password', Keys.ENTER)
    error = wait('the refusal', lambda: ui.d.find_element(By.ID, 'auth-error').is_displayed()
                 and ui.d.find_element(By.ID, 'auth-error'))
    assert 'wrong email or password' in error.text, error.text
    ui.d.find_element(By.ID, 'auth-password').clear()
    ui.fill_auth()
    wait('the app to start', lambda: ui.d.execute_script("return document.querySelector('#model-picker option') !== null"))


def check_session_ending_mid_chat_keeps_the_message(ui):
    ui.open('/')
    ui.type_and_send('first mock:tokens=3')
    ui.wait_answer_done()
    conversation = ui.conversation_id()
    # The session ends on the server (as expiry or a sign-out elsewhere would) while the user types.
    token = next(c['value'] for c in ui.d.get_cookies() if c['name'] == 'parley_session')
    status, _, _ = raw_api('POST', '/auth/logout', headers={'Cookie': f'parley_session={token}'})
    assert status == 204
    box = ui.d.find_element(By.ID, 'composer-input')
    box.send_keys('a message typed while the session ended mock:tokens=3')
    box.send_keys(Keys.ENTER)
    ui.auth_form('Sign in again')
    assert ui.conversation_id() == conversation, 'the open conversation stays'
    ui.fill_auth()
    wait('the message to be sent after signing in', lambda: len(ui.answers()) == 2 and ui.last_answer_status() == 'complete')
    status, page, _ = api('GET', f'/conversations/{conversation}/messages')
    assert [m['content'] for m in page['data'] if m['role'] == 'user'][-1].startswith('a message typed while'), page
    assert ui.d.find_element(By.ID, 'composer-input').get_attribute('value') == ''


def check_api_key_shown_once(ui):
    other = sign_in()  # another device
    ui.open('/')
    ui.d.find_element(By.ID, 'open-account').click()
    wait('the account dialog', lambda: ui.d.find_element(By.ID, 'account-dialog').is_displayed())
    # The devices signed in: this one, and others that can be signed out from here.
    rows = wait('the sessions', lambda: len(ui.css('#session-list li')) >= 2 and ui.css('#session-list li'))
    assert sum('This device' in row.text for row in rows) == 1, [row.text for row in rows]
    assert raw_api('GET', '/account', headers=other)[0] == 200
    for count in range(len(rows) - 1, 0, -1):  # sign out every other device, one by one
        ui.css('#session-list li button')[0].click()
        wait('a device signed out', lambda: len(ui.css('#session-list li')) == count)
    assert 'This device' in ui.css('#session-list li')[0].text
    assert raw_api('GET', '/account', headers=other)[0] == 401, 'the other device is signed out'
    SESSIONS.clear()  # the test's own session went too; api() signs in again
    ui.d.find_element(By.ID, 'key-name').send_keys('laptop')
    ui.d.find_element(By.ID, 'key-create').click()
    secret = wait('the new key', lambda: ui.d.find_element(By.ID, 'key-secret').is_displayed()
                  and ui.d.find_element(By.ID, 'key-secret-value').text)
    assert secret.startswith('pk-'), secret
    wait('the key in the list', lambda: 'laptop' in ui.d.find_element(By.ID, 'key-list').text)
    assert secret not in ui.d.find_element(By.ID, 'key-list').text, 'the list shows the prefix only'
    status, _, _ = raw_api('GET', '/conversations', headers={'Authorization': f'Bearer {secret}'})
    assert status == 200, 'the key works'
    ui.d.find_element(By.CSS_SELECTOR, '#account-dialog button[value="close"]').click()
    ui.d.find_element(By.ID, 'open-account').click()
    wait('the account dialog', lambda: ui.d.find_element(By.ID, 'account-dialog').is_displayed())
    assert not ui.d.find_element(By.ID, 'key-secret').is_displayed(), 'the key is not shown again'
    ui.d.find_element(By.CSS_SELECTOR, '#account-dialog button[value="close"]').click()


def check_admin_approves_a_pending_user(ui):
    status, _, _ = raw_api('POST', '/auth/signup', {'email': 'pending@example.com', 'password': PASSWORD})
    assert status == 202, status
    status, refused, _ = raw_api('POST', '/auth/login', {'email': 'pending@example.com', 'password': PASSWORD})
    assert status == 403 and refused['error']['code'] == 'pending_approval', refused
    ui.open('/')
    ui.d.find_element(By.ID, 'open-account').click()
    picker = wait('the pending user', lambda: ui.d.find_elements(By.CSS_SELECTOR, 'select[aria-label="Role of pending@example.com"]'))[0]
    assert picker.get_attribute('value') == 'pending'
    picker.find_element(By.CSS_SELECTOR, 'option[value="user"]').click()
    wait('the approval', lambda: raw_api('POST', '/auth/login', {'email': 'pending@example.com', 'password': PASSWORD})[0] == 200)
    ui.d.find_element(By.CSS_SELECTOR, '#account-dialog button[value="close"]').click()


def check_usage_budget_and_security_events(ui):
    """The dialog shows what this account used; an administrator sets a user's budget, which the user then
    meets as a 429, and the change appears among the security events."""
    ui.open('/')
    ui.d.find_element(By.ID, 'open-account').click()
    summary = wait('the usage summary', lambda: ui.d.find_element(By.ID, 'usage').text)
    assert 'tokens this day' in summary and 'no budget' in summary, summary
    assert ui.css('#usage table tbody tr'), 'the chats so far are in the table'
    field = wait('the pending user\'s budget field',
                 lambda: ui.d.find_elements(By.CSS_SELECTOR, 'input[aria-label^="Token budget of pending@example.com"]'))[0]
    field.send_keys('0')
    field.send_keys(Keys.TAB)  # a change event
    wait('the budget saved', lambda: api('GET', '/admin/users?q=pending')[1]['data'][0]['token_budget'] == 0)
    pending = sign_in('pending@example.com')
    status, body, _ = raw_api('POST', '/conversations', {}, headers=pending)
    status, refused, headers = raw_api('POST', f'/conversations/{body["id"]}/messages', {'content': 'hi'}, headers=pending)
    assert status == 429 and refused['error']['code'] == 'budget_exceeded', (status, refused)
    ui.d.find_element(By.CSS_SELECTOR, '#account-dialog button[value="close"]').click()
    ui.d.find_element(By.ID, 'open-account').click()
    wait('the budget change among the security events', lambda: 'budget changed' in ui.d.find_element(By.ID, 'audit-list').text)
    ui.d.find_element(By.CSS_SELECTOR, '#account-dialog button[value="close"]').click()


def check_keyboard_send_streams(ui):
    ui.open('/')
    actions = ActionChains(ui.d)
    # Keyboard only. The message box has focus on load, and Tab reaches it from anywhere else.
    assert ui.d.switch_to.active_element.get_attribute('id') == 'composer-input', 'the message box has focus'
    ui.d.execute_script("document.getElementById('model-picker').focus()")  # focus elsewhere
    for _ in range(20):
        if ui.d.switch_to.active_element.get_attribute('id') == 'composer-input':
            break
        actions.send_keys(Keys.TAB).perform()
    assert ui.d.switch_to.active_element.get_attribute('id') == 'composer-input', 'Tab reaches the message box'
    actions.send_keys('Tell me a story mock:tokens=60 mock:delay_ms=60').perform()
    actions.key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).send_keys('second line').perform()
    assert ui.d.find_element(By.ID, 'composer-input').get_attribute('value').endswith('\nsecond line'), 'Shift+Enter adds a line'
    actions.send_keys(Keys.ENTER).perform()
    lengths = []
    wait('an answer', lambda: ui.answers())
    while ui.last_answer_status() == 'streaming':
        lengths.append(len(ui.last_answer_text()))
        time.sleep(0.15)
    growing = sorted(set(n for n in lengths if n > 0))
    assert len(growing) >= 3, f'the text grew while streaming: {growing}'
    assert ui.last_answer_status() == 'complete'
    conversation = ui.conversation_id()
    status, page, _ = api('GET', f'/conversations/{conversation}/messages')
    assert [m['role'] for m in page['data']] == ['user', 'assistant']
    assert page['data'][0]['content'].endswith('\nsecond line')
    assert ui.last_answer_text().split() == page['data'][1]['content'].split(), 'the screen shows the stored answer'
    header = ui.answers()[-1].find_element(By.CSS_SELECTOR, '.message-head').text
    assert 'mock-1' in header and ':' in header, f'model and time are shown: {header!r}'
    return conversation


def check_stop(ui):
    ui.type_and_send('Long one mock:tokens=400 mock:delay_ms=40')
    wait('some streamed text', lambda: ui.last_answer_status() == 'streaming' and len(ui.last_answer_text()) > 20)
    ui.d.find_element(By.ID, 'stop').click()
    wait('the answer to stop', lambda: ui.last_answer_status() == 'cancelled')
    stopped = ui.last_answer_text()
    time.sleep(0.5)
    assert ui.last_answer_text() == stopped, 'no text after stop'
    assert 'Stopped' in ui.answers()[-1].text
    message_id = ui.answers()[-1].get_attribute('data-id')
    _, message, _ = api('GET', f'/messages/{message_id}')
    assert message['status'] == 'cancelled' and 0 < len(message['content']) < 400 * 6


def check_reasoning_collapsed(ui):
    ui.type_and_send('Think first mock:reasoning=40 mock:tokens=6 mock:delay_ms=40')

    def reasoning():
        found = ui.d.execute_script("""
            const answers = document.querySelectorAll('.message.assistant');
            const details = answers[answers.length - 1]?.querySelector('details.reasoning');
            return details && !details.hidden ? [details.querySelector('summary').textContent, details.open,
                                                 details.classList.contains('thinking')] : null""")
        return found
    wait('the reasoning while it streams', lambda: (reasoning() or [''])[0] == 'Thinking…')
    _, is_open, thinking = reasoning()
    assert not is_open and thinking, 'collapsed while the model thinks'
    ui.wait_answer_done()
    summary, is_open, _ = reasoning()
    assert summary.startswith('Thought for ') and summary.endswith(' s') and not is_open, summary
    assert 'Thinking step' not in ui.last_answer_text(), 'the answer holds no reasoning'
    answer = ui.answers()[-1]
    answer.find_element(By.CSS_SELECTOR, 'details.reasoning summary').click()
    body = answer.find_element(By.CSS_SELECTOR, '.reasoning-body')
    wait('the reasoning shown', lambda: body.is_displayed() and body.text.endswith('Thinking step 40.'))
    message_id = answer.get_attribute('data-id')
    _, message, _ = api('GET', f'/messages/{message_id}')
    assert message['reasoning'].startswith('Thinking step 1.') and 'Thinking step' not in message['content']
    ui.open(f'/c/{ui.conversation_id()}')
    wait('the answer again', lambda: ui.answers())
    summary, is_open, _ = reasoning()
    shown = float(summary.removeprefix('Thought for ').removesuffix(' s'))
    assert abs(shown - message['reasoning_ms'] / 1000) <= 0.051 and not is_open, f'not the stored duration: {summary}'


def check_continue_an_answer_cut_at_the_limit(ui):
    _, conversation, _ = api('POST', '/conversations', {'title': 'Cut short', 'parameters': {'max_tokens': 5}})
    ui.open(f"/c/{conversation['id']}")
    wait('the chat', lambda: ui.d.find_element(By.ID, 'composer-input').is_displayed())
    ui.type_and_send('Tell me everything mock:tokens=30 mock:delay_ms=20')
    ui.wait_answer_done()
    first = ui.last_answer_text()
    answer_id = ui.answers()[-1].get_attribute('data-id')
    count = len(ui.css('.message'))
    ui.button(ui.answers()[-1], 'Continue this answer where it stopped').click()
    wait('the answer to go on', lambda: ui.last_answer_text().startswith(first) and len(ui.last_answer_text()) > len(first)
         and ui.last_answer_status() == 'complete')
    assert len(ui.css('.message')) == count and ui.answers()[-1].get_attribute('data-id') == answer_id, 'one message'
    _, message, _ = api('GET', f'/messages/{answer_id}')
    assert message['content'].startswith(first) and message['usage']['completion_tokens'] == 10, message
    assert ui.last_answer_text().replace('\n', ' ').split() == message['content'].split()


def check_regenerate(ui):
    old = ui.answers()[-1].get_attribute('data-id')
    count = len(ui.css('.message'))
    ui.button(ui.answers()[-1], 'Retry this answer' if ui.last_answer_status() in ('error', 'interrupted')
              else 'Regenerate this answer').click()
    wait('a new answer', lambda: ui.answers() and ui.answers()[-1].get_attribute('data-id') != old)
    ui.wait_answer_done()
    assert len(ui.css('.message')) == count, 'the old answer was replaced, not added to'
    assert not ui.css(f'.message[data-id="{old}"]')
    _, page, _ = api('GET', f'/conversations/{ui.conversation_id()}/messages')
    assert old not in [m['id'] for m in page['data']] and page['data'][-1]['status'] == 'complete'
    _, kept, _ = api('GET', f'/messages/{old}')
    assert kept['active'] is False, 'the old answer is kept as an earlier version'
    wait('the question shown as version 2 of 2', lambda: version_count(ui) == '2/2')


def check_edit(ui):
    users = ui.css('.message.user')
    first = users[0]
    ui.button(first, 'Edit message and send again').click()
    area = wait('the edit box', lambda: ui.css('.edit-input'))[0]
    area.clear()
    area.send_keys('Edited question mock:tokens=5')
    area.send_keys(Keys.ENTER)
    wait('the edited message', lambda: ui.css('.message.user') and
         ui.css('.message.user')[0].find_element(By.CSS_SELECTOR, '.message-body').text == 'Edited question mock:tokens=5')
    ui.wait_answer_done()
    _, page, _ = api('GET', f'/conversations/{ui.conversation_id()}/messages')
    assert [m['role'] for m in page['data']] == ['user', 'assistant'], 'everything after the edited message is replaced'
    assert page['data'][0]['content'] == 'Edited question mock:tokens=5'
    assert len(ui.css('.message')) == 2
    # Every version is kept: ‹ 3/3 › on the question; the one before comes back with its answer, without a reload.
    edited_answer = ui.answers()[-1].get_attribute('data-id')
    wait('the question shown as version 3 of 3', lambda: version_count(ui) == '3/3')
    marker = ui.d.execute_script('return window.__branchMarker = Math.random()')
    ui.button(ui.css('.message.user')[0], 'Previous version').click()
    wait('version 2 of 3', lambda: version_count(ui) == '2/3')
    first_body = ui.css('.message.user')[0].find_element(By.CSS_SELECTOR, '.message-body').text
    assert first_body != 'Edited question mock:tokens=5', first_body
    assert ui.answers() and ui.answers()[-1].get_attribute('data-id') != edited_answer
    assert ui.d.execute_script('return window.__branchMarker') == marker, 'switched without reloading the page'
    _, page, _ = api('GET', f'/conversations/{ui.conversation_id()}/messages')
    assert page['data'][0]['content'] == first_body and len(page['data']) == 2
    ui.button(ui.css('.message.user')[0], 'Next version').click()
    wait('version 3 of 3 again', lambda: version_count(ui) == '3/3')
    wait('the edited answer back', lambda: ui.answers() and ui.answers()[-1].get_attribute('data-id') == edited_answer)


def version_count(ui):
    """The `n/m` of the first question on screen when it has several versions ('' without), read in one step (the
    head is redrawn as the message changes)."""
    return ui.d.execute_script(
        "const count = document.querySelector('.message.user .version-count'); return count ? count.textContent : ''")


def check_scroll_following(ui):
    ui.d.set_window_size(1280, 500)
    ui.open('/')
    ui.type_and_send('Scroll test mock:tokens=900 mock:delay_ms=10')
    scroller = "document.getElementById('messages')"
    distance = f"const s = {scroller}; return s.scrollHeight - s.scrollTop - s.clientHeight"
    wait('an answer taller than the screen', lambda: ui.d.execute_script(
        f'const s = {scroller}; return s.scrollHeight > s.clientHeight + 300'))
    assert ui.d.execute_script(distance) < 50, 'the view follows the answer'
    ui.d.execute_script(f'{scroller}.scrollTop = 0')  # the user scrolls up
    grown = len(ui.last_answer_text())
    wait('more text', lambda: len(ui.last_answer_text()) > grown + 100)
    assert ui.d.execute_script(f'return {scroller}.scrollTop') < 5, 'scrolling up stops the following'
    jump = ui.d.find_element(By.ID, 'jump-latest')
    assert jump.is_displayed()
    jump.click()
    wait('back at the bottom', lambda: ui.d.execute_script(distance) < 50)
    ui.d.find_element(By.ID, 'stop').click()
    wait('stopped', lambda: ui.last_answer_status() == 'cancelled')
    ui.d.set_window_size(1280, 900)


def check_reload_mid_stream(ui):
    ui.open('/')
    ui.type_and_send('Reload me mock:tokens=120 mock:delay_ms=40')
    wait('some streamed text', lambda: ui.last_answer_status() == 'streaming' and len(ui.last_answer_text()) > 30)
    conversation = ui.conversation_id()
    ui.d.refresh()
    wait('the answer shown again after reload', lambda: ui.answers())
    assert ui.conversation_id() == conversation, 'reload keeps the conversation'
    seen = len(ui.last_answer_text())
    ui.wait_answer_done(40)
    assert ui.last_answer_status() == 'complete'
    _, page, _ = api('GET', f'/conversations/{conversation}/messages')
    stored = page['data'][-1]['content']
    assert len(stored.split()) == 120 and ui.last_answer_text().split() == stored.split(), 'the whole answer arrived'
    assert len(ui.last_answer_text()) > seen


def check_dropped_connection_mid_stream(ui):
    proxy = CuttableProxy(BASE)
    ui.open('/', base=proxy.url)
    ui.type_and_send('Drop me mock:tokens=120 mock:delay_ms=40')
    wait('some streamed text', lambda: ui.last_answer_status() == 'streaming' and len(ui.last_answer_text()) > 30)
    seen = ui.last_answer_text()
    assert proxy.cut() >= 2, 'the stream was open through the proxy'
    ui.wait_answer_done(40)
    assert ui.last_answer_status() == 'complete', f'status after the drop: {ui.last_answer_status()}'
    _, page, _ = api('GET', f'/conversations/{ui.conversation_id()}/messages')
    stored = page['data'][-1]['content']
    shown = ui.last_answer_text()
    assert len(stored.split()) == 120 and shown.split() == stored.split(), 'the rest arrived once, nothing repeated'
    assert shown.startswith(seen.strip()[:20]) and len(shown) > len(seen)
    assert not ui.d.find_element(By.ID, 'chat-error').is_displayed(), 'no error left on screen once the answer finished'


MARKDOWN = """## Plan
Some *emphasis*, **bold**, `inline code` and a [link](https://example.com/docs).

- one
- two
1. first
2. second

| city | days |
|------|-----:|
| Lyon | 2 |

```python
def greet(name):  # say hi
    print("hi <img src=x onerror=window.__xss=5>", 42, None)
```

<script>window.__xss = 1</script> <img src=x onerror="window.__xss = 2"> [bad](javascript:window.__xss=3)
<a href="javascript:window.__xss=4">raw</a> mock:echo=1 mock:tokens=400 mock:delay_ms=1"""


def check_markdown_and_xss(ui):
    ui.open('/')
    ui.type_and_send(MARKDOWN)
    ui.wait_answer_done()
    body = ui.answers()[-1].find_element(By.CSS_SELECTOR, '.message-body')
    assert body.find_element(By.CSS_SELECTOR, 'h4').text == 'Plan'
    assert body.find_element(By.CSS_SELECTOR, 'em').text == 'emphasis'
    assert body.find_element(By.CSS_SELECTOR, 'strong').text == 'bold'
    assert body.find_element(By.CSS_SELECTOR, 'p > code').text == 'inline code'
    link = body.find_element(By.CSS_SELECTOR, 'a[href="https://example.com/docs"]')
    assert link.text == 'link' and 'noopener' in link.get_attribute('rel')
    assert [li.text for li in body.find_elements(By.CSS_SELECTOR, 'ul > li')] == ['one', 'two']
    assert [li.text for li in body.find_elements(By.CSS_SELECTOR, 'ol > li')] == ['first', 'second']
    assert [td.text for td in body.find_elements(By.CSS_SELECTOR, 'td')] == ['Lyon', '2']
    code = body.find_element(By.CSS_SELECTOR, '.code-block code')
    assert code.text == 'def greet(name):  # say hi\n    print("hi <img src=x onerror=window.__xss=5>", 42, None)', code.text
    # Highlighted: keywords, the comment, the string (its markup still text), the number and the literal.
    painted = {kind: [span.text for span in code.find_elements(By.CSS_SELECTOR, f'.tok-{kind}')]
               for kind in ('keyword', 'comment', 'string', 'number', 'literal')}
    assert painted == {'keyword': ['def'], 'comment': ['# say hi'], 'string': ['"hi <img src=x onerror=window.__xss=5>"'],
                       'number': ['42'], 'literal': ['None']}, painted
    assert 'language-python' in code.get_attribute('class')
    ui.button(body, 'Copy code')  # present
    # The payloads are text: no element made from them, nothing ran, no javascript: link.
    assert not body.find_elements(By.CSS_SELECTOR, 'img, script, iframe')
    assert all(not (a.get_attribute('href') or '').lower().startswith('javascript') for a in body.find_elements(By.CSS_SELECTOR, 'a'))
    assert '<script>window.__xss = 1</script>' in body.text and 'onerror=' in body.text
    for anchor in body.find_elements(By.CSS_SELECTOR, 'a'):
        if anchor.text in ('bad', 'raw'):
            raise AssertionError('a javascript: link was rendered as a link')
    assert ui.d.execute_script('return window.__xss') is None, 'no payload ran'
    # The user's own message is plain text too.
    assert '<img src=x' in ui.css('.message.user')[-1].text
    return ui.conversation_id()


def check_feedback(ui):
    answer = ui.answers()[-1]
    message_id = answer.get_attribute('data-id')
    ui.button(answer, 'Good answer').click()
    area = wait('the comment box', lambda: ui.css('.comment-input'))[0]
    area.send_keys('Clear and short')
    ui.button(answer, 'Send comment').click()
    def saved():
        _, message, _ = api('GET', f'/messages/{message_id}')
        return message.get('feedback') == {**message.get('feedback', {}), 'rating': 1, 'comment': 'Clear and short'}
    wait('feedback saved', saved)
    assert ui.button(answer, 'Good answer').get_attribute('aria-pressed') == 'true'
    ui.button(answer, 'Bad answer').click()
    wait('rating changed', lambda: api('GET', f'/messages/{message_id}')[1].get('feedback', {}).get('rating') == -1)
    assert api('GET', f'/messages/{message_id}')[1]['feedback'].get('comment') == 'Clear and short', 'the comment is kept'


def check_sidebar(ui):
    for number in range(45):
        api('POST', '/conversations', {'title': f'Seeded {number:02d}'})
    status, created, _ = api('POST', '/conversations', {'title': 'Zebra notes'})
    api('POST', f'/conversations/{created["id"]}/messages', {'content': 'quagga stripes mock:tokens=3'})
    ui.open('/')
    wait('the first page', lambda: len(ui.css('.conversation-item')) >= 30)
    first_titles = [e.text for e in ui.css('.conversation-link')][:3]
    assert first_titles[0] == 'quagga stripes mock:tokens=3' or first_titles[0] == 'Zebra notes', f'newest first: {first_titles}'
    total, cursor = [], ''
    while cursor is not None:
        page = api('GET', '/conversations?limit=200' + (f'&cursor={cursor}' if cursor else ''))[1]
        total += page['data']
        cursor = page.get('next_cursor')
    def scrolled_to_the_end():
        ui.d.execute_script("document.getElementById('sidebar').scrollTop = 1e9")  # as a user scrolling down
        return len(ui.css('.conversation-item')) == len(total)
    wait('every page', scrolled_to_the_end, 60, interval=0.2)
    names = [e.get_attribute('data-id') for e in ui.css('.conversation-item')]
    assert names == [c['id'] for c in total], 'newest first, each once'
    # Search finds the message; the result opens its conversation.
    search = ui.d.find_element(By.ID, 'search-input')
    search.send_keys('quagga')
    result = wait('a search result', lambda: [e for e in ui.css('#search-results a') if 'quagga' in e.text])[0]
    result.click()
    wait('the conversation opens', lambda: ui.d.execute_script('return location.pathname') == f'/c/{created["id"]}')
    search.send_keys(Keys.ESCAPE)
    wait('the list back', lambda: ui.css('#conversation-list')[0].is_displayed())
    # Rename.
    item = ui.d.find_element(By.CSS_SELECTOR, f'.conversation-item[data-id="{created["id"]}"]')
    ui.button(item, 'Rename “Zebra notes”').click()
    field = wait('the title field', lambda: item.find_elements(By.CSS_SELECTOR, '.rename-input'))[0]
    field.send_keys(Keys.CONTROL, 'a')
    field.send_keys('Quagga facts', Keys.ENTER)
    wait('renamed', lambda: api('GET', f'/conversations/{created["id"]}')[1]['title'] == 'Quagga facts')
    wait('the new title in the list and header', lambda: item.text.startswith('Quagga facts') and
         ui.d.find_element(By.ID, 'chat-title').text == 'Quagga facts')
    # Delete: cancel first, then confirm.
    ui.button(item, 'Delete “Quagga facts”').click()
    wait('the confirmation', lambda: ui.d.find_element(By.ID, 'confirm-dialog').is_displayed())
    ui.d.find_element(By.CSS_SELECTOR, '#confirm-dialog button[value="no"]').click()
    assert api('GET', f'/conversations/{created["id"]}')[0] == 200, 'cancel keeps it'
    ui.button(item, 'Delete “Quagga facts”').click()
    wait('the confirmation', lambda: ui.d.find_element(By.ID, 'confirm-dialog').is_displayed())
    ui.d.find_element(By.ID, 'confirm-yes').click()
    wait('deleted', lambda: api('GET', f'/conversations/{created["id"]}')[0] == 404)
    wait('gone from the list', lambda: not ui.css(f'.conversation-item[data-id="{created["id"]}"]'))
    wait('back to a new chat', lambda: ui.d.execute_script('return location.pathname') == '/')


def check_pin_archive_and_tags(ui):
    cid = api('POST', '/conversations', {'title': 'Pin me'})[1]['id']
    ui.open('/')
    item = lambda: ui.d.find_element(By.CSS_SELECTOR, f'.conversation-item[data-id="{cid}"]')
    wait('listed', lambda: ui.css(f'#conversation-list .conversation-item[data-id="{cid}"]'))
    ui.button(item(), 'Pin “Pin me”').click()
    wait('in the pinned list', lambda: ui.css(f'#pinned-list .conversation-item[data-id="{cid}"]')
         and ui.d.find_element(By.ID, 'pinned-heading').is_displayed())
    # Tagged in the settings; a tag filters the list.
    ui.open(f'/c/{cid}')
    ui.d.find_element(By.ID, 'open-settings').click()
    ui.d.find_element(By.ID, 'conversation-tags').send_keys('Travel, home')
    ui.d.find_element(By.ID, 'save-settings').click()
    wait('the tags saved', lambda: api('GET', f'/conversations/{cid}')[1]['tags'] == ['travel', 'home'])
    wait('a tag chip', unless_stale(lambda: [b for b in item().find_elements(By.CSS_SELECTOR, '.tag-chip') if b.text == 'travel']))[0].click()
    wait('the list filtered', lambda: ui.d.find_element(By.ID, 'list-filter').is_displayed() and len(ui.css('.conversation-item')) == 1)
    ui.d.find_element(By.CSS_SELECTOR, '#list-filter button').click()
    wait('the whole list', lambda: len(ui.css('.conversation-item')) > 1)
    # Archived: gone from the list, in the archived view, restored from it.
    wait('the archive button', unless_stale(lambda: ui.button(item(), 'Archive “Pin me”').click() or True))
    wait('gone from the list', lambda: not ui.css(f'.conversation-item[data-id="{cid}"]'))
    assert api('GET', f'/conversations/{cid}')[1]['archived'] is True
    # (Clicked in place: the list may still be growing below a long list, moving the button as a pointer aims.)
    ui.d.execute_script("document.getElementById('show-archived').click()")
    wait('in the archived list', lambda: ui.css(f'.conversation-item[data-id="{cid}"]'))
    ui.button(item(), 'Restore “Pin me”').click()
    wait('restored', lambda: not ui.css(f'.conversation-item[data-id="{cid}"]') and api('GET', f'/conversations/{cid}')[1]['archived'] is False)
    ui.d.execute_script("document.getElementById('show-archived').click()")
    wait('back in the pinned list', lambda: ui.css(f'#pinned-list .conversation-item[data-id="{cid}"]'))
    ui.button(item(), 'Unpin “Pin me”').click()
    wait('unpinned', lambda: ui.css(f'#conversation-list .conversation-item[data-id="{cid}"]') and not ui.css('#pinned-list .conversation-item'))


def check_back_forward(ui, first, second):
    ui.open(f'/c/{first}')
    wait('the first conversation', lambda: ui.answers())
    link = wait('the second in the list', lambda: ui.css(f'.conversation-item[data-id="{second}"] a'))[0]
    link.click()
    wait('the second conversation', lambda: ui.d.execute_script('return location.pathname') == f'/c/{second}' and
         ui.css('.message.assistant h4'))
    ui.d.back()
    wait('back to the first', lambda: ui.d.execute_script('return location.pathname') == f'/c/{first}' and
         not ui.css('.message.assistant h4') and ui.answers())
    ui.d.forward()
    wait('forward to the second', lambda: ui.css('.message.assistant h4'))


def message_indexes(ui):
    """The indexes of the messages on screen, in order (read in one script: one WebDriver call per element is slow)."""
    return ui.d.execute_script("return [...document.querySelectorAll('.message')].map((m) => Number(m.dataset.index))")


def check_long_conversation(ui):
    ui.open(f'/c/{LONG_ID}')
    wait('the latest page', lambda: len(ui.css('.message')) >= 50)
    indexes = message_indexes(ui)
    assert indexes[-1] == 1000 and len(indexes) == 50, f'latest page first: {indexes[:3]}…{indexes[-3:]}'
    at_bottom = ui.d.execute_script("const s = document.getElementById('messages'); return s.scrollHeight - s.scrollTop - s.clientHeight")
    assert at_bottom < 50, 'opens at the newest message'
    ui.d.execute_script("document.getElementById('messages').scrollTop = 0")
    wait('older messages', lambda: len(ui.css('.message')) >= 100)
    indexes = message_indexes(ui)
    assert indexes == sorted(indexes) and indexes[-1] == 1000, 'older messages go above, in order'


def check_search_hit_opens_at_the_message(ui):
    ui.open('/')
    search = ui.d.find_element(By.ID, 'search-input')
    search.send_keys('okapi')
    hit = wait('the search hit', lambda: [e for e in ui.css('#search-results a') if 'okapi' in e.text])[0]
    hit.click()
    wait('the URL names the message', lambda: ui.d.execute_script('return location.pathname + location.hash') == f'/c/{LONG_ID}#m301')
    found = wait('the message on screen', lambda: ui.css('.message.found'))[0]
    assert found.get_attribute('data-index') == '301'
    in_view = """const m = arguments[0].getBoundingClientRect(), s = document.getElementById('messages').getBoundingClientRect();
                 return m.top >= s.top && m.bottom <= s.bottom"""
    wait('the hit in view', lambda: ui.d.execute_script(in_view, found))
    indexes = message_indexes(ui)
    assert indexes == list(range(indexes[0], indexes[-1] + 1)) and indexes[0] < 301 < indexes[-1] < 1000, \
        f'messages around the hit: {indexes[0]}…{indexes[-1]}'
    assert not [b for b in ui.css('.message button') if b.text == 'Regenerate'], 'no regenerate away from the newest'
    assert ui.d.find_element(By.ID, 'jump-latest').is_displayed()
    search.send_keys(Keys.CONTROL, 'a', Keys.BACKSPACE)
    # Scrolling down loads newer pages, in order, up to the newest.
    def scrolled_to_the_newest():
        ui.d.execute_script("const s = document.getElementById('messages'); s.scrollTop = s.scrollHeight")
        return message_indexes(ui)[-1] == 1000
    wait('newer pages down to the newest', scrolled_to_the_newest, 60, interval=0.2)
    indexes = message_indexes(ui)
    assert indexes == list(range(indexes[0], 1001)), 'each message once, in order'
    ui.d.execute_script("document.getElementById('messages').scrollTop = 0")
    wait('older pages above', lambda: message_indexes(ui)[0] < indexes[0])
    # Back and forward, then a message typed while the newest are not on screen goes after the newest.
    ui.d.back()
    wait('back where we were', lambda: ui.d.execute_script('return location.pathname') == '/')
    ui.d.forward()
    wait('the hit again', lambda: [e for e in ui.css('.message.found') if e.get_attribute('data-index') == '301'])
    ui.type_and_send('After the okapi mock:tokens=3')
    ui.wait_answer_done()
    wait('the newest shown with the new turn', lambda: message_indexes(ui)[-2:] == [1001, 1002])
    assert ui.d.execute_script('return location.hash') == '', 'the URL no longer names the old message'
    _, page, _ = api('GET', f'/conversations/{LONG_ID}/messages?limit=2')
    assert [m['index'] for m in page['data']] == [1001, 1002] and page['data'][0]['content'] == 'After the okapi mock:tokens=3'


def check_failed_answer_and_retry(ui):
    ui.open('/')
    ui.type_and_send(f'Break {time.time()} mock:fault=400 mock:fault_times=1')  # unique: the mock counts per prompt
    wait('the failure shown', lambda: ui.last_answer_status() == 'error')
    answer = ui.answers()[-1]
    assert 'Failed' in answer.text and 'Error:' in answer.text, answer.text
    ui.button(answer, 'Retry this answer').click()
    wait('a retried answer', lambda: ui.last_answer_status() == 'complete', 30)


def check_rate_limit_shown(ui):
    ui.d.get(LIMITED + '/')
    ui.auth_form('Sign in')
    ui.fill_auth()
    wait('the app', lambda: ui.d.execute_script("return document.querySelector('#model-picker option') !== null"))
    ui.type_and_send('one mock:tokens=2')
    ui.wait_answer_done()
    ui.type_and_send('two mock:tokens=2')
    error = wait('the rate-limit message', lambda: ui.d.find_element(By.ID, 'chat-error').is_displayed()
                 and ui.d.find_element(By.ID, 'chat-error'))
    assert 'Rate limit' in error.text and ' s.' in error.text, error.text
    assert ui.d.find_element(By.ID, 'composer-input').get_attribute('value') == 'two mock:tokens=2', 'the text is kept'
    assert ui.d.find_element(By.ID, 'send').get_attribute('disabled') is not None, 'send waits for the limit'
    # An edit refused by the limit keeps the conversation as it was and the edited text in its box.
    answer = ui.answers()[-1].get_attribute('data-id')
    ui.button(ui.css('.message.user')[0], 'Edit message and send again').click()
    area = wait('the edit box', lambda: ui.css('.edit-input'))[0]
    area.clear()
    area.send_keys('one, edited', Keys.ENTER)
    wait('the refused edit back in its box', lambda: ui.css('.edit-input') and
         ui.css('.edit-input')[0].get_attribute('value') == 'one, edited')
    assert [a.get_attribute('data-id') for a in ui.answers()] == [answer], 'the answer is still there'
    assert 'Rate limit' in ui.d.find_element(By.ID, 'chat-error').text


def check_export(ui, conversation):
    directory = os.path.join(SHOTS, 'downloads')
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        os.remove(os.path.join(directory, name))
    ui.d.execute_cdp_cmd('Page.setDownloadBehavior', {'behavior': 'allow', 'downloadPath': directory})
    ui.open(f'/c/{conversation}')
    wait('messages', lambda: ui.answers())
    for button, extension in (('export-json', '.json'), ('export-markdown', '.md')):
        ui.d.find_element(By.ID, 'open-settings').click()
        ui.d.find_element(By.ID, button).click()
        path = wait(f'the {extension} file', lambda: [os.path.join(directory, n) for n in os.listdir(directory)
                                                    if n.endswith(extension)])[0]
        text = open(path, encoding='utf-8').read()
        if extension == '.json':
            document = json.loads(text)
            tree = api('GET', f'/conversations/{conversation}/messages?branches=all&limit=200')[1]['data']
            active = api('GET', f'/conversations/{conversation}/messages?limit=200')[1]['data']
            assert document['conversation']['id'] == conversation
            assert [m['id'] for m in document['messages']] == [m['id'] for m in tree], 'every message of every branch, in order'
            assert [m['id'] for m in document['messages'] if m['active']] == [m['id'] for m in active]
            assert all(m.get('parent_id') for m in document['messages'] if m['role'] == 'assistant'), 'each answer names its question'
        else:
            assert text.startswith('# ') and '## You' in text and '## Assistant (mock-1)' in text
        ActionChains(ui.d).send_keys(Keys.ESCAPE).perform()


def check_import(ui):
    """A ChatGPT export picked in the sidebar becomes chats of the user, with the branch ChatGPT showed."""
    path = os.path.join(SHOTS, 'conversations.json')
    mapping = {
        'u1': {'id': 'u1', 'parent': None, 'children': ['a1'], 'message': {
            'author': {'role': 'user'}, 'create_time': 1700000001, 'content': {'content_type': 'text', 'parts': ['Do tuatara bask?']}}},
        'a1': {'id': 'a1', 'parent': 'u1', 'children': [], 'message': {
            'author': {'role': 'assistant'}, 'create_time': 1700000002,
            'content': {'content_type': 'text', 'parts': ['Yes, in the morning sun.']}}},
    }
    with open(path, 'w', encoding='utf-8') as file:
        json.dump([{'title': 'Imported tuatara chat', 'create_time': 1700000000, 'current_node': 'a1', 'mapping': mapping},
                   {'title': 'broken', 'mapping': {}}], file)
    ui.open('/')
    ui.d.find_element(By.ID, 'import-file').send_keys(path)
    wait('the report', lambda: 'Imported 1 chat, 1 skipped' in ui.d.find_element(By.ID, 'toast').text)
    # Its time is ChatGPT's (2023): far down the list, so it is opened from a search of the list.
    found = api('GET', '/conversations?q=tuatara')[1]['data']
    assert [c['title'] for c in found] == ['Imported tuatara chat'], found
    ui.open(f"/c/{found[0]['id']}")
    wait('its messages', lambda: ui.answers() and ui.last_answer_text() == 'Yes, in the morning sun.')
    assert ui.css('.message.user')[0].find_element(By.CSS_SELECTOR, '.message-body').text == 'Do tuatara bask?'


def check_attachments(ui):
    """An image picked and a file dropped on the message box go with the message: chips once uploaded, the image
    shown on the question, its bytes and the file's text in what reached the model."""
    png = base64.b64decode('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==')
    image = os.path.join(SHOTS, 'dot.png')
    with open(image, 'wb') as file:
        file.write(png)
    ui.open('/')
    ui.d.find_element(By.ID, 'attach-input').send_keys(image)
    ui.d.execute_script("""
        const data = new DataTransfer();
        data.items.add(new File([arguments[0]], 'kiwi-notes.md', {type: 'text/markdown'}));
        document.getElementById('composer').dispatchEvent(new DragEvent('drop', {dataTransfer: data, bubbles: true, cancelable: true}));
        """, '# Kiwi notes\n\nKiwi lay very large eggs.')
    wait('both uploaded', lambda: len(ui.css('#attachment-tray .attachment-chip[data-id]')) == 2)
    thumbnail = ui.css('#attachment-tray img')[0]
    wait('the thumbnail shows', lambda: ui.d.execute_script('return arguments[0].naturalWidth', thumbnail) == 1)
    ui.type_and_send('What are these? mock:echo=context mock:tokens=400')
    ui.wait_answer_done()
    assert ui.d.find_element(By.ID, 'attachment-tray').get_attribute('hidden') is not None, 'the tray empties once sent'
    question = ui.css('.message.user')[-1]
    shown = question.find_element(By.CSS_SELECTOR, '.message-attachments img')
    wait('the image shows on the question', lambda: ui.d.execute_script('return arguments[0].naturalWidth', shown) == 1)
    assert 'kiwi-notes.md' in question.find_element(By.CSS_SELECTOR, '.message-attachments').text
    answer = ui.last_answer_text()
    assert '[image image/png 70 bytes]' in answer and 'Kiwi lay very large eggs.' in answer, answer
    # After a reload the question still carries them.
    ui.open(f'/c/{ui.conversation_id()}')
    wait('attachments after a reload', lambda: len(ui.css('.message.user .message-attachments a')) == 2)


MATHS_CORPUS = [
    r'e^{i\pi} + 1 = 0', r'\frac{-b \pm \sqrt{b^2 - 4ac}}{2a}', r'\sum_{k=1}^{n} k^2 = \frac{n(n+1)(2n+1)}{6}',
    r'\int_{-\infty}^{\infty} e^{-x^2}\,dx = \sqrt{\pi}', r'\lim_{h \to 0} \frac{f(x+h) - f(x)}{h}',
    r'\mathbb{E}[X] = \sum_i x_i \, p(x_i)', r'\nabla \cdot \mathbf{E} = \frac{\rho}{\varepsilon_0}',
    r'\begin{bmatrix} a & b \\ c & d \end{bmatrix}^{-1} = \frac{1}{ad - bc} \begin{bmatrix} d & -b \\ -c & a \end{bmatrix}',
    r'|x| = \begin{cases} x & x \geq 0 \\ -x & \text{otherwise} \end{cases}', r'\binom{n}{k} = \frac{n!}{k!\,(n-k)!}',
    r'\left\langle \psi \middle| \phi \right\rangle', r'\forall \epsilon > 0 \; \exists \delta > 0',
    r'\begin{aligned} (a+b)^2 &= a^2 + 2ab + b^2 \\ &\neq a^2 + b^2 \end{aligned}', r'\hat{\theta} = \arg\max_\theta L(\theta)',
    r'\sigma = \sqrt{\frac{1}{N} \sum_{i=1}^N (x_i - \mu)^2}', r'P(A \mid B) = \frac{P(B \mid A)\,P(A)}{P(B)}',
    r'\vec{F} = m\vec{a}', r'x \in \mathbb{R}^n, \; \|x\|_2 \leq 1', r'\overline{z} \cdot z = |z|^2', r'a \equiv b \pmod{n}',
    r'\prod_{p \text{ prime}} \frac{1}{1 - p^{-s}}', r'\det(A - \lambda I) = 0', r'\log_2 n, \ln x, \sin^2\theta + \cos^2\theta = 1',
    r'\underbrace{1 + 1 + \cdots + 1}_{n} = n', r'\mathcal{O}(n \log n)', r"f'(x) = 2x, \quad f''(x) = 2",
]


def check_maths(ui):
    """TeX in an answer is drawn as MathML by a module loaded only when a formula shows; prices stay text."""
    ui.open('/')
    loaded = lambda: ui.d.execute_script(
        "return performance.getEntriesByType('resource').some((entry) => entry.name.endsWith('/maths.js'))")
    assert not loaded(), 'a page without formulas does not load the maths module'
    ui.type_and_send('Euler: $e^{i\\pi} + 1 = 0$, which costs $5 and $10.\n\n$$\\frac{a}{b} = \\sqrt[3]{x^2}$$\n\n'
                     '\\[\n\\begin{pmatrix} 1 & 0 \\\\ 0 & 1 \\end{pmatrix}\n\\]\n\nDone mock:echo=1 mock:tokens=60')
    ui.wait_answer_done()
    answer = ui.answers()[-1]
    wait('three formulas drawn', lambda: len(answer.find_elements(By.CSS_SELECTOR, 'math')) == 3)
    inline, fraction, matrix = answer.find_elements(By.CSS_SELECTOR, 'math')
    assert inline.get_attribute('display') is None and inline.find_elements(By.CSS_SELECTOR, 'msup')
    assert fraction.get_attribute('display') == 'block' and fraction.find_elements(By.CSS_SELECTOR, 'mfrac mi')
    assert fraction.find_elements(By.CSS_SELECTOR, 'mroot')
    assert len(matrix.find_elements(By.CSS_SELECTOR, 'mtable mtd')) == 4
    assert 'costs $5 and $10.' in answer.text, answer.text
    height = ui.d.execute_script('return arguments[0].getBoundingClientRect().height', fraction)
    assert height > 30, f'the fraction is laid out on two levels ({height} px)'
    ui.d.execute_script('arguments[0].scrollIntoView()', answer)
    ui.d.save_screenshot(os.path.join(SHOTS, 'parley-maths.png'))
    assert loaded()
    # Common formulas from answers: none has a command the module does not know.
    unknown = ui.d.execute_async_script("""
        const [corpus, done] = arguments;
        const source = [...document.scripts].find((script) => script.src.endsWith('/app.js')).src.replace(/app\.js$/, 'maths.js');
        import(source).then((maths) => done(corpus.filter((tex) => maths.toMathML(tex, true).querySelector('.maths-unknown'))),
                            (error) => done([String(error)]));
        """, MATHS_CORPUS)
    assert unknown == [], unknown


def check_share_link(ui, conversation):
    """A read-only link made in the settings dialog shows the conversation on its own page; revoked, it shows nothing."""
    ui.open(f'/c/{conversation}')
    wait('messages', lambda: ui.answers())
    expected = [element.text for element in ui.css('.message.user .message-body')]
    ui.d.find_element(By.ID, 'open-settings').click()
    Select(ui.d.find_element(By.ID, 'share-audience')).select_by_value('anyone')
    ui.d.find_element(By.ID, 'create-share').click()
    address = wait('the link', lambda: ui.d.execute_script(
        "const f = document.getElementById('share-url'); return f && f.value"))
    wait('the link listed', lambda: len(ui.css('#share-list li')) == 1)
    assert '/s/' in address, address
    ActionChains(ui.d).send_keys(Keys.ESCAPE).perform()
    ui.d.get(address)
    wait('the shared messages', lambda: ui.css('#shared-log .turn.assistant'))
    shown = [element.text for element in ui.css('#shared-log .turn.user')]
    assert shown == expected[-len(shown):] and shown, (shown, expected)
    assert not ui.css('textarea') and not ui.css('#composer-input'), 'the shared page writes nothing'
    ui.open(f'/c/{conversation}')
    ui.d.find_element(By.ID, 'open-settings').click()
    revoke = wait('the revoke button', lambda: ui.css('#share-list li button'))[0]
    revoke.click()
    wait('the link gone from the list', lambda: not ui.css('#share-list li'))
    ActionChains(ui.d).send_keys(Keys.ESCAPE).perform()
    ui.d.get(address)
    wait('the revoked link says so', lambda: 'revoked' in ui.d.find_element(By.ID, 'shared-status').text)


def check_system_prompt_and_model(ui):
    ui.open('/')
    ui.d.find_element(By.ID, 'open-settings').click()
    ui.d.find_element(By.ID, 'system-prompt').send_keys('Answer in haiku.')
    ui.d.find_element(By.ID, 'save-settings').click()
    ui.type_and_send('Hi mock:tokens=3')
    ui.wait_answer_done()
    conversation = api('GET', f'/conversations/{ui.conversation_id()}')[1]
    assert conversation.get('system_prompt') == 'Answer in haiku.'
    models = [o.get_attribute('value') for o in ui.css('#model-picker option')]
    assert 'mock-1' in models, models


def check_answer_parameters_and_cache(ui):
    ui.open('/')
    ui.d.find_element(By.ID, 'new-chat').click()
    ui.d.find_element(By.ID, 'open-settings').click()
    ui.d.find_element(By.ID, 'param-temperature').send_keys('0')
    ui.d.find_element(By.ID, 'param-seed').send_keys('7')
    ui.d.find_element(By.ID, 'param-stop').send_keys('END, ###')
    Select(ui.d.find_element(By.ID, 'param-reasoning')).select_by_visible_text('low')
    ui.d.find_element(By.ID, 'save-settings').click()
    ui.type_and_send('What reaches the model? mock:echo=params mock:tokens=20')
    ui.wait_answer_done()
    text = ui.last_answer_text()
    for part in ('"seed":7', '"stop":["END","###"]', '"reasoning_effort":"low"', '"temperature":0'):
        assert part in text, f'{part} sent upstream: {text[:200]}'
    conversation = api('GET', f'/conversations/{ui.conversation_id()}')[1]
    assert conversation['parameters'] == {'temperature': 0, 'seed': 7, 'stop': ['END', '###'], 'reasoning_effort': 'low'}, conversation
    shown = ui.answers()[-1].find_element(By.CSS_SELECTOR, '.message-head .parameters').text
    assert 'seed 7' in shown and 'temperature 0' in shown, shown
    # Asked again, the same request is answered from the cache, and the answer says so.
    ui.button(ui.answers()[-1], 'Regenerate this answer').click()
    # (The regenerated answer replaces the old one: for a moment there is none on screen.)
    wait('the cached answer', unless_stale(lambda: ui.answers() and ui.answers()[-1].find_elements(By.CSS_SELECTOR, '.cache-hit')))
    # The dialog shows them back, and a blank field clears its parameter.
    ui.d.find_element(By.ID, 'open-settings').click()
    assert ui.d.find_element(By.ID, 'param-seed').get_attribute('value') == '7'
    ui.d.find_element(By.ID, 'param-seed').clear()
    ui.d.find_element(By.ID, 'save-settings').click()
    wait('the seed cleared', lambda: 'seed' not in api('GET', f'/conversations/{ui.conversation_id()}')[1]['parameters'])


def check_keyboard_shortcuts(ui):
    ui.open('/')
    ui.d.find_element(By.ID, 'new-chat').click()
    ui.type_and_send('Shortcut test mock:tokens=400 mock:delay_ms=30')
    wait('some streamed text', lambda: ui.last_answer_status() == 'streaming' and len(ui.last_answer_text()) > 20)
    ActionChains(ui.d).send_keys(Keys.ESCAPE).perform()
    wait('Esc to stop the answer', lambda: ui.last_answer_status() == 'cancelled')
    ui.d.execute_script('document.activeElement.blur()')
    ActionChains(ui.d).send_keys('?').perform()
    wait('the shortcut list', lambda: ui.d.execute_script("return document.getElementById('shortcuts-dialog').open"))
    listed = ui.d.find_element(By.ID, 'shortcut-list').text
    assert 'New chat' in listed and 'Copy the last answer' in listed, listed
    ActionChains(ui.d).send_keys(Keys.ESCAPE).perform()
    wait('the list closed', lambda: not ui.d.execute_script("return document.getElementById('shortcuts-dialog').open"))
    focused = lambda: ui.d.execute_script('return document.activeElement.id')
    ActionChains(ui.d).key_down(Keys.CONTROL).send_keys('k').key_up(Keys.CONTROL).perform()
    wait('Ctrl+K to focus search', lambda: focused() == 'search-input')
    ActionChains(ui.d).key_down(Keys.SHIFT).send_keys(Keys.ESCAPE).key_up(Keys.SHIFT).perform()
    wait('Shift+Esc to focus the message box', lambda: focused() == 'composer-input')
    ActionChains(ui.d).key_down(Keys.CONTROL).key_down(Keys.SHIFT).send_keys('c').key_up(Keys.SHIFT).key_up(Keys.CONTROL).perform()
    wait('the answer copied', lambda: ui.d.find_element(By.ID, 'toast').text == 'Copied')
    assert ui.d.find_element(By.ID, 'composer-input').get_attribute('value') == '', 'no C typed into the box'
    ActionChains(ui.d).key_down(Keys.CONTROL).key_down(Keys.SHIFT).send_keys('o').key_up(Keys.SHIFT).key_up(Keys.CONTROL).perform()
    wait('Ctrl+Shift+O to start a new chat', lambda: ui.d.execute_script('return location.pathname') == '/')


def check_saved_prompts(ui):
    ui.open('/')
    ui.d.find_element(By.ID, 'open-account').click()
    wait('the account dialog', lambda: ui.d.find_element(By.ID, 'account-dialog').is_displayed())
    ui.d.find_element(By.ID, 'prompt-command').send_keys('translate')
    ui.d.find_element(By.ID, 'prompt-title').send_keys('Translate a text')
    ui.d.execute_script("arguments[0].value = arguments[1]", ui.d.find_element(By.ID, 'prompt-content'),
                        'Translate {{text}} into {{language}}. mock:echo=1 mock:tokens=12')
    ui.d.find_element(By.ID, 'prompt-save').click()
    wait('the prompt listed', lambda: '/translate' in ui.d.find_element(By.ID, 'prompt-list').text)
    ActionChains(ui.d).send_keys(Keys.ESCAPE).perform()
    ui.d.find_element(By.ID, 'new-chat').click()
    box = ui.d.find_element(By.ID, 'composer-input')
    box.send_keys('/tra')
    wait('the prompt menu', lambda: '/translate' in ui.d.find_element(By.ID, 'prompt-menu').text)
    box.send_keys(Keys.ENTER)
    wait('the variables asked for', lambda: ui.d.execute_script("return document.getElementById('prompt-dialog').open"))
    fields = ui.css('#prompt-fields input')
    assert [f.get_attribute('data-name') for f in fields] == ['text', 'language']
    fields[0].send_keys('good morning')
    fields[1].send_keys('French')
    ui.d.find_element(By.CSS_SELECTOR, '#prompt-dialog button[value="insert"]').click()
    wait('the text inserted', lambda: box.get_attribute('value') == 'Translate good morning into French. mock:echo=1 mock:tokens=12')
    assert not ui.answers() or ui.conversation_id() is None, 'inserting did not send'
    box.send_keys(Keys.ENTER)
    ui.wait_answer_done()
    assert ui.last_answer_text().startswith('Translate good morning into French.'), ui.last_answer_text()


GUIDE = """# Router guide

## Resetting

To reset the router, hold the recessed button for ten seconds until the light blinks amber.

## Warranty

The warranty lasts two years from the date of purchase and covers manufacturing defects.
"""


def check_knowledge_base_and_citations(ui):
    ui.open('/')
    ui.d.find_element(By.ID, 'open-knowledge').click()
    ui.d.find_element(By.ID, 'kb-new-name').send_keys('Router docs')
    ui.d.find_element(By.ID, 'kb-create').click()
    wait('the new base opened', lambda: 'Router docs' in ui.d.find_element(By.ID, 'kb-detail').text)
    path = os.path.join(SHOTS, 'router-guide.md')
    os.makedirs(SHOTS, exist_ok=True)
    with open(path, 'w', encoding='utf-8') as file:
        file.write(GUIDE)
    ui.d.find_element(By.ID, 'kb-file').send_keys(path)
    # The row follows ingestion over the base's event stream, without a reload.
    wait('the document ingested', lambda: ui.css('#kb-detail li[data-status="ready"]'), timeout=30)
    row = wait('the row', unless_stale(lambda: ui.css('#kb-detail li[data-status="ready"]')[0].text))
    assert 'router-guide.md' in row and 'passages' in row, row
    base = [b for b in api('GET', '/knowledge-bases')[1]['data'] if b['name'] == 'Router docs'][0]
    # This server names no default embedding model: the base says it is searched by its words only, until its
    # owner picks a model; the passages are then embedded in the background and the page follows.
    assert 'full-text search only' in ui.d.find_element(By.ID, 'kb-mode').text
    picker = wait('the models offered', lambda: ui.css('#kb-embedding-model option[value="mock-1"]'))
    picker[0].click()
    ui.d.find_element(By.ID, 'kb-embedding-apply').click()
    wait('the passages embedded', lambda: 'hybrid search (mock-1)' in ui.d.find_element(By.ID, 'kb-mode').text, timeout=30)
    assert api('GET', f'/knowledge-bases/{base["id"]}')[1]['embedding_model'] == 'mock-1'
    # Pinned, the document is given whole; the row says so, and the button turns into Unpin.
    # (The page redraws its rows as the base's events come: each look finds the row again.)
    wait('Pin clicked', unless_stale(lambda: ui.button(ui.css('#kb-detail li[data-status="ready"]')[0], 'Pin').click() or True))
    wait('the document pinned', unless_stale(lambda: 'pinned' in ui.css('#kb-detail li[data-status="ready"]')[0].text))
    wait('an Unpin button', unless_stale(lambda: ui.button(ui.css('#kb-detail li[data-status="ready"]')[0], 'Unpin')))
    ActionChains(ui.d).send_keys(Keys.ESCAPE).perform()

    # A new chat with the base attached in its settings.
    ui.d.find_element(By.ID, 'new-chat').click()
    ui.d.find_element(By.ID, 'open-settings').click()
    box = wait('the base offered', lambda: ui.css(f'#settings-bases-list input[value="{base["id"]}"]'))[0]
    box.click()
    ui.d.find_element(By.ID, 'save-settings').click()
    ui.type_and_send('How long does the warranty last? mock:echo=system mock:tokens=300')
    ui.wait_answer_done()
    conversation = api('GET', f'/conversations/{ui.conversation_id()}')[1]
    assert conversation['knowledge_base_ids'] == [base['id']], conversation
    wait('citation buttons', lambda: ui.css('.message.assistant .message-body .cite'))
    listed = wait('the sources', unless_stale(lambda: ui.css('.message.assistant .sources')[0].text))
    assert 'router-guide.md (whole)' in listed, 'the sources are listed under the answer'
    wait('a citation opened', unless_stale(lambda: ui.css('.message.assistant .message-body .cite')[0].click() or True))
    passage = wait('the source dialog', lambda: ui.d.find_element(By.ID, 'passage-text').text)
    place = ui.d.find_element(By.ID, 'passage-place').text
    assert 'router-guide.md' in place and 'given whole' in place, place
    assert 'two years' in passage and 'recessed button' in passage, passage
    ActionChains(ui.d).send_keys(Keys.ESCAPE).perform()


def check_assistants(ui):
    ui.open('/')
    ui.d.find_element(By.ID, 'new-chat').click()
    ui.d.find_element(By.ID, 'open-settings').click()
    prompt = ui.d.find_element(By.ID, 'system-prompt')
    prompt.clear()
    prompt.send_keys('You are the router desk.')
    # How its knowledge bases are searched is kept with it.
    ui.d.find_element(By.ID, 'retrieval-passages').send_keys('3')
    Select(ui.d.find_element(By.ID, 'retrieval-rerank')).select_by_value('off')
    ui.d.find_element(By.ID, 'assistant-name').send_keys('Router desk')
    ui.d.find_element(By.ID, 'save-assistant').click()
    wait('the assistant listed', lambda: 'Router desk' in ui.d.find_element(By.ID, 'assistant-list').text)
    ActionChains(ui.d).send_keys(Keys.ESCAPE).perform()
    saved = [a for a in api('GET', '/assistants')[1]['data'] if a['name'] == 'Router desk'][0]
    assert saved['system_prompt'] == 'You are the router desk.', saved
    assert saved['retrieval'] == {'passages': 3, 'rerank': False}, saved
    # Chosen from the list, it starts a new chat with its settings.
    ui.button(ui.d.find_element(By.ID, 'assistant-list'), 'Router desk').click()
    ui.type_and_send('hello mock:echo=system mock:tokens=40')
    ui.wait_answer_done()
    assert ui.last_answer_text().startswith('You are the router desk.'), ui.last_answer_text()
    conversation = api('GET', f'/conversations/{ui.conversation_id()}')[1]
    assert conversation['system_prompt'] == 'You are the router desk.', conversation
    assert conversation['retrieval'] == {'passages': 3, 'rerank': False}, conversation
    # The dialog shows the chat's search settings; a change is saved on the conversation.
    ui.d.find_element(By.ID, 'open-settings').click()
    passages = ui.d.find_element(By.ID, 'retrieval-passages')
    assert passages.get_attribute('value') == '3', passages.get_attribute('value')
    assert Select(ui.d.find_element(By.ID, 'retrieval-rerank')).first_selected_option.text == 'off'
    passages.clear()
    passages.send_keys('12')
    ui.d.find_element(By.ID, 'retrieval-similarity').send_keys('0.5')
    ui.d.find_element(By.ID, 'save-settings').click()
    wait('the search settings saved', lambda: api('GET', f'/conversations/{ui.conversation_id()}')[1]['retrieval']
         == {'passages': 12, 'min_similarity': 0.5, 'rerank': False})


class HostSite:
    """Another website (its own origin, with a strict Content-Security-Policy) whose page carries the widget tag."""

    def __init__(self, snippet, parley):
        import http.server
        page = ('<!doctype html><html><head><meta charset="utf-8">'
                f'<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; script-src {parley}; '
                f'frame-src {parley}; style-src \'none\'"><title>Router shop</title></head>'
                f'<body><h1>Router shop</h1>{snippet}</body></html>').encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header('Content-Type', 'text/html; charset=utf-8')
                self.send_header('Content-Length', str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *arguments):
                pass

        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = f'http://127.0.0.1:{self.server.server_address[1]}/'
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def unless_stale(condition):
    """`condition` for wait(), false instead of failing while the page redraws what it looked at."""
    def checked():
        try:
            return condition()
        except StaleElementReferenceException:
            return False
    return checked


def open_publish_dialog(ui):
    """Clicks Router desk's publish button once the list has settled (it is redrawn when it loads)."""
    def click():
        try:
            ui.button(ui.d.find_element(By.ID, 'assistant-list'), 'Publish assistant Router desk').click()
            return True
        except (AssertionError, StaleElementReferenceException):
            return False
    wait('the publish button', click)


def check_published_assistant_and_widget(ui):
    ui.open('/')
    open_publish_dialog(ui)
    wait('the publish dialog', lambda: ui.d.execute_script("return document.getElementById('publish-dialog').open"))
    ui.d.find_element(By.ID, 'publish-toggle').click()
    wait('the address shown', lambda: ui.d.find_element(By.ID, 'publish-where').is_displayed())
    snippet = ui.d.find_element(By.ID, 'publish-snippet').get_attribute('value')
    assert '/widget.js' in snippet and 'data-assistant=' in snippet, snippet
    ActionChains(ui.d).send_keys(Keys.ESCAPE).perform()
    parley = ui.d.execute_script('return location.origin')
    site = HostSite(snippet, parley)
    try:
        # A visitor on another site opens the widget and chats: no account, no cookie of Parley's needed.
        ui.d.get(site.url)
        wait('the widget button', lambda: ui.d.find_elements(By.CSS_SELECTOR, 'body > button'))
        ui.d.find_element(By.CSS_SELECTOR, 'body > button').click()
        frame = wait('the chat frame', lambda: ui.d.find_elements(By.CSS_SELECTOR, 'iframe'))[0]
        ui.d.switch_to.frame(frame)
        wait('the assistant named', lambda: ui.d.find_element(By.ID, 'assistant-name').text == 'Router desk')
        box = ui.d.find_element(By.ID, 'visitor-input')
        box.send_keys('Can you help? mock:echo=system mock:tokens=40', Keys.ENTER)
        wait('the answer', unless_stale(lambda: any(e.text.startswith('You are the router desk.') for e in ui.d.find_elements(By.CSS_SELECTOR, '.turn.assistant .answer'))))
        wait('rating buttons', lambda: ui.d.find_elements(By.CSS_SELECTOR, '.turn.assistant .turn-tools button'))
        wait('the rating given', unless_stale(lambda: ui.d.find_element(By.CSS_SELECTOR, '.turn.assistant .turn-tools button').click() or True))
        wait('the rating kept', unless_stale(lambda: ui.d.find_element(By.CSS_SELECTOR, '.turn-tools button').get_attribute('aria-pressed') == 'true'))
        ui.d.find_element(By.ID, 'ask-person').click()
        ui.d.find_element(By.ID, 'handoff-email').send_keys('visitor@example.org')
        ui.d.find_element(By.ID, 'handoff-note').send_keys('Please call me')
        ui.d.find_element(By.CSS_SELECTOR, '#handoff-form button[type=submit]').click()
        wait('the thanks', lambda: 'visitor@example.org' in ui.d.find_element(By.ID, 'visitor-status').text)
        # A reload keeps the chat (its token stays in this browser), and one mid-answer follows the answer on from
        # the server: every word once, to its end.
        answers = lambda: ui.d.find_elements(By.CSS_SELECTOR, '.turn.assistant .answer')
        ui.d.find_element(By.ID, 'visitor-input').send_keys('And slowly? mock:tokens=60 mock:delay_ms=50', Keys.ENTER)
        wait('the second answer begun', unless_stale(lambda: len(answers()) == 2 and len(answers()[1].text.split()) >= 3))
        ui.d.switch_to.default_content()
        ui.d.get(site.url)
        ui.d.find_element(By.CSS_SELECTOR, 'body > button').click()
        ui.d.switch_to.frame(wait('the chat frame', lambda: ui.d.find_elements(By.CSS_SELECTOR, 'iframe'))[0])
        wait('the chat restored', lambda: len(ui.d.find_elements(By.CSS_SELECTOR, '.turn')) == 4)
        wait('the answer finished after the reload', unless_stale(
            lambda: ui.d.find_elements(By.CSS_SELECTOR, '.turn.assistant')[1].find_elements(By.CSS_SELECTOR, '.turn-tools button')), 30)
        words = answers()[1].text.split()
        assert len(words) == 60, f'{len(words)} words: {" ".join(words)}'
        assert ui.d.execute_script(
            "return performance.getEntriesByType('resource').some((entry) => /\\/messages\\/[^/]+\\/events/.test(entry.name))"), \
            'the reloaded page reattached to the answer'
        ui.d.switch_to.default_content()
    finally:
        ui.d.switch_to.default_content()
        site.close()
    # The owner sees the visitor's chat with its rating and request.
    ui.open('/')
    open_publish_dialog(ui)
    wait('the visitor chat listed', lambda: 'visitor@example.org' in ui.d.find_element(By.ID, 'visitor-chat-list').text)
    listed = ui.d.find_element(By.ID, 'visitor-chat-list').text
    assert '👍 1' in listed and 'Can you help?' in listed, listed
    # Only the sites the owner names may show it: on another site the widget's frame stays empty.
    def set_sites(text, said):
        field = ui.d.find_element(By.ID, 'publish-origins')
        field.clear()
        if text:
            field.send_keys(text)
        ui.d.find_element(By.ID, 'publish-origins-save').click()
        wait('the sites saved', lambda: ui.d.find_element(By.ID, 'toast').text == said)
    set_sites('https://elsewhere.example', 'Only these sites may show it')
    ActionChains(ui.d).send_keys(Keys.ESCAPE).perform()
    site = HostSite(snippet, parley)
    try:
        ui.d.get(site.url)
        wait('the widget button', lambda: ui.d.find_elements(By.CSS_SELECTOR, 'body > button'))
        ui.d.find_element(By.CSS_SELECTOR, 'body > button').click()
        ui.d.switch_to.frame(wait('the chat frame', lambda: ui.d.find_elements(By.CSS_SELECTOR, 'iframe'))[0])
        time.sleep(1)
        assert not ui.d.find_elements(By.ID, 'assistant-name'), 'a site the owner did not name showed the chat'
    finally:
        ui.d.switch_to.default_content()
        site.close()
    ui.open('/')
    open_publish_dialog(ui)
    wait('the publish dialog', lambda: ui.d.execute_script("return document.getElementById('publish-dialog').open"))
    assert ui.d.find_element(By.ID, 'publish-origins').get_attribute('value') == 'https://elsewhere.example'
    set_sites('', 'Any site may show it')
    ActionChains(ui.d).send_keys(Keys.ESCAPE).perform()


def screenshots(ui, conversation):
    os.makedirs(SHOTS, exist_ok=True)
    for width, height in ((1280, 900), (390, 844)):
        ui.d.set_window_size(width, height)
        ui.open(f'/c/{conversation}')
        wait('messages', lambda: ui.answers())
        time.sleep(0.3)
        overflow = ui.d.execute_script('return document.documentElement.scrollWidth - document.documentElement.clientWidth')
        assert overflow <= 0, f'no sideways scrolling at {width} px ({overflow} px too wide)'
        ui.d.save_screenshot(os.path.join(SHOTS, f'parley-{width}.png'))
    ui.d.execute_cdp_cmd('Emulation.setEmulatedMedia', {'features': [{'name': 'prefers-color-scheme', 'value': 'dark'}]})
    ui.open(f'/c/{conversation}')
    wait('messages', lambda: ui.answers())
    background = ui.d.execute_script('return getComputedStyle(document.body).backgroundColor')
    assert background != 'rgb(255, 255, 255)', f'dark mode follows the system: {background}'
    ui.d.save_screenshot(os.path.join(SHOTS, 'parley-390-dark.png'))
    ui.d.execute_cdp_cmd('Emulation.setEmulatedMedia', {'features': [{'name': 'prefers-color-scheme', 'value': 'light'}]})
    ui.d.set_window_size(360, 740)
    ui.open(f'/c/{conversation}')
    wait('messages', lambda: ui.answers())
    assert ui.d.find_element(By.ID, 'composer-input').is_displayed() and ui.d.find_element(By.ID, 'send').is_displayed()
    ui.d.find_element(By.ID, 'open-sidebar').click()
    wait('the drawer', lambda: ui.d.find_element(By.ID, 'new-chat').is_displayed())
    time.sleep(0.4)  # let it slide in
    ui.d.save_screenshot(os.path.join(SHOTS, 'parley-360-sidebar.png'))
    ui.d.set_window_size(1280, 900)


def main():
    driver = browser()
    ui = UI(driver)
    done = []
    try:
        def run(name, function, *arguments):
            started = time.time()
            result = function(ui, *arguments)
            done.append(name)
            print(f'ok  {name} ({time.time() - started:.1f} s)', flush=True)
            return result
        run('first run creates the administrator, who gets the older chats', check_first_run_creates_the_administrator)
        first = run('keyboard-only send, streamed text grows', check_keyboard_send_streams)
        run('regenerate', check_regenerate)
        run('edit and resubmit', check_edit)
        run('stop', check_stop)
        run('reasoning streams collapsed above the answer, stored apart, shown after a reload', check_reasoning_collapsed)
        run('an answer cut at the output limit continued in place', check_continue_an_answer_cut_at_the_limit)
        run('auto-scroll follows the answer until the user scrolls up', check_scroll_following)
        run('reload mid-stream finishes the answer', check_reload_mid_stream)
        run('a dropped connection mid-answer reattaches and finishes', check_dropped_connection_mid_stream)
        markdown = run('markdown rendered, XSS payloads inert', check_markdown_and_xss)
        run('feedback saved', check_feedback)
        run('back and forward', check_back_forward, first, markdown)
        run('failed answer shows its status, retry', check_failed_answer_and_retry)
        run('system prompt and model picker', check_system_prompt_and_model)
        run('keyboard shortcuts: Esc stops, ? lists, Ctrl+K searches, Shift+Esc focuses, copy, new chat', check_keyboard_shortcuts)
        run('a saved prompt inserted with / and its variables filled in', check_saved_prompts)
        run('answer parameters sent upstream, shown on the answer, served from the cache when deterministic',
            check_answer_parameters_and_cache)
        run('export Markdown and JSON', check_export, first)
        run('a read-only link shows the conversation, revoked it shows nothing', check_share_link, first)
        run('a ChatGPT export imported from the sidebar', check_import)
        run('an image picked and a file dropped go with the message to the model, shown on it', check_attachments)
        run('TeX maths drawn as MathML by a module loaded only then; prices stay text', check_maths)
        run('a knowledge base: create, upload, ingested live, embedding model changed, pinned, attached to a chat, citations open their source',
            check_knowledge_base_and_citations)
        run('an assistant saved from the chat settings starts a new chat with them', check_assistants)
        run('a published assistant: the widget on another site chats, rates, asks for a person; its owner sees it',
            check_published_assistant_and_widget)
        run('1,000-message conversation pages from the newest', check_long_conversation)
        run('a search hit opens its conversation at the message, pages both ways', check_search_hit_opens_at_the_message)
        run('sidebar paging, search, rename, delete', check_sidebar)
        run('pin, tag and filter by tag, archive and restore', check_pin_archive_and_tags)
        run('a session ending mid-chat: sign in over the page, the message goes out', check_session_ending_mid_chat_keeps_the_message)
        run('an API key is shown once', check_api_key_shown_once)
        run('the administrator approves a pending sign-up', check_admin_approves_a_pending_user)
        run('usage shown, a budget set and met, security events listed', check_usage_budget_and_security_events)
        run('two-factor sign-in on, signing in with the app\'s code, off', check_two_factor)
        run('a password reset link sets a new password once', check_password_reset_link)
        run('sign out, a wrong password, sign in', check_sign_out_and_in)
        if LIMITED:
            run('rate limit shown with when to retry', check_rate_limit_shown)
        run('screenshots at 1280, 390 (light, dark) and 360 px', screenshots, markdown)
        # Refused requests (the 429 above) are logged by the browser as network errors, and the frame refused on a
        # site its owner did not name as a security error; script errors are not allowed.
        console = [e for e in driver.get_log('browser') if e['level'] == 'SEVERE' and e.get('source') != 'network'
                   and not (e.get('source') == 'security' and 'frame-ancestors https://elsewhere.example' in e['message'])]
        print('all passed' if not console else f'console errors: {console}')
        return 0 if not console else 1
    except Exception as error:
        frames = traceback.extract_tb(error.__traceback__)
        where = ([frame for frame in frames if frame.filename.endswith('ui_check.py')] or frames)[-1]
        print(f'FAILED after {done}: {type(error).__name__} at line {where.lineno} ({where.line}): {error}')
        try:
            driver.save_screenshot(os.path.join(SHOTS, 'failure.png'))
            for entry in driver.get_log('browser'):
                print('console:', entry['level'], entry['message'][:300])
        except Exception:
            pass
        return 1
    finally:
        driver.quit()


if __name__ == '__main__':
    sys.exit(main())
