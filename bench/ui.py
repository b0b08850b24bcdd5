"""Measures Parley's web UI in headless Chromium, each figure beside its baseline from the same run.

usage: bench/ui.py BASE_URL OUTPUT.md [--runs N]

- Size: bytes a first visit transfers (the page and every file it loads, gzip as the browser asks for it).
- First paint: first-contentful-paint of the chat page with an empty cache, vs a one-line page from the same
  server origin in the same browser (the browser's own floor).
- Streaming: a 2,000-token answer streamed as fast as the mock can send it; the longest main-thread task
  (Long Tasks API) and how many exceeded 50 ms, vs the same browser idling on the page for as long.
- Long conversation: time from navigation until the newest of 1,000 messages is on screen and the message box
  accepts input, vs the empty new-chat page.
"""
import gzip
import json
import re
import statistics
import sys
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

BASE, OUTPUT = sys.argv[1], sys.argv[2]
RUNS = int(sys.argv[sys.argv.index('--runs') + 1]) if '--runs' in sys.argv else 7

# Collects long tasks from the start of every page, before the page's own scripts (injected over CDP).
OBSERVER = """
window.__longTasks = [];
new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longTasks.push(e.duration); })
  .observe({ type: 'longtask', buffered: true });
"""


SESSION = {}


def api(method, path, body=None):
    """Calls the API as the administrator the first run creates (the bench's own server starts empty)."""
    request = urllib.request.Request(BASE + '/api/v1' + path, data=None if body is None else json.dumps(body).encode(),
                                     method=method, headers={'Content-Type': 'application/json', 'Accept': 'application/json',
                                                             **SESSION.get('headers', {})})
    with urllib.request.urlopen(request, timeout=60) as response:
        text = response.read().decode()
        if not SESSION and path == '/auth/setup':
            token = response.headers['Set-Cookie'].split(';')[0].split('=', 1)[1]
            SESSION.update(token=token, headers={'Cookie': f'parley_session={token}',
                                                 'X-CSRF-Token': json.loads(text)['csrf_token']})
        return json.loads(text) if text else None


def sign_in(driver):
    """The browser carries the administrator's session cookie, so the pages open signed in."""
    driver.get(BASE + '/health/live')
    driver.add_cookie({'name': 'parley_session', 'value': SESSION['token'], 'path': '/'})


