/* Parley's chat widget: one script tag puts a published assistant on any website.
 *   <script src="https://parley.example.com/widget.js" data-assistant="ADDRESS" async></script>
 * It adds a button that opens the assistant's page (/a/ADDRESS) in a frame: the chat runs on Parley's origin,
 * under Parley's own Content-Security-Policy, and the host page needs only to allow this script and frame.
 * Optional: data-label (the button's text), data-position="left". No inline code or styles are added. */
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script) return;
  var address = script.getAttribute('data-assistant') || '';
  if (!/^[A-Za-z0-9_-]{22}$/.test(address)) {
    if (window.console) console.warn('Parley widget: data-assistant must be the assistant\'s public address');
    return;
  }
  var origin = new URL(script.src, location.href).origin;
  var side = script.getAttribute('data-position') === 'left' ? 'left' : 'right';
  var frame = null;

  function place(element, bottom) {
    element.style.position = 'fixed';
    element.style.bottom = bottom;
    element.style[side] = '20px';
    element.style.zIndex = '2147483000';
  }

  var button = document.createElement('button');
  button.type = 'button';
  button.textContent = script.getAttribute('data-label') || 'Chat with us';
  button.setAttribute('aria-expanded', 'false');
  place(button, '20px');
  button.style.padding = '10px 16px';
  button.style.border = 'none';
  button.style.borderRadius = '22px';
  button.style.background = '#2457c5';
  button.style.color = '#fff';
  button.style.font = '15px system-ui, sans-serif';
  button.style.cursor = 'pointer';
  button.style.boxShadow = '0 2px 8px rgba(0,0,0,0.25)';

  button.addEventListener('click', function () {
    if (!frame) {
      frame = document.createElement('iframe');
      frame.src = origin + '/a/' + address + '?embed=1';
      frame.title = button.textContent;
      place(frame, '72px');
      frame.style.width = 'min(380px, calc(100vw - 40px))';
      frame.style.height = 'min(560px, calc(100vh - 100px))';
      frame.style.border = '1px solid rgba(0,0,0,0.15)';
      frame.style.borderRadius = '12px';
      frame.style.background = '#fff';
      frame.style.boxShadow = '0 4px 24px rgba(0,0,0,0.25)';
      document.body.appendChild(frame);
      button.setAttribute('aria-expanded', 'true');
      return;
    }
    var open = frame.style.display === 'none';
    frame.style.display = open ? '' : 'none';
    button.setAttribute('aria-expanded', String(open));
  });

  function attach() { document.body.appendChild(button); }
  if (document.body) attach(); else document.addEventListener('DOMContentLoaded', attach);
})();
