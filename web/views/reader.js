// reader.js — the reading page (#/doc/<id>): loads the document, wires the rendered text,
// progress bar, controls and voice picker to the engine, remembers the position (localStorage
// at once, PATCH /position debounced), binds keyboard shortcuts and the Media Session.
import { h } from './dom.js';
import * as api from '../api.js';
import { store } from './dom.js';
import { createDocumentText } from './document-text.js';
import { createProgressBar } from './progress.js';
import { createContents } from './contents.js';
import { createControls } from './controls.js';
import { createVoicePicker } from './voice-picker.js';
import { createExportPanel } from './export-panel.js';
import { toggleHelp, helpOpen } from './help.js';
import { bindMediaSession } from '../media-session.js';

const SAVE_DELAY_MS = 1500;
const posKey = (id) => `recite.pos.${id}`;
const skipKey = (id) => `recite.skipRefs.${id}`;

function isTextEntry(el) {
  if (!el) return false;
  if (el.isContentEditable) return true;
  const tag = el.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') return !['button', 'checkbox', 'radio', 'submit', 'reset'].includes(el.type);
  return false;
}

// The page a document was imported from: its host shown, the whole address on hover.
function sourceLink(href) {
  let host = href;
  try { host = new URL(href).host; } catch { /* shown as given */ }
  return h('a', { class: 'source-url', href, target: '_blank', rel: 'noopener noreferrer', title: href }, host);
}