def fetch(path, gzip_ok=True):
    request = urllib.request.Request(BASE + path, headers={'Accept-Encoding': 'gzip'} if gzip_ok else {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read(), response.headers


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = '/usr/bin/chromium'
    for argument in ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--window-size=1280,900']:
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service('/usr/bin/chromedriver'), options=options)
    driver.execute_cdp_cmd('Page.addScriptToEvaluateOnNewDocument', {'source': OBSERVER})
    return driver


def size():
    page, headers = fetch('/')
    html = gzip.decompress(page).decode() if headers.get('Content-Encoding') == 'gzip' else page.decode()
    rows, total, plain_total = [('page', len(page), len(html.encode()))], len(page), len(html.encode())
    for path in re.findall(r'"(/assets/[^"]+)"', html):
        body, headers = fetch(path)
        plain, _ = fetch(path, gzip_ok=False)
        rows.append((path.rsplit('/', 1)[1], len(body), len(plain)))
        total += len(body)
        plain_total += len(plain)
    return rows, total, plain_total


def paint_ms(driver, url):
    driver.execute_cdp_cmd('Network.enable', {})
    driver.execute_cdp_cmd('Network.setCacheDisabled', {'cacheDisabled': True})
    driver.get(url)
    for _ in range(200):
        value = driver.execute_script(
            "const e = performance.getEntriesByName('first-contentful-paint')[0]; return e ? e.startTime : null")
        if value is not None:
            return value
        time.sleep(0.01)
    raise RuntimeError('no first-contentful-paint')


def streaming(driver, tokens):
    driver.get(BASE + '/')
    box = driver.find_element(By.ID, 'composer-input')
    driver.execute_script("arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'))", box,
                          f'Stream please mock:tokens={tokens} mock:delay_ms=1')
    time.sleep(0.3)
    driver.execute_script('window.__longTasks.length = 0')  # from the Enter key on: sending and streaming
    started = time.time()
    box.send_keys(Keys.ENTER)
    while True:
        done = driver.execute_script(
            "const a = document.querySelectorAll('.message.assistant'); return a.length > 0 && a[a.length - 1].dataset.status === 'complete'")
        if done:
            break
        if time.time() - started > 120:
            raise RuntimeError('the answer did not finish')
        time.sleep(0.05)
    seconds = time.time() - started
    time.sleep(0.3)
    tasks = driver.execute_script('return window.__longTasks')
    words = driver.execute_script(
        "const a = document.querySelectorAll('.message.assistant .message-body'); return a[a.length - 1].textContent.split(/\\s+/).length")
    return tasks, seconds, words


def idle(driver, seconds):
    driver.get(BASE + '/')
    driver.execute_script('window.__longTasks.length = 0')
    time.sleep(seconds)
    return driver.execute_script('return window.__longTasks')


INTERACTIVE = """
const done = arguments[arguments.length - 1];
const wanted = arguments[0];
function check() {
  const ready = (wanted === null || document.querySelector(`.message[data-index="${wanted}"]`))
    && document.activeElement && document.activeElement.id === 'composer-input';
  if (ready) done(performance.now()); else requestAnimationFrame(check);
}
check();
"""


def interactive_ms(driver, path, wanted_index):
    driver.get(BASE + path)
    return driver.execute_async_script(INTERACTIVE, wanted_index)


def seed_long_conversation():
    conversation = api('POST', '/conversations', {'title': 'Bench: 1,000 messages'})
    for number in range(500):
        api('POST', f"/conversations/{conversation['id']}/messages",
            {'content': f'Question {number}: how does **this** work? mock:tokens=40 mock:delay_ms=0'})
    return conversation['id']


def median(values):
    return statistics.median(values)


def main():
    rows, total, plain_total = size()
    api('POST', '/auth/setup', {'email': 'bench@example.com', 'password': 'correct horse battery staple'})
    driver = browser()
    sign_in(driver)
    try:
        ui_paint = [paint_ms(driver, BASE + '/') for _ in range(RUNS)]
        floor_paint = [paint_ms(driver, BASE + '/health/live') for _ in range(RUNS)]
        driver.execute_cdp_cmd('Network.setCacheDisabled', {'cacheDisabled': False})
        stream_tasks, stream_seconds, words = streaming(driver, 2000)
        idle_tasks = idle(driver, stream_seconds)
        # The observer must see a long task when there is one: a 120 ms busy loop.
        driver.execute_script('window.__longTasks.length = 0; setTimeout(() => { const t = performance.now(); while (performance.now() - t < 120) {} }, 0)')
        time.sleep(0.5)
        calibration = driver.execute_script('return window.__longTasks')
        # A slower device: the same answer with the CPU slowed down 4×.
        driver.execute_cdp_cmd('Emulation.setCPUThrottlingRate', {'rate': 4})
        slow_tasks, slow_seconds, _ = streaming(driver, 2000)
        driver.execute_cdp_cmd('Emulation.setCPUThrottlingRate', {'rate': 1})
        long_id = seed_long_conversation()
        interactive_runs, load_tasks = [], []
        for _ in range(RUNS):
            interactive_runs.append(interactive_ms(driver, f'/c/{long_id}', 1000))
            load_tasks += driver.execute_script('return window.__longTasks')
        empty_runs = [interactive_ms(driver, '/', None) for _ in range(RUNS)]
    finally:
        driver.quit()

    kb = lambda n: f'{n / 1024:.1f} KB'
    longest = max(stream_tasks, default=0)
    lines = [
        '| figure | Parley UI | baseline | target |',
        '|---|---|---|---|',
        f'| transferred on a first visit (gzip) | {kb(total)} ({len(rows)} files; {kb(plain_total)} uncompressed) | – | ≤ 60 KB |',
        f'| first contentful paint, empty cache (median of {RUNS}) | {median(ui_paint):.0f} ms | {median(floor_paint):.0f} ms '
        f'(a one-line JSON page, same origin; ratio {median(ui_paint) / max(median(floor_paint), 1):.2f}×) | ≤ 300 ms |',
        f'| longest main-thread task while streaming 2,000 tokens ({stream_seconds:.1f} s, {words} words shown) | '
        f'{longest:.0f} ms ({len(stream_tasks)} tasks over 50 ms) | {max(idle_tasks, default=0):.0f} ms idle on the page '
        f'as long ({len(idle_tasks)} over 50 ms) | no task > 50 ms |',
        f'| the same with the CPU slowed 4× ({slow_seconds:.1f} s) | {max(slow_tasks, default=0):.0f} ms '
        f'({len(slow_tasks)} tasks over 50 ms) | – | – |',
        f'| 1,000-message conversation: newest message shown and input ready (median of {RUNS}) | '
        f'{median(interactive_runs):.0f} ms (long tasks while loading: {len(load_tasks)}) | {median(empty_runs):.0f} ms '
        f'(the empty new-chat page; ratio {median(interactive_runs) / max(median(empty_runs), 1):.2f}×) | ≤ 500 ms |',
        '',
        'Files (bytes transferred / uncompressed): ' + ', '.join(f'{name} {sent}/{plain}' for name, sent, plain in rows) + '.',
        '',
        f'Raw: first paint UI {sorted(round(v) for v in ui_paint)}, floor {sorted(round(v) for v in floor_paint)}; '
        f'interactive {sorted(round(v) for v in interactive_runs)}, empty {sorted(round(v) for v in empty_runs)}; '
        f'long tasks while streaming {[round(v) for v in stream_tasks]}, with 4× slower CPU {[round(v) for v in slow_tasks]}. '
        f'Check of the long-task observer: a 120 ms busy loop was recorded as {[round(v) for v in calibration]} ms.',
    ]
    with open(OUTPUT, 'w') as file:
        file.write('\n'.join(lines) + '\n')
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
