// library.js — the list of documents (#/): title, blocks, date, resume point, delete.
import { h, svg, ICONS, formatDate } from './dom.js';
import * as api from '../api.js';

export function renderLibrary(root) {
  const list = h('ul', { class: 'doc-list', 'aria-busy': 'true' });
  const status = h('p', { class: 'muted loading' }, 'Loading your documents…');
  const page = h('section', { class: 'page library' },
    h('div', { class: 'page-head' },
      h('h1', {}, 'Library'),
      h('a', { class: 'button primary', href: '#/new' }, 'New document')),
    status, list);
  root.replaceChildren(page);

  let alive = true;
  api.listDocuments().then((docs) => {
    if (!alive) return;
    list.removeAttribute('aria-busy');
    status.remove();
    if (!docs || !docs.length) {
      page.append(h('div', { class: 'empty' },
        h('p', {}, 'Nothing here yet.'),
        h('p', { class: 'muted' }, 'Paste some text or upload a file, then press play to hear it read aloud.'),
        h('a', { class: 'button primary', href: '#/new' }, 'Add your first document')));
      return;
    }
    for (const d of docs) list.append(item(d));
  }, (err) => {
    if (!alive) return;
    status.className = 'banner error';
    status.textContent = `Could not load the library: ${err.message}`;
  });

  function item(d) {
    const blocks = Number(d.block_count) || 0;
    const pos = Number(d.last_block_idx) || 0;
    const meta = [`${blocks} block${blocks === 1 ? '' : 's'}`, formatDate(d.created_at)];
    if (pos > 0 && blocks) meta.push(`${Math.round((pos / blocks) * 100)}% read`);
    const del = h('button', {
      class: 'icon-button danger', type: 'button', 'aria-label': `Delete ${d.title || 'document'}`,
      title: 'Delete',
      onclick: async () => {
        if (!confirm(`Delete “${d.title || 'Untitled'}”?`)) return;
        del.disabled = true;
        try {
          await api.deleteDocument(d.id);
          li.remove();
          if (!list.children.length) renderLibrary(root);
        } catch (err) {
          del.disabled = false;
          alert(`Could not delete: ${err.message}`);
        }
      },
    }, svg(ICONS.trash, { size: 18 }));
    const li = h('li', { class: 'doc-item', 'data-doc-id': d.id },
      h('a', { class: 'doc-link', href: `#/doc/${encodeURIComponent(d.id)}` },
        h('span', { class: 'doc-title' }, d.title || 'Untitled'),
        h('span', { class: 'doc-meta muted' }, meta.filter(Boolean).join(' · '))),
      del);
    return li;
  }

  return () => { alive = false; };
}