export function renderReader(root, { id, engine, audio, ws, synthesizer }) {
  let alive = true;
  const cleanups = [];
  root.replaceChildren(h('section', { class: 'page reader loading' }, h('p', { class: 'muted' }, 'Opening the document…')));
  document.body.classList.add('reading');
  ws.connect();

  api.getDocument(id).then((doc) => {
    if (alive) mount(doc);
  }, (err) => {
    if (!alive) return;
    root.replaceChildren(h('section', { class: 'page' },
      h('h1', {}, err.status === 404 ? 'Document not found' : 'Could not open the document'),
      h('p', { class: 'muted' }, err.status === 404 ? 'It may have been deleted.' : err.message),
      h('a', { class: 'button', href: '#/' }, 'Back to the library')));
  });

  let previewResume = null;      // the timer that goes on reading after a voice preview
  let previewWasReading = false; // a second preview during the first still resumes after
  function mount(doc) {
    const blocks = Array.isArray(doc.blocks) ? doc.blocks : [];
    const count = blocks.length;
    const saved = Number(store(posKey(doc.id)));
    const start = Number.isInteger(saved) && saved >= 0 && store(posKey(doc.id)) !== null
      ? saved : Math.max(0, Number(doc.last_block_idx) || 0);

    const text = createDocumentText({
      html: doc.html, blocks, sourceUrl: doc.source_url || null,
      onBlockClick: (i) => engine.playFrom(i), barHeight: () => controls.el.offsetHeight,
    });
    const contents = createContents({ article: text.article, onChoose: (i) => { text.followCursor(); engine.playFrom(i); } });
    const progress = createProgressBar({ count, onSeek: (i) => engine.seek(i), describe: contents.headingFor });
    const voicePicker = createVoicePicker({
      onChange: (model, voice) => engine.setVoice(model, voice),
      // The preview endpoint answers {audio_url, text}: play that audio, cached like any block.
      // Reading pauses for the preview and goes on after it (from the start of the block it
      // was in), unless the reader did something else meanwhile.
      onPreview: async (url) => {
        clearTimeout(previewResume);
        const before = engine.getSnapshot();
        const wasReading = before.playState === 'playing' || before.playState === 'buffering' || previewWasReading;
        try {
          const res = await fetch(url, { headers: api.authHeaders() });
          if (!res.ok) return;
          const info = await res.json();
          let { audio_url: audioUrl, duration_ms: ms } = info;
          if (!audioUrl && info.synthesis_mode === 'browser' && synthesizer) {
            // a browser voice: the server gives the sentence, this page speaks it
            const made = await synthesizer.synthesize({ text: info.text, voice: info.voice });
            audioUrl = made.url;
            ms = made.durationMs;
          }
          if (!audioUrl) return;
          engine.releaseOutput();
          const paused = engine.getSnapshot();
          previewWasReading = wasReading;
          await audio.play(audioUrl, { token: -2 });
          if (!wasReading) return;
          previewResume = setTimeout(() => {
            previewWasReading = false;
            const now = engine.getSnapshot();
            if (alive && now.playState === 'paused' && now.cursor === paused.cursor) engine.play();
          }, Math.max(0, Number(ms) || 0) + 300);
        } catch { previewWasReading = false; /* a preview is best-effort: the picker stays usable */ }
      },
    });
    const controls = createControls({
      engine, voicePicker, progress, onHelp: toggleHelp, onRetry: () => ws.retry(),
    });
    const title = doc.title || 'Untitled';
    // Per document, on unless turned off: citation markers, footnote references and bare
    // URLs stay on the page but are not read aloud.
    const skipBox = h('input', {
      type: 'checkbox', checked: store(skipKey(doc.id)) !== '0',
      onchange: () => { store(skipKey(doc.id), skipBox.checked ? '1' : '0'); engine.setSkipReferences(skipBox.checked); },
    });
    const skipToggle = h('label', { class: 'skip-refs small', title: 'Citation markers like [12], footnote references and bare URLs are shown but not read aloud' },
      skipBox, ' Skip citations and URLs when reading');
    const exportPanel = createExportPanel({ docId: doc.id, voice: () => voicePicker.value });
    cleanups.push(() => exportPanel.destroy());
    root.replaceChildren(
      h('section', { class: 'page reader' },
        h('header', { class: 'reader-head' },
          h('a', { class: 'back muted', href: '#/' }, '← Library'),
          h('h1', { class: 'doc-title' }, title),
          h('p', { class: 'muted small' }, `${count} block${count === 1 ? '' : 's'}`,
            doc.author ? ` · ${doc.author}` : '',
            doc.source_url ? [' · from ', sourceLink(doc.source_url)] : '',
            contents.count ? [' ', contents.button] : ''),
          skipToggle, exportPanel.el),
        contents.panel,
        text.article),
      text.pill,
      controls.el);
    cleanups.push(() => text.destroy());
    cleanups.push(() => clearTimeout(previewResume));
    cleanups.push(() => progress.destroy());
    const ro = new ResizeObserver(() => {
      document.documentElement.style.setProperty('--player-h', `${controls.el.offsetHeight}px`);
    });
    ro.observe(controls.el);
    cleanups.push(() => ro.disconnect());

    engine.load({ id: doc.id, title, blocks }, { cursor: Math.min(start, Math.max(0, count - 1)) });
    engine.setChapters(chapterStarts(text.article));
    engine.setSkipReferences(skipBox.checked);
    cleanups.push(() => controls.destroy());
    const { model, voice } = voicePicker.value;
    engine.setVoice(model, voice);

    // --- position memory ------------------------------------------------------------
    let lastCursor = engine.getSnapshot().cursor;  // before subscribe(): it calls back at once
    let lastSaved = lastCursor;
    let saveTimer = null;
    function savePosition(cursor) {
      if (cursor === lastCursor) return;
      lastCursor = cursor;
      store(posKey(doc.id), String(cursor));
      clearTimeout(saveTimer);
      saveTimer = setTimeout(flushPosition, SAVE_DELAY_MS);
    }
    function flushPosition(keepalive = false) {
      clearTimeout(saveTimer);
      if (lastCursor === lastSaved) return;
      lastSaved = lastCursor;
      api.savePosition(doc.id, lastCursor, { keepalive }).catch(() => {});
    }
    // --- render on animation frames -------------------------------------------------
    let latest = null;
    let scheduled = false;
    let first = true;
    const render = () => {
      if (!scheduled || !alive) return;
      scheduled = false;
      const s = latest;
      controls.update(s);
      text.update(s, { instant: first });
      contents.update(s.cursor);
      first = false;
      document.title = `${s.playState === 'playing' ? '▶ ' : ''}${title} — recite`;
    };
    cleanups.push(engine.subscribe((s) => {
      latest = s;
      if (scheduled) return;
      scheduled = true;
      requestAnimationFrame(render);
      setTimeout(render, 100);  // background tabs get no animation frames
      savePosition(s.cursor);
    }));

    const onHide = () => flushPosition(true);
    window.addEventListener('pagehide', onHide);
    cleanups.push(() => { window.removeEventListener('pagehide', onHide); flushPosition(true); });

    // --- keyboard -------------------------------------------------------------------
    const onKey = (e) => {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
      if (isTextEntry(e.target)) return;
      if (helpOpen() && e.key !== '?') return;
      let handled = true;
      switch (e.key) {
        case ' ': case 'Spacebar': engine.toggle(); break;
        case 'j': case 'ArrowDown': case 'ArrowRight': engine.next(); break;
        case 'k': case 'ArrowUp': case 'ArrowLeft': engine.prev(); break;
        case '+': case '=': engine.faster(); break;
        case '-': case '_': engine.slower(); break;
        case 'm': case 'M': engine.toggleMute(); break;
        case '?': toggleHelp(); break;
        default: handled = false;
      }
      if (handled) e.preventDefault();
    };
    // Space on a focused button would also "click" it on keyup: swallow that.
    const onKeyUp = (e) => {
      if (e.key === ' ' && !isTextEntry(e.target) && e.target.closest?.('button')) e.preventDefault();
    };
    document.addEventListener('keydown', onKey);
    document.addEventListener('keyup', onKeyUp, true);
    cleanups.push(() => {
      document.removeEventListener('keydown', onKey);
      document.removeEventListener('keyup', onKeyUp, true);
    });

    cleanups.push(bindMediaSession(engine));
  }

  return () => {
    alive = false;
    for (const fn of cleanups.reverse()) { try { fn(); } catch { /* keep going */ } }
    engine.unload();
    document.body.classList.remove('reading');
    document.title = 'recite';
  };
}

// Where chapters start, for the sleep timer's "end of chapter": the headings of the highest
// level that occurs more than once (a lone top heading is the title), else every heading.
function chapterStarts(article) {
  const heads = [...article.querySelectorAll('h1, h2, h3, h4, h5, h6')]
    .map((hd) => ({ level: Number(hd.tagName[1]), el: hd.querySelector('[data-block-idx]') || hd }))
    .filter((x) => x.el.hasAttribute('data-block-idx'));
  const levels = [...new Set(heads.map((x) => x.level))].sort();
  const level = levels.find((l) => heads.filter((x) => x.level === l).length > 1);
  return heads.filter((x) => level === undefined || x.level === level)
    .map((x) => Number(x.el.getAttribute('data-block-idx')));
}
