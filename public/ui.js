// The status page's only script (served at /ui/static/ui.js; the Content-Security-Policy allows no other).
// It refreshes the overview's live part every second and copies revisions. Pages work without it.
'use strict';

function refreshLive(element) {
  let busy = false;
  // The live part's ETag: while nothing changed the service answers 304 without rendering it again.
  let tag = null;
  setInterval(async () => {
    if (busy || document.visibilityState !== 'visible') return;
    busy = true;
    try {
      const headers = { Accept: 'text/html' };
      if (tag) headers['If-None-Match'] = tag;
      const response = await fetch(element.dataset.live, { credentials: 'same-origin', cache: 'no-store', headers });
      if (response.status === 401) {
        window.location.assign('/ui/login');
        return;
      }
      if (response.ok) {
        // Server-rendered and escaped by the service, from the same origin.
        const html = await response.text();
        tag = response.headers.get('ETag');
        if (html !== element.dataset.rendered) {
          element.innerHTML = html;
          element.dataset.rendered = html;
        }
      }
    } catch {
      // The service is restarting or the network blinked: the next tick tries again.
    } finally {
      busy = false;
    }
  }, 1000);
}

async function copy(button) {
  const value = button.dataset.copy;
  try {
    await navigator.clipboard.writeText(value);
  } catch {
    // No clipboard API (plain HTTP off localhost): show the whole id, selected, for Ctrl+C.
    window.prompt('Copy the revision', value);
    return;
  }
  // Text and accessible name change together (a screen reader hears what the eye sees).
  const label = button.getAttribute('aria-label');
  button.textContent = 'copied';
  button.setAttribute('aria-label', label.replace(/^Copy/, 'Copied'));
  setTimeout(() => {
    button.textContent = 'copy';
    button.setAttribute('aria-label', label);
  }, 1500);
}

document.addEventListener('click', (event) => {
  const button = event.target instanceof Element ? event.target.closest('button[data-copy]') : null;
  if (button) void copy(button);
});

const live = document.querySelector('[data-live]');
if (live) refreshLive(live);
