// document-text.js — the rendered document on the reading page: inserts the server's html
// (every spoken piece is an element with data-block-idx), marks the current one with
// aria-current, keeps it in view unless the reader scrolled away ("Back to reading"), and
// highlights the current word with the CSS Custom Highlight API when timings exist.
import { h } from './dom.js';

const HIGHLIGHT = 'recite-word';

const LONG_DOCUMENT = 200;   // blocks; longer documents are laid out lazily, in chunks
const CHUNK = 40;            // top-level elements per chunk

// Group the top-level elements into <div class="chunk"> with content-visibility: auto, so
// the browser lays out only the chunks near the screen (a 10,000-block document opens fast).
function chunk(article) {
  const nodes = [...article.childNodes];
  const frag = document.createDocumentFragment();
  for (let i = 0; i < nodes.length; i += CHUNK) {
    const div = document.createElement('div');
    div.className = 'chunk';
    div.append(...nodes.slice(i, i + CHUNK));
    frag.append(div);
  }
  article.replaceChildren(frag);
}

function escapeHtml(s) {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
}

// Fallback when the server sent no html: one paragraph per block.
function plainHtml(blocks) {
  return blocks.map((b) => `<p><span data-block-idx="${b.idx}">${escapeHtml(b.text || '')}</span></p>`).join('');
}

// The k-th occurrence (counted in the block text up to `offset`) of the word, found in the
// displayed text, which may differ from the spoken text (markup, entities, whitespace).
export function mapOffset(spoken, shown, offset, length) {
  if (spoken === shown) return { start: offset, end: offset + length };
  const w = spoken.slice(offset, offset + length);
  if (!w.trim()) return null;
  let k = 0;
  for (let i = spoken.indexOf(w); i !== -1 && i < offset; i = spoken.indexOf(w, i + 1)) k++;
  let pos = -1;
  for (let j = 0, from = 0; j <= k; j++) {
    pos = shown.indexOf(w, from);
    if (pos === -1) break;
    from = pos + 1;
  }
  if (pos === -1) return null;
  return { start: pos, end: pos + w.length };
}

