// progress.js — the blocky progress bar: one cell per block with data-block-idx and
// data-state, the current one aria-current="true". Hover shows the block number; click or
// drag seeks (on release). Only cells whose state changed are touched on each update.
import { h } from './dom.js';

const LABEL = {
  pending: 'not prepared', queued: 'queued', processing: 'synthesizing', cached: 'ready',
  error: 'failed', skipped: 'nothing to read',
};

export function createProgressBar({ count, onSeek }) {
  const bar = h('div', {
    class: 'progress', role: 'slider', tabindex: '0', 'aria-label': 'Reading position',
    'aria-valuemin': '1', 'aria-valuemax': String(Math.max(1, count)), 'aria-valuenow': '1',
  });
  const parts = new Array(count);
  for (let i = 0; i < count; i++) parts[i] = `<div class="cell" data-block-idx="${i}" data-state="pending"></div>`;
  bar.innerHTML = parts.join('');
  bar.classList.toggle('dense', count > 120);
  const cells = bar.children;
  const tip = h('div', { class: 'progress-tip', role: 'presentation', hidden: true });
  const wrap = h('div', { class: 'progress-wrap' }, bar, tip);

  let states = [];
  let current = -1;
  let dragging = false;
  let dragIdx = -1;

  function idxAt(x, y) {
    const el = document.elementFromPoint(x, y);
    const cell = el && el.closest ? el.closest('.cell[data-block-idx]') : null;
    if (cell && bar.contains(cell)) return Number(cell.dataset.blockIdx);
    const r = bar.getBoundingClientRect();
    if (y < r.top || y > r.bottom || !count) return -1;
    // between cells or in the gap: nearest by horizontal position in a single row
    if (bar.scrollHeight <= r.height + 2 && !bar.classList.contains('wrapped')) {
      return Math.min(count - 1, Math.max(0, Math.floor(((x - r.left) / r.width) * count)));
    }
    return -1;
  }

  function showTip(idx, x) {
    if (idx < 0) { tip.hidden = true; return; }
    tip.textContent = `Block ${idx + 1} of ${count} · ${LABEL[states[idx]] || 'not prepared'}`;
    tip.hidden = false;
    const r = wrap.getBoundingClientRect();
    const w = tip.offsetWidth;
    tip.style.left = `${Math.min(Math.max(0, x - r.left - w / 2), r.width - w)}px`;
  }

  function setPreview(idx) {
    if (dragIdx >= 0 && cells[dragIdx]) cells[dragIdx].classList.remove('preview');
    dragIdx = idx;
    if (idx >= 0 && cells[idx]) cells[idx].classList.add('preview');
  }

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
    if (target >= 0) onSeek(target);
  });
  bar.addEventListener('pointercancel', () => { dragging = false; setPreview(-1); });
  bar.addEventListener('pointerleave', () => { if (!dragging) tip.hidden = true; });
  bar.addEventListener('keydown', (e) => {
    if (e.key === 'Home') { onSeek(0); e.preventDefault(); }
    if (e.key === 'End') { onSeek(count - 1); e.preventDefault(); }
  });

  function keepCurrentRowVisible() {
    const cell = cells[current];
    if (!cell || bar.scrollHeight <= bar.clientHeight) return;
    const top = cell.offsetTop - bar.offsetTop;
    if (top < bar.scrollTop || top + cell.offsetHeight > bar.scrollTop + bar.clientHeight) {
      bar.scrollTop = Math.max(0, top - bar.clientHeight / 2);
    }
  }

  return {
    el: wrap,
    update(s) {
      const next = s.blockStates;
      if (next !== states) {
        for (let i = 0; i < count; i++) {
          if (next[i] !== states[i]) cells[i].dataset.state = next[i] || 'pending';
        }
        states = next;
      }
      if (s.cursor !== current) {
        if (cells[current]) cells[current].removeAttribute('aria-current');
        current = s.cursor;
        if (cells[current]) cells[current].setAttribute('aria-current', 'true');
        bar.setAttribute('aria-valuenow', String(current + 1));
        bar.setAttribute('aria-valuetext', `Block ${current + 1} of ${count}`);
        keepCurrentRowVisible();
      }
    },
  };
}
