// progress.js — the progress bar: an overview of the whole document at any length, plus a
// magnified strip around the cursor for long documents.
//
// The overview is one row with one cell per block (data-block-idx, data-state, the current
// one aria-current="true", as the SPEC asks), all of equal width, so a pointer at x means
// block floor(x / width * count) exactly: a click or drag lands where the pointer is, at
// 10 or 10,000 blocks. When cells get thinner than MIN_CELL_PX the row is "dense": the
// cells stay (for automation and hit-testing) but turn transparent, and a canvas behind them
// paints one colour per pixel column — the worst state of the blocks under it if any failed,
// else their most common state — with a marker at the cursor. Dense documents also get the
// lens: LENS cells around the cursor (or around the pointer while dragging) at a readable
// size. Hover anywhere names the block, its heading and its state. Only cells whose state
// changed are touched on each update; the canvas is repainted at most once a frame.
import { h } from './dom.js';

const LABEL = {
  pending: 'not prepared', queued: 'queued', processing: 'synthesizing', cached: 'ready',
  error: 'failed', skipped: 'nothing to read',
};
const STATES = ['pending', 'queued', 'processing', 'cached', 'error', 'skipped'];
const MIN_CELL_PX = 5;
const LENS = 41;

export function createProgressBar({ count, onSeek, describe = () => '' }) {
  const bar = h('div', {
    class: 'progress', role: 'slider', tabindex: '0', 'aria-label': 'Reading position',
    'aria-valuemin': '1', 'aria-valuemax': String(Math.max(1, count)), 'aria-valuenow': '1',
  });
  const parts = new Array(count);
  for (let i = 0; i < count; i++) parts[i] = `<div class="cell" data-block-idx="${i}" data-state="pending"></div>`;
  bar.innerHTML = parts.join('');
  const cells = [...bar.children];
  const canvas = h('canvas', { class: 'progress-canvas', 'aria-hidden': 'true' });
  const marker = h('div', { class: 'progress-cursor', 'aria-hidden': 'true' });
  const ghost = h('div', { class: 'progress-ghost', 'aria-hidden': 'true', hidden: true });
  bar.prepend(canvas);
  bar.append(marker, ghost);

  const lensCells = [];
  for (let k = 0; k < LENS; k++) lensCells.push(h('div', { class: 'lens-cell', 'data-state': 'pending' }));
  const lens = h('div', { class: 'progress-lens', 'aria-hidden': 'true', hidden: true }, ...lensCells);
  const tip = h('div', { class: 'progress-tip', role: 'presentation', hidden: true });
  const wrap = h('div', { class: 'progress-wrap' }, lens, bar, tip);

  let states = [];
  let current = -1;
  let dense = false;
  let dragging = false;
  let dragIdx = -1;
  let lensFrom = 0;
  let paintQueued = false;

  // --- geometry --------------------------------------------------------------------
  function idxAt(x, y) {
    if (!dense && y !== undefined) {   // wide cells with gaps: the cell under the pointer
      const el = document.elementFromPoint(x, y);
      const cell = el && el.closest ? el.closest('.cell[data-block-idx]') : null;
      if (cell && bar.contains(cell)) return Number(cell.dataset.blockIdx);
    }
    const r = bar.getBoundingClientRect();
    if (!count || r.width <= 0) return -1;
    return Math.min(count - 1, Math.max(0, Math.floor(((x - r.left) / r.width) * count)));
  }
  function lensIdxAt(x, y) {
    const el = document.elementFromPoint(x, y);
    const cell = el && el.closest ? el.closest('.lens-cell') : null;
    return cell && lens.contains(cell) ? Number(cell.dataset.idx) : -1;
  }
  const pct = (i) => `${((i + 0.5) / Math.max(1, count)) * 100}%`;

  function layout() {
    const w = bar.clientWidth;
    const was = dense;
    dense = w > 0 && w / Math.max(1, count) < MIN_CELL_PX;
    bar.classList.toggle('dense', dense);
    lens.hidden = !dense;
    if (dense !== was || dense) schedulePaint();
    if (dense) renderLens();
  }

  // --- the overview canvas (dense) ---------------------------------------------------
  function schedulePaint() {
    if (paintQueued || !dense) return;
    paintQueued = true;
    requestAnimationFrame(() => { paintQueued = false; paint(); });
  }
  function paint() {
    if (!dense) return;
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(bar.clientWidth * dpr));
    const hgt = Math.max(1, Math.round(canvas.clientHeight * dpr));
    if (canvas.width !== w) canvas.width = w;
    if (canvas.height !== hgt) canvas.height = hgt;
    const css = getComputedStyle(bar);
    const colour = Object.fromEntries(STATES.map((s) => [s, css.getPropertyValue(`--cell-${s}`).trim() || '#ccc']));
    colour.skipped = colour.skipped === '#ccc' ? colour.pending : colour.skipped;
    const ctx = canvas.getContext('2d');
    ctx.clearRect(0, 0, w, hgt);
    const tally = new Map();
    for (let px = 0; px < w; px++) {
      const a = Math.floor((px * count) / w);
      const b = Math.max(a + 1, Math.floor(((px + 1) * count) / w));
      tally.clear();
      let worst = null;
      for (let i = a; i < b && i < count; i++) {
        const s = states[i] || 'pending';
        if (s === 'error') worst = 'error';
        tally.set(s, (tally.get(s) || 0) + 1);
      }
      let best = 'pending';
      let most = -1;
      for (const [s, c] of tally) if (c > most) { most = c; best = s; }
      ctx.fillStyle = colour[worst || best] || colour.pending;
      ctx.fillRect(px, 0, 1, hgt);
    }
  }

  // --- the lens -------------------------------------------------------------------
  function renderLens(focus = dragging && dragIdx >= 0 ? dragIdx : current) {
    if (!dense) return;
    const c = Math.max(0, focus);
    lensFrom = Math.min(Math.max(0, c - (LENS >> 1)), Math.max(0, count - LENS));
    for (let k = 0; k < LENS; k++) {
      const i = lensFrom + k;
      const el = lensCells[k];
      el.hidden = i >= count;
      el.dataset.idx = String(i);
      el.dataset.state = states[i] || 'pending';
      el.classList.toggle('current', i === current);
      el.classList.toggle('preview', dragging && i === dragIdx && i !== current);
    }
  }

  // --- tip ------------------------------------------------------------------------
  function showTip(idx, x) {
    if (idx < 0) { tip.hidden = true; return; }
    const heading = describe(idx);
    tip.textContent = `Block ${idx + 1} of ${count}${heading ? ` · ${heading}` : ''} · ${LABEL[states[idx]] || 'not prepared'}`;
    tip.hidden = false;
    const r = wrap.getBoundingClientRect();
    const w = tip.offsetWidth;
    tip.style.left = `${Math.min(Math.max(0, x - r.left - w / 2), Math.max(0, r.width - w))}px`;
  }

  function setPreview(idx) {
    if (!dense && dragIdx >= 0 && cells[dragIdx]) cells[dragIdx].classList.remove('preview');
    dragIdx = idx;
    ghost.hidden = idx < 0 || idx === current;
    if (idx >= 0) ghost.style.left = pct(idx);
    if (!dense && idx >= 0 && cells[idx]) cells[idx].classList.add('preview');
    renderLens();
  }

  // --- pointer: the overview --------------------------------------------------------
  bar.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    dragging = true;
    try { bar.setPointerCapture(e.pointerId); } catch { /* synthetic */ }
    const idx = idxAt(e.clientX, e.clientY);
    setPreview(idx);
    showTip(idx, e.clientX);
    e.preventDefault();
  });
  bar.addEventListener('pointermove', (e) => {
    const idx = idxAt(e.clientX, e.clientY);
    if (dragging && idx >= 0) setPreview(idx);
    showTip(dragging ? dragIdx : idx, e.clientX);
  });
  bar.addEventListener('pointerup', (e) => {
    if (!dragging) return;
    dragging = false;
    const idx = idxAt(e.clientX, e.clientY);
    const target = idx >= 0 ? idx : dragIdx;
    setPreview(-1);
    tip.hidden = true;
    if (target >= 0) onSeek(target);
  });
  bar.addEventListener('pointercancel', () => { dragging = false; setPreview(-1); });
  bar.addEventListener('pointerleave', () => { if (!dragging) tip.hidden = true; });
  bar.addEventListener('keydown', (e) => {
    if (e.key === 'Home') { onSeek(0); e.preventDefault(); }
    if (e.key === 'End') { onSeek(count - 1); e.preventDefault(); }
  });

  // --- pointer: the lens ------------------------------------------------------------
  lens.addEventListener('click', (e) => {
    const idx = lensIdxAt(e.clientX, e.clientY);
    if (idx >= 0) onSeek(idx);
  });
  lens.addEventListener('pointermove', (e) => showTip(lensIdxAt(e.clientX, e.clientY), e.clientX));
  lens.addEventListener('pointerleave', () => { if (!dragging) tip.hidden = true; });

  const ro = typeof ResizeObserver === 'function' ? new ResizeObserver(layout) : null;
  ro?.observe(bar);
  requestAnimationFrame(layout);

  return {
    el: wrap,
    update(s) {
      const next = s.blockStates;
      if (next !== states) {
        for (let i = 0; i < count; i++) {
          if (next[i] !== states[i]) cells[i].dataset.state = next[i] || 'pending';
        }
        states = next;
        schedulePaint();
        if (dense) renderLens();
      }
      if (s.cursor !== current) {
        if (cells[current]) cells[current].removeAttribute('aria-current');
        current = s.cursor;
        if (cells[current]) cells[current].setAttribute('aria-current', 'true');
        marker.style.left = pct(current);
        bar.setAttribute('aria-valuenow', String(current + 1));
        const heading = describe(current);
        bar.setAttribute('aria-valuetext', `Block ${current + 1} of ${count}${heading ? `, ${heading}` : ''}`);
        if (dense) renderLens();
      }
    },
    destroy() { ro?.disconnect(); },
  };
}
