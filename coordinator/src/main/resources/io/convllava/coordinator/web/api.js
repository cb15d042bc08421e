'use strict';
// The calls the pages make to the coordinator's HTTP API, with the bearer token the user typed in when the API
// asked for one (kept in this tab's sessionStorage, sent only in the Authorization header).
const Api = (() => {
  const TOKEN_KEY = 'convllava.token';

  class ApiError extends Error {
    constructor(message, status, code) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  function token() {
    return sessionStorage.getItem(TOKEN_KEY);
  }

  // The token dialog of every page, added to it the first time it is needed.
  function tokenDialog() {
    let dialog = document.getElementById('token-dialog');
    if (dialog) {
      return dialog;
    }
    dialog = document.createElement('dialog');
    dialog.id = 'token-dialog';
    dialog.setAttribute('aria-labelledby', 'token-title');
    dialog.innerHTML = `
  <form id="token-form" method="dialog">
    <h2 id="token-title">API token</h2>
    <p>This coordinator asks for a bearer token. It is kept in this tab only (sessionStorage).</p>
    <label for="token-input">Token</label>
    <input id="token-input" type="password" autocomplete="off" required>
    <div class="actions">
      <button id="token-save" type="submit" value="save">Use it</button>
      <button id="token-cancel" type="button" class="secondary">Cancel</button>
    </div>
  </form>`;
    document.body.appendChild(dialog);
    return dialog;
  }

  // Shows the token dialog; resolves to true when the user gave a token, false when cancelled.
  function askForToken(reason) {
    const dialog = tokenDialog();
    const input = document.getElementById('token-input');
    const cancel = document.getElementById('token-cancel');
    const intro = dialog.querySelector('p');
    if (reason) {
      intro.textContent = reason + ' The token is kept in this tab only (sessionStorage).';
    }
    input.value = '';
    return new Promise((resolve) => {
      const done = (given) => {
        dialog.removeEventListener('close', onClose);
        cancel.removeEventListener('click', onCancel);
        resolve(given);
      };
      const onClose = () => {
        const value = input.value.trim();
        if (dialog.returnValue === 'save' && value) {
          sessionStorage.setItem(TOKEN_KEY, value);
          done(true);
        } else {
          done(false);
        }
      };
      const onCancel = () => {
        dialog.returnValue = 'cancel';
        dialog.close();
      };
      dialog.addEventListener('close', onClose);
      cancel.addEventListener('click', onCancel);
      dialog.returnValue = '';
      dialog.showModal();
      input.focus();
    });
  }

  // What an error answer means to the user, from its status and OpenAI-shaped body.
  function describe(status, body, retryAfter) {
    const message = body && body.error && body.error.message ? body.error.message : '';
    switch (status) {
      case 401: return 'The API refused the token: ' + (message || 'give a valid one.');
      case 413: return 'Too large: ' + (message || 'the request is over the coordinator\'s limit.')
          + ' Try a smaller picture.';
      case 429: return 'The cluster is overloaded' + (retryAfter ? ' (retry in ' + retryAfter + ' s)' : '')
          + ': ' + (message || 'try again in a moment.');
      case 503: return 'The cluster cannot answer now: ' + (message || 'try again in a moment.');
      case 400: return 'The request was refused: ' + (message || 'bad request.');
      default: return (message || 'The coordinator answered HTTP ' + status + '.');
    }
  }

  // fetch() on the API with the token; asks for a token (and retries) when the API answers 401.
  // Resolves to the Response when it is OK (2xx); rejects with an ApiError saying why otherwise.
  async function call(path, init = {}) {
    for (let attempt = 0; ; attempt++) {
      const headers = new Headers(init.headers || {});
      const t = token();
      if (t) {
        headers.set('Authorization', 'Bearer ' + t);
      }
      const response = await fetch(path, { ...init, headers, credentials: 'omit', cache: 'no-store' });
      if (response.ok) {
        return response;
      }
      let body = null;
      try {
        body = await response.json();
      } catch (e) {
        body = null;
      }
      if (response.status === 401 && attempt < 3) {
        if (t) {
          sessionStorage.removeItem(TOKEN_KEY);
        }
        const given = await askForToken(t ? 'The API refused the token: give another one.'
            : 'This coordinator asks for a bearer token.');
        if (given) {
          continue;
        }
      }
      throw new ApiError(describe(response.status, body, response.headers.get('Retry-After')), response.status,
          body && body.error ? body.error.code : null);
    }
  }

  // Reads an event stream of the API: calls onEvent with each parsed JSON event until [DONE]. An event that
  // carries an error (the stream began before the failure) rejects with an ApiError.
  async function readEvents(response, onEvent) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffered = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        return;
      }
      buffered += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const data = block.split('\n').filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).trimStart()).join('\n');
        if (!data) {
          continue;
        }
        if (data === '[DONE]') {
          return;
        }
        const event = JSON.parse(data);
        if (event.error) {
          throw new ApiError(event.error.message || 'the answer failed', 0, event.error.code);
        }
        onEvent(event);
      }
    }
  }

  return { call, readEvents, ApiError };
})();
