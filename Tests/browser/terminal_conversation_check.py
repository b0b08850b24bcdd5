"""A conversation started in the terminal, seen and continued in the web UI (headless Chromium, Selenium).

usage: terminal_conversation_check.py BASE_URL EMAIL PASSWORD CONVERSATION_ID QUESTION ANSWER FOLLOW_UP

Signs in through the form, finds the conversation in the sidebar's list under its title (the question's first
line), opens it and checks that both messages show as they were stored; then sends FOLLOW_UP from the message
box and waits for its answer to finish, so the terminal can go on from there. Prints one line per check and
"all passed" at the end; exits non-zero on the first failure, with the page's console log.
"""
import sys
import traceback

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from headless import browser, wait

BASE, EMAIL, PASSWORD, CONVERSATION, QUESTION, ANSWER, FOLLOW_UP = sys.argv[1:8]


def bodies(driver, role):
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, f'.message.{role} .message-body')]


def run(driver):
    driver.get(BASE + '/')
    wait('the sign-in form', lambda: driver.execute_script(
        "return document.getElementById('auth-dialog').open && "
        "document.getElementById('auth-title').textContent === 'Sign in'"))
    driver.find_element(By.ID, 'auth-email').send_keys(EMAIL)
    driver.find_element(By.ID, 'auth-password').send_keys(PASSWORD, Keys.ENTER)
    wait('the form to close', lambda: not driver.execute_script("return document.getElementById('auth-dialog').open"))
    print('signed in through the form', flush=True)

    title = QUESTION.splitlines()[0]
    item = wait('the conversation in the list', lambda: driver.find_elements(
        By.CSS_SELECTOR, f'.conversation-item[data-id="{CONVERSATION}"] .conversation-link'))[0]
    assert item.text == title, f'listed as {item.text!r}, not {title!r}'
    print(f'listed as “{title}”', flush=True)

    item.click()
    wait('the conversation to open', lambda: driver.execute_script('return location.pathname') == f'/c/{CONVERSATION}')
    wait('both messages', lambda: bodies(driver, 'user') == [QUESTION] and bodies(driver, 'assistant') == [ANSWER])
    print('the question and the answer shown as stored', flush=True)

    box = driver.find_element(By.ID, 'composer-input')
    box.send_keys(FOLLOW_UP, Keys.ENTER)
    wait('the follow-up answered', lambda: len(bodies(driver, 'assistant')) == 2 and driver.find_elements(
        By.CSS_SELECTOR, '.message.assistant')[-1].get_attribute('data-status') == 'complete', 30)
    print('continued in the browser', flush=True)


def main():
    driver = browser()
    try:
        run(driver)
        print('all passed')
    except Exception:
        traceback.print_exc()
        for entry in driver.get_log('browser'):
            print('console:', entry.get('message'))
        sys.exit(1)
    finally:
        driver.quit()


if __name__ == '__main__':
    main()
