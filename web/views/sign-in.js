// sign-in.js — the sign-in screen, shown only when the server runs with --auth and the page
// holds no working credential: paste an API token (from `recite user add`), or continue as
// a guest. The credential is checked with GET /v1/me before it is kept; then the page
// reloads so the socket and every request start with it.
import { h } from './dom.js';
import * as api from '../api.js';

export function renderSignIn(root, { reason } = {}) {
  const input = h('input', {
    type: 'password', id: 'token', name: 'token', autocomplete: 'current-password',
    spellcheck: 'false', placeholder: 'rct_…', required: true,
  });
  const message = h('p', { class: 'banner error', role: 'alert', hidden: !reason }, reason || '');
  const submit = h('button', { class: 'button primary', type: 'submit' }, 'Sign in');
  const asGuest = h('button', { class: 'button', type: 'button', onclick: continueAsGuest }, 'Continue as guest');

  function fail(text) {
    message.textContent = text;
    message.hidden = false;
    submit.disabled = false;
    asGuest.disabled = false;
  }

  async function use(cred, refused) {
    api.setCredential(cred);
    try {
      await api.getMe();
    } catch (err) {
      api.setCredential(null);
      fail(err.status === 401 ? refused : `Could not sign in: ${err.message}`);
      return;
    }
    location.reload();
  }

  async function continueAsGuest() {
    submit.disabled = true;
    asGuest.disabled = true;
    try {
      await use(await api.createGuest(), 'The guest account was not accepted.');
    } catch (err) {
      fail(err.status === 403 ? 'This server does not accept guests: ask its owner for a token.'
        : `Could not continue as a guest: ${err.message}`);
    }
  }

  const form = h('form', {
    class: 'sign-in-form',
    onsubmit: (e) => {
      e.preventDefault();
      const token = input.value.trim();
      if (!token) return;
      submit.disabled = true;
      asGuest.disabled = true;
      use({ token }, 'That token was not accepted. Check it, or ask for a new one.');
    },
  },
  h('div', { class: 'field' },
    h('label', { for: 'token' }, 'API token'),
    input,
    h('p', { class: 'muted hint' }, 'Your token comes from whoever runs this server (recite user add NAME).')),
  h('div', { class: 'sign-in-actions' }, submit, asGuest));

  root.replaceChildren(h('section', { class: 'page sign-in' },
    h('h1', {}, 'Sign in to recite'),
    h('p', { class: 'muted' }, 'This server is shared: your documents and reading positions are yours alone.'),
    message, form));
  input.focus();
}
