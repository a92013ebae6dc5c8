// help.js — the keyboard shortcuts overlay opened with "?".
import { h } from './dom.js';

export const SHORTCUTS = [
  [['Space'], 'Play / pause'],
  [['j', '→', '↓'], 'Next block'],
  [['k', '←', '↑'], 'Previous block'],
  [['+', '−'], 'Faster / slower'],
  [['m'], 'Mute / unmute'],
  [['?'], 'Show or hide this help'],
  [['Esc'], 'Close'],
];

let dialog = null;

function build() {
  const close = h('button', { class: 'button', type: 'button', onclick: () => dialog.close() }, 'Close');
  dialog = h('dialog', { class: 'help', 'aria-labelledby': 'help-title' },
    h('h2', { id: 'help-title' }, 'Keyboard shortcuts'),
    h('dl', {}, ...SHORTCUTS.flatMap(([keys, what]) => [
      h('dt', {}, ...keys.map((k) => h('kbd', {}, k))),
      h('dd', {}, what)])),
    h('p', { class: 'muted small' }, 'Click any sentence to read from there; click or drag along the bar to jump.'),
    h('div', { class: 'actions' }, close));
  dialog.addEventListener('click', (e) => { if (e.target === dialog) dialog.close(); });
  document.body.append(dialog);
}

export function toggleHelp() {
  if (!dialog) build();
  if (dialog.open) dialog.close();
  else dialog.showModal();
}

export function helpOpen() { return !!dialog && dialog.open; }
