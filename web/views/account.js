// account.js — who is signed in, in the top bar (only with --auth): the user's name or
// "Guest", the quota used where there is one, and "Sign out" (which forgets the credential
// and reloads into the sign-in screen). refresh() re-reads GET /v1/me.
import { h } from './dom.js';
import * as api from '../api.js';

const fmt = (n) => Number(n).toLocaleString();

export function renderAccount(slot, me) {
  const name = h('span', { class: 'account-name' });
  const quota = h('span', { class: 'account-quota muted' });
  const out = h('button', {
    class: 'button ghost small', type: 'button',
    onclick: () => {
      api.setCredential(null);
      history.replaceState(null, '', '#/');   // the next person starts at the library
      location.reload();
    },
  }, 'Sign out');
  slot.replaceChildren(h('div', { class: 'account' }, name, quota, out));
  slot.hidden = false;

  function show(m) {
    name.textContent = m.guest ? 'Guest' : m.user || '';
    if (m.quota_chars) {
      const left = Math.max(0, m.quota_chars - m.used_chars);
      quota.textContent = `${fmt(left)} of ${fmt(m.quota_chars)} characters left`;
      quota.title = m.resets_at ? `${fmt(m.used_chars)} used in the last 30 days; more frees up from ${new Date(m.resets_at).toLocaleString()}` : '';
      quota.classList.toggle('spent', left === 0);
    } else {
      quota.textContent = '';
    }
  }
  show(me);
  return {
    refresh: () => api.getMe().then(show, () => {}),
  };
}
