// new-document.js — #/new: paste text (text/markdown/html) or upload a file.
import { h } from './dom.js';
import * as api from '../api.js';

const ACCEPT = '.txt,.text,.md,.markdown,.html,.htm,text/plain,text/markdown,text/html';

function guessFormat(text) {
  const t = text.trimStart();
  if (/^<(!doctype|html|head|body|article|div|p|h[1-6])\b/i.test(t)) return 'html';
  if (/^(#{1,6} |[-*] |\d+\. |> )/m.test(t) || /\*\*[^*]+\*\*|\[[^\]]+\]\([^)]+\)/.test(t)) return 'markdown';
  return 'text';
}

export function renderNewDocument(root, { navigate }) {
  let mode = 'paste';
  let file = null;
  let formatTouched = false;

  const title = h('input', { id: 'doc-title', name: 'title', type: 'text', placeholder: 'Optional — the first heading or words are used', autocomplete: 'off' });
  const format = h('select', { id: 'doc-format', name: 'format', onchange: () => { formatTouched = true; } },
    h('option', { value: 'text' }, 'Plain text'),
    h('option', { value: 'markdown' }, 'Markdown'),
    h('option', { value: 'html' }, 'HTML'));
  const content = h('textarea', {
    id: 'doc-content', name: 'content', rows: 14, placeholder: 'Paste the text you want to hear…',
    oninput: () => { if (!formatTouched) format.value = guessFormat(content.value); },
  });
  const fileInput = h('input', { id: 'doc-file', name: 'file', type: 'file', accept: ACCEPT, class: 'visually-hidden',
    onchange: () => pick(fileInput.files[0]) });
  const fileName = h('span', { class: 'file-name muted' }, 'No file chosen');
  const drop = h('label', { class: 'dropzone', for: 'doc-file' },
    h('strong', {}, 'Choose a file'), h('span', { class: 'muted' }, ' or drop it here'),
    h('span', { class: 'muted small' }, 'Plain text, Markdown or HTML, UTF-8'), fileName);
  const errorBox = h('p', { class: 'banner error', role: 'alert', hidden: true });
  const submit = h('button', { class: 'button primary', type: 'submit' }, 'Create and open');

  const pasteTab = h('button', { type: 'button', role: 'tab', class: 'tab', 'aria-selected': 'true', onclick: () => setMode('paste') }, 'Paste text');
  const uploadTab = h('button', { type: 'button', role: 'tab', class: 'tab', 'aria-selected': 'false', onclick: () => setMode('upload') }, 'Upload a file');
  const pastePanel = h('div', { class: 'panel' },
    h('div', { class: 'field' }, h('label', { for: 'doc-format' }, 'Format'), format),
    h('div', { class: 'field' }, h('label', { for: 'doc-content' }, 'Text'), content));
  const uploadPanel = h('div', { class: 'panel', hidden: true }, fileInput, drop);

  function setMode(m) {
    mode = m;
    pasteTab.setAttribute('aria-selected', String(m === 'paste'));
    uploadTab.setAttribute('aria-selected', String(m === 'upload'));
    pastePanel.hidden = m !== 'paste';
    uploadPanel.hidden = m !== 'upload';
  }
  function pick(f) {
    if (!f) return;
    file = f;
    fileName.textContent = `${f.name} (${Math.max(1, Math.round(f.size / 1024))} KB)`;
    drop.classList.add('has-file');
  }
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    setMode('upload');
    pick(e.dataTransfer.files[0]);
  });

  const form = h('form', {
    class: 'new-doc',
    onsubmit: async (e) => {
      e.preventDefault();
      errorBox.hidden = true;
      if (mode === 'paste' && !content.value.trim()) return showError('Paste some text first.');
      if (mode === 'upload' && !file) return showError('Choose a file first.');
      submit.disabled = true;
      submit.textContent = 'Creating…';
      try {
        const doc = mode === 'paste'
          ? await api.createDocument({ content: content.value, format: format.value, title: title.value.trim() })
          : await api.uploadDocument(file, title.value.trim());
        navigate(`#/doc/${encodeURIComponent(doc.id)}`);
      } catch (err) {
        showError(err.message);
        submit.disabled = false;
        submit.textContent = 'Create and open';
      }
    },
  },
  h('div', { class: 'field' }, h('label', { for: 'doc-title' }, 'Title'), title),
  h('div', { class: 'tabs', role: 'tablist' }, pasteTab, uploadTab),
  pastePanel, uploadPanel, errorBox,
  h('div', { class: 'actions' }, h('a', { class: 'button', href: '#/' }, 'Cancel'), submit));

  function showError(msg) { errorBox.textContent = msg; errorBox.hidden = false; }

  root.replaceChildren(h('section', { class: 'page new' }, h('h1', {}, 'New document'), form));
  content.focus();
  return () => {};
}