// A heading's GitHub-style slug, for "#section-name" links written against markdown.
export function slug(text) {
  return text.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

// Links: "#x" stays in the page (followed by us); an absolute http(s)/mailto link opens in
// a new tab; a relative one resolves against the page the document came from (source_url),
// or becomes plain text when there is none (it would point at this server). A relative
// link back into the source page itself ("manual.html#x" from manual.html) is in-page.
export function resolveLinks(article, sourceUrl) {
  let base = null;
  try { base = sourceUrl ? new URL(sourceUrl) : null; } catch { base = null; }
  for (const a of [...article.querySelectorAll('a[href]')]) {
    const raw = a.getAttribute('href');
    if (raw.startsWith('#')) { a.dataset.inPage = 'true'; continue; }
    let abs = null;
    if (/^(https?|mailto):/i.test(raw)) abs = new URL(raw, 'http://x/');
    else if (base) { try { abs = new URL(raw, base); } catch { abs = null; } }
    if (abs && base && abs.hash && abs.origin === base.origin && abs.pathname === base.pathname
        && abs.search === base.search) {
      a.setAttribute('href', abs.hash);
      a.dataset.inPage = 'true';
      continue;
    }
    if (!abs || !/^(https?|mailto):$/.test(abs.protocol)) {
      const span = document.createElement('span');
      span.className = 'link-text';
      span.append(...a.childNodes);
      a.replaceWith(span);
      continue;
    }
    a.setAttribute('href', abs.href);
    a.target = '_blank';
    a.rel = 'noopener';
  }
}

export function createDocumentText({ html, blocks, onBlockClick, sourceUrl = null, barHeight = () => 0 }) {
  const article = h('article', { class: 'doc-text', lang: 'und' });
  article.removeAttribute('lang');
  article.innerHTML = html && /data-block-idx/.test(html) ? html : plainHtml(blocks);
  resolveLinks(article, sourceUrl);

  if (blocks.length > LONG_DOCUMENT) chunk(article);
  const byIdx = new Map();
  for (const el of article.querySelectorAll('[data-block-idx]')) {
    const i = Number(el.getAttribute('data-block-idx'));
    if (!byIdx.has(i)) byIdx.set(i, []);
    byIdx.get(i).push(el);
    el.classList.add('block');
  }

  const pill = h('button', { class: 'back-to-reading', type: 'button', hidden: true, onclick: () => backToReading() },
    h('span', { class: 'arrow', 'aria-hidden': 'true' }, '↓'), 'Back to reading');

  let current = -1;
  let follow = true;
  let active = false;          // playback started: only then offer "Back to reading"
  let programmaticUntil = 0;
  let wordKey = '';
  const highlight = typeof Highlight === 'function' && globalThis.CSS && CSS.highlights ? new Highlight() : null;
  if (highlight) CSS.highlights.set(HIGHLIGHT, highlight);
  const textCache = new Map();

  // --- in-page links: scroll to the target and offer "Play from here" ----------------
  const playHere = h('button', { class: 'play-here', type: 'button', hidden: true }, '▶ Play from here');
  let playHereIdx = -1;
  playHere.addEventListener('click', (e) => {
    e.stopPropagation();
    playHere.hidden = true;
    if (playHereIdx >= 0) { follow = true; onBlockClick(playHereIdx); }
  });

  function findTarget(frag) {
    let id = frag;
    try { id = decodeURIComponent(frag); } catch { /* as written */ }
    if (!id) return null;
    const esc = globalThis.CSS && CSS.escape ? CSS.escape : (x) => x.replace(/["\\]/g, '\\$&');
    const byId = article.querySelector(`#${esc(`doc-${id}`)}`) || article.querySelector(`[id="${id.replace(/["\\]/g, '\\$&')}"]`);
    if (byId) return byId;
    const want = slug(id);
    return [...article.querySelectorAll('h1, h2, h3, h4, h5, h6')].find((hd) => slug(hd.textContent) === want) || null;
  }

  // The block a target belongs to: the spoken piece around it, in it, or the next one.
  function blockOf(target) {
    const around = target.closest('[data-block-idx]');
    if (around) return Number(around.getAttribute('data-block-idx'));
    const inside = target.querySelector('[data-block-idx]');
    if (inside) return Number(inside.getAttribute('data-block-idx'));
    for (const el of article.querySelectorAll('[data-block-idx]')) {
      if (target.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING) return Number(el.getAttribute('data-block-idx'));
    }
    return -1;
  }

  // Scrolls an element to the upper part of the reading area (not under the player bar).
  // Far jumps are instant and checked again on the next frames: the positions of chunks
  // not laid out yet (content-visibility) are only estimates until they come into view.
  function scrollToElement(el, behavior = 'smooth', tries = 0) {
    const { top } = viewportBounds();
    const delta = el.getBoundingClientRect().top - top - 24;
    const reduce = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
    const how = reduce || Math.abs(delta) > window.innerHeight * 2 || tries > 0 ? 'auto' : behavior;
    programmaticUntil = performance.now() + (how === 'smooth' ? 1200 : 300);
    window.scrollTo({ top: Math.max(0, window.scrollY + delta), behavior: how });
    if (how === 'auto' && tries < 6) {
      requestAnimationFrame(() => {
        if (Math.abs(el.getBoundingClientRect().top - top - 24) > 4) scrollToElement(el, 'auto', tries + 1);
      });
    }
  }

  function jumpTo(frag) {
    const target = findTarget(frag);
    if (!target) return false;
    const idx = blockOf(target);
    const anchorEl = (idx >= 0 && byIdx.get(idx)?.[0]) || target;
    follow = false;
    if (active && idx !== current) { const c = byIdx.get(current)?.[0]; if (c) showPill(c); }
    scrollToElement(anchorEl);
    playHereIdx = idx;
    playHere.hidden = idx < 0;
    if (idx >= 0) {
      const box = anchorEl.closest('h1, h2, h3, h4, h5, h6, p, li, blockquote, td, th, div') || anchorEl;
      box.before(playHere);
    }
    return true;
  }

  article.addEventListener('click', (e) => {
    const link = e.target.closest('a[href]');
    if (link && link.dataset.inPage === 'true') {
      if (jumpTo(link.getAttribute('href').slice(1))) e.preventDefault();
      return;
    }
    if (link) return;
    const sel = window.getSelection();
    if (sel && !sel.isCollapsed && article.contains(sel.anchorNode)) return;
    const el = e.target.closest('[data-block-idx]');
    if (!el || !article.contains(el)) return;
    follow = true;
    onBlockClick(Number(el.getAttribute('data-block-idx')));
  });

  function viewportBounds() {
    return { top: 64, bottom: window.innerHeight - barHeight() - 16 };
  }
  function isVisible(el) {
    const r = el.getBoundingClientRect();
    const { top, bottom } = viewportBounds();
    return r.bottom > top && r.top < bottom;
  }
  function comfortablyVisible(el) {
    const r = el.getBoundingClientRect();
    const { top, bottom } = viewportBounds();
    return r.top >= top && r.bottom <= bottom - (bottom - top) * 0.15;
  }

  function scrollToCurrent(behavior, correcting = false) {
    const el = byIdx.get(current)?.[0];
    if (!el) return;
    const r = el.getBoundingClientRect();
    const { top, bottom } = viewportBounds();
    const delta = r.top - top - Math.max(0, (bottom - top - r.height) * 0.3);
    const reduce = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
    // far jumps are instant (and positions of far content are only estimates: check again)
    const far = Math.abs(delta) > window.innerHeight * 2;
    const how = reduce || far ? 'auto' : behavior;
    programmaticUntil = performance.now() + (how === 'smooth' ? 1200 : 200);
    window.scrollTo({ top: Math.max(0, window.scrollY + delta), behavior: how });
    if (how !== 'smooth' && !correcting) {
      requestAnimationFrame(() => { if (!comfortablyVisible(el)) scrollToCurrent('auto', true); });
    }
  }

  // The pill points to where the current block is.
  function showPill(el) {
    if (!active) { pill.hidden = true; return; }
    pill.firstChild.textContent = el.getBoundingClientRect().top < viewportBounds().top ? '↑' : '↓';
    pill.hidden = false;
  }

  function backToReading() {
    follow = true;
    pill.hidden = true;
    scrollToCurrent('smooth');
  }

  function onScroll() {
    if (performance.now() < programmaticUntil) return;
    const el = byIdx.get(current)?.[0];
    if (!el) return;
    if (isVisible(el)) { follow = true; pill.hidden = true; } else { follow = false; showPill(el); }
  }
  window.addEventListener('scroll', onScroll, { passive: true });
  // A scroll that ends is judged where it ended: the reader's wheel can land inside the window
  // of a programmatic scroll (a smooth follow still running), and then none of its scroll
  // events were looked at. Far jumps correct themselves on the next frames and land here again.
  const onScrollEnd = () => { programmaticUntil = 0; onScroll(); };
  window.addEventListener('scrollend', onScrollEnd);
  // The reader's own scrolling always wins over a programmatic one still running.
  const SCROLL_KEYS = new Set(['PageUp', 'PageDown', 'Home', 'End', 'ArrowUp', 'ArrowDown']);
  const onUserScroll = (e) => { if (e.type !== 'keydown' || SCROLL_KEYS.has(e.key)) programmaticUntil = 0; };
  for (const type of ['wheel', 'touchmove', 'keydown']) window.addEventListener(type, onUserScroll, { passive: true });

  function blockText(idx) {
    let c = textCache.get(idx);
    if (c) return c;
    const nodes = [];
    let text = '';
    for (const el of byIdx.get(idx) || []) {
      const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        nodes.push({ node: n, start: text.length });
        text += n.data;
      }
    }
    c = { nodes, text };
    textCache.set(idx, c);
    return c;
  }

  function rangeFor(idx, start, end) {
    const { nodes } = blockText(idx);
    const range = document.createRange();
    let set = 0;
    for (const { node, start: s } of nodes) {
      const e = s + node.data.length;
      if (!(set & 1) && start >= s && start <= e) { range.setStart(node, start - s); set |= 1; }
      if ((set & 1) && end >= s && end <= e) { range.setEnd(node, end - s); set |= 2; break; }
    }
    return set === 3 ? range : null;
  }

  function setWord(word) {
    if (!highlight) return;
    const key = word ? `${word.idx}:${word.offset}:${word.length}` : '';
    if (key === wordKey) return;
    wordKey = key;
    highlight.clear();
    if (!word) return;
    const spoken = blocks[word.idx]?.text || '';
    const { text } = blockText(word.idx);
    const m = mapOffset(spoken, text, word.offset, word.length);
    if (!m) return;
    const r = rangeFor(word.idx, m.start, m.end);
    if (r) highlight.add(r);
  }

  function setCurrent(idx, { instant = false } = {}) {
    if (idx === current) return;
    for (const el of byIdx.get(current) || []) el.removeAttribute('aria-current');
    current = idx;
    const els = byIdx.get(idx) || [];
    for (const el of els) el.setAttribute('aria-current', 'true');
    if (!els.length) return;
    if (follow) {
      if (instant) scrollToCurrent('auto');
      else if (!comfortablyVisible(els[0])) scrollToCurrent('smooth');
    } else {
      if (isVisible(els[0])) pill.hidden = true; else showPill(els[0]);
    }
  }

  return {
    article,
    pill,
    jumpTo,
    // the next cursor move is followed (a contents entry, like a click on a block)
    followCursor() { follow = true; pill.hidden = true; },
    update(s, opts) {
      const wasActive = active;
      active = s.playState !== 'stopped' || active;
      if (active && !wasActive && !follow && byIdx.get(s.cursor)) showPill(byIdx.get(s.cursor)[0]);
      setCurrent(s.cursor, opts);
      setWord(s.playState === 'playing' || s.playState === 'paused' ? s.word : null);
    },
    destroy() {
      window.removeEventListener('scroll', onScroll);
      window.removeEventListener('scrollend', onScrollEnd);
      for (const type of ['wheel', 'touchmove', 'keydown']) window.removeEventListener(type, onUserScroll);
      if (highlight) { highlight.clear(); CSS.highlights.delete(HIGHLIGHT); }
    },
  };
}
