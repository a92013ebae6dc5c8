// new-document.js — #/new: paste text (text/markdown/html), upload a file (text, markdown,
// HTML, PDF, EPUB) by the picker or by dropping it anywhere on the page, or import a web page
// by its URL (a URL dropped on the page fills the field).
import { h } from './dom.js';
import * as api from '../api.js';

const ACCEPT = '.txt,.text,.md,.markdown,.html,.htm,.xhtml,.pdf,.epub,text/plain,text/markdown,' +
  'text/html,application/pdf,application/epub+zip';
const MODES = ['paste', 'upload', 'url'];
const BUSY = { paste: 'Creating…', upload: 'Reading the file…', url: 'Fetching the page…' };

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
    h('span', { class: 'muted small' }, 'PDF, EPUB, plain text, Markdown or HTML'), fileName);
  const url = h('input', { id: 'doc-url', name: 'url', type: 'url', inputmode: 'url', autocomplete: 'url',
    placeholder: 'https://example.com/an-article' });
  const errorBox = h('p', { class: 'banner error', role: 'alert', hidden: true });
  const submit = h('button', { class: 'button primary', type: 'submit' }, 'Create and open');

  const pasteTab = h('button', { type: 'button', role: 'tab', class: 'tab', 'aria-selected': 'true', onclick: () => setMode('paste') }, 'Paste text');
  const uploadTab = h('button', { type: 'button', role: 'tab', class: 'tab', 'aria-selected': 'false', onclick: () => setMode('upload') }, 'Upload a file');
  const urlTab = h('button', { type: 'button', role: 'tab', class: 'tab', 'aria-selected': 'false', onclick: () => setMode('url') }, 'From a web page');
  const pastePanel = h('div', { class: 'panel' },
    h('div', { class: 'field' }, h('label', { for: 'doc-format' }, 'Format'), format),
    h('div', { class: 'field' }, h('label', { for: 'doc-content' }, 'Text'), content));
  const uploadPanel = h('div', { class: 'panel', hidden: true }, fileInput, drop);
  const urlPanel = h('div', { class: 'panel', hidden: true },
    h('div', { class: 'field' }, h('label', { for: 'doc-url' }, 'Web page address'), url,
      h('span', { class: 'muted small' }, 'The article is kept; menus, ads, cookie notices and comments are left out.')));
  const tabs = { paste: pasteTab, upload: uploadTab, url: urlTab };
  const panels = { paste: pastePanel, upload: uploadPanel, url: urlPanel };

  function setMode(m) {
    mode = m;
    for (const k of MODES) {
      tabs[k].setAttribute('aria-selected', String(k === m));
      panels[k].hidden = k !== m;
    }
    if (m === 'url') url.focus();
  }
  function pick(f) {
    if (!f) return;
    file = f;
    fileName.textContent = `${f.name} (${Math.max(1, Math.round(f.size / 1024))} KB)`;
    drop.classList.add('has-file');
  }
  // A file dropped anywhere on the page is the upload; a link dragged from another tab is
  // the web page to import.
  const onDragOver = (e) => {
    if (!e.dataTransfer) return;
    e.preventDefault();
    drop.classList.add('over');
  };
  const onDragLeave = (e) => { if (!e.relatedTarget) drop.classList.remove('over'); };
  const onDrop = (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const dt = e.dataTransfer;
    if (dt?.files?.length) {
      setMode('upload');
      pick(dt.files[0]);
      return;
    }
    const link = (dt?.getData('text/uri-list') || dt?.getData('text/plain') || '').split(/\r?\n/)
      .find((l) => /^https?:\/\//i.test(l.trim()));
    if (link) {
      url.value = link.trim();
      setMode('url');
    }
  };
  document.addEventListener('dragover', onDragOver);
  document.addEventListener('dragleave', onDragLeave);
  document.addEventListener('drop', onDrop);

  const form = h('form', {
    class: 'new-doc',
    onsubmit: async (e) => {
      e.preventDefault();
      errorBox.hidden = true;
      if (mode === 'paste' && !content.value.trim()) return showError('Paste some text first.');
      if (mode === 'upload' && !file) return showError('Choose a file first.');
      if (mode === 'url' && !/^https?:\/\/\S+$/i.test(url.value.trim()))
        return showError('Enter the address of a web page, starting with http:// or https://.');
      submit.disabled = true;
      submit.textContent = BUSY[mode];
      try {
        const t = title.value.trim();
        const doc = mode === 'paste'
          ? await api.createDocument({ content: content.value, format: format.value, title: t })
          : mode === 'upload' ? await api.uploadDocument(file, t) : await api.importUrl(url.value.trim(), t);
        navigate(`#/doc/${encodeURIComponent(doc.id)}`);
      } catch (err) {
        showError(err.message);
        submit.disabled = false;
        submit.textContent = 'Create and open';
      }
    },
  },
  h('div', { class: 'field' }, h('label', { for: 'doc-title' }, 'Title'), title),
  h('div', { class: 'tabs', role: 'tablist' }, pasteTab, uploadTab, urlTab),
  pastePanel, uploadPanel, urlPanel, errorBox,
  h('div', { class: 'actions' }, h('a', { class: 'button', href: '#/' }, 'Cancel'), submit));

  function showError(msg) { errorBox.textContent = msg; errorBox.hidden = false; }

  root.replaceChildren(h('section', { class: 'page new' }, h('h1', {}, 'New document'), form));
  content.focus();
  return () => {
    document.removeEventListener('dragover', onDragOver);
    document.removeEventListener('dragleave', onDragLeave);
    document.removeEventListener('drop', onDrop);
  };
}
