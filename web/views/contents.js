// contents.js — the document's outline: a "Contents" button in the reader's header opens a
// panel listing the headings (indented by level); choosing one plays from that heading (the
// text scrolls there as the cursor moves). Also answers "which heading is block i under?"
// for the progress bar's hover. Built from the rendered article, so it works for every
// format whose headings carry a spoken block.
import { h } from './dom.js';

export function outline(article) {
  return [...article.querySelectorAll('h1, h2, h3, h4, h5, h6')]
    .map((hd) => {
      const el = hd.querySelector('[data-block-idx]');
      return el ? { level: Number(hd.tagName[1]), idx: Number(el.getAttribute('data-block-idx')), text: hd.textContent.trim() } : null;
    })
    .filter((x) => x && x.text);
}

export function createContents({ article, onChoose }) {
  const heads = outline(article);
  const starts = heads.map((x) => x.idx);
  const top = Math.min(...heads.map((x) => x.level));

  // The heading a block falls under (binary search over the heading starts), or ''.
  function headingFor(i) {
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] <= i) lo = mid + 1; else hi = mid;
    }
    return lo > 0 ? heads[lo - 1].text : '';
  }

  const list = h('ol', { class: 'contents-list' },
    ...heads.map((x) => h('li', { class: `lvl-${Math.min(6, x.level - top + 1)}` },
      h('button', { type: 'button', class: 'contents-entry', 'data-target-idx': String(x.idx), title: `Play from “${x.text}”` }, x.text))));
  const panel = h('nav', { class: 'contents', 'aria-label': 'Contents', hidden: true },
    h('div', { class: 'contents-head' }, h('h2', {}, 'Contents'),
      h('button', { type: 'button', class: 'icon-button contents-close', 'aria-label': 'Close contents', onclick: () => setOpen(false) }, '×')),
    list);
  const button = h('button', {
    type: 'button', class: 'button small ghost contents-toggle', 'aria-expanded': 'false', hidden: heads.length === 0,
    onclick: () => setOpen(panel.hidden),
  }, 'Contents');

  function setOpen(open) {
    panel.hidden = !open;
    button.setAttribute('aria-expanded', String(open));
    if (open) (list.querySelector('[aria-current="true"]') || list.querySelector('button'))?.focus();
  }
  list.addEventListener('click', (e) => {
    const b = e.target.closest('button[data-target-idx]');
    if (!b) return;
    setOpen(false);
    onChoose(Number(b.dataset.targetIdx));
  });
  panel.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { setOpen(false); button.focus(); e.stopPropagation(); }
  });

  let currentHead = -1;
  return {
    button,
    panel,
    headingFor,
    count: heads.length,
    update(cursor) {
      let k = -1;
      for (let j = 0; j < starts.length && starts[j] <= cursor; j++) k = j;
      if (k === currentHead) return;
      list.children[currentHead]?.firstChild.removeAttribute('aria-current');
      currentHead = k;
      list.children[k]?.firstChild.setAttribute('aria-current', 'true');
    },
  };
}
