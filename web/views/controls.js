// controls.js — the sticky control bar: play/pause (accessible name exactly "Play",
// "Pause" or "Cancel"), previous/next, elapsed/total, a status line that says what is going
// on, speed, the sleep timer, mute/volume, the voice picker and help. Renders engine
// snapshots.
import { h, svg, ICONS, formatTime } from './dom.js';
import { SPEED_MIN, SPEED_MAX, SPEED_STEP, SLEEP_MINUTES } from '../engine.js';

const SPEEDS = [];
for (let s = SPEED_MIN; s <= SPEED_MAX + 1e-9; s += SPEED_STEP) SPEEDS.push(Math.round(s * 100) / 100);

const fmtSpeed = (s) => `${String(Math.round(s * 100) / 100)}×`;

export function createControls({ engine, voicePicker, progress, onHelp, onRetry }) {
  const playIcon = svg(ICONS.play, { size: 28 });
  const pauseIcon = svg(ICONS.pause, { size: 28 });
  const spinner = h('span', { class: 'spinner', 'aria-hidden': 'true' }, svg(ICONS.stop, { size: 16, cls: 'stop' }));
  const play = h('button', {
    class: 'play', type: 'button', 'aria-label': 'Play', title: 'Play (Space)',
    onclick: () => engine.toggle(),
  }, playIcon);
  const prev = h('button', { class: 'icon-button', type: 'button', 'aria-label': 'Previous block', title: 'Previous block (k)', onclick: () => engine.prev() }, svg(ICONS.prev, { size: 20 }));
  const next = h('button', { class: 'icon-button', type: 'button', 'aria-label': 'Next block', title: 'Next block (j)', onclick: () => engine.next() }, svg(ICONS.next, { size: 20 }));

  const elapsed = h('span', { class: 'elapsed' }, '0:00');
  const total = h('span', { class: 'total' }, '0:00');
  const time = h('div', { class: 'time', 'aria-label': 'Elapsed and total time' }, elapsed, h('span', { class: 'sep' }, ' / '), total);
  const status = h('div', { class: 'status', role: 'status', 'aria-live': 'polite' });

  const speed = h('select', { class: 'speed', 'aria-label': 'Speed', title: 'Speed (+ / −)', onchange: () => { engine.setSpeed(Number(speed.value)); speed.blur(); } },
    ...SPEEDS.map((s) => h('option', { value: String(s) }, fmtSpeed(s))));
  // Sleep timer: minutes or the end of the chapter; the time left shows beside it.
  const sleep = h('select', { class: 'sleep', 'aria-label': 'Sleep timer', title: 'Sleep timer: pause after a while or at the end of the chapter',
    onchange: () => { engine.setSleep(sleep.value === 'off' ? null : sleep.value === 'chapter' ? 'chapter' : Number(sleep.value)); sleep.blur(); } },
  h('option', { value: 'off' }, 'Sleep off'),
  ...SLEEP_MINUTES.map((m) => h('option', { value: String(m) }, `${m} min`)),
  h('option', { value: 'chapter' }, 'End of chapter'));
  const sleepIcon = h('span', { class: 'sleep-icon', 'aria-hidden': 'true' }, svg(ICONS.moon, { size: 16 }));
  const sleepLeft = h('span', { class: 'sleep-left', 'aria-label': 'Sleep timer: time left', hidden: true });
  let sleepTick = null;
  const muteIcon = svg(ICONS.volume, { size: 20 });
  const mutedIcon = svg(ICONS.muted, { size: 20 });
  const mute = h('button', { class: 'icon-button mute', type: 'button', 'aria-label': 'Mute', 'aria-pressed': 'false', title: 'Mute (m)', onclick: () => engine.toggleMute() }, muteIcon);
  const volume = h('input', { class: 'volume', type: 'range', min: '0', max: '1', step: '0.05', value: '1', 'aria-label': 'Volume', oninput: () => engine.setVolume(Number(volume.value)) });
  const help = h('button', { class: 'icon-button help-button', type: 'button', 'aria-label': 'Keyboard shortcuts', title: 'Keyboard shortcuts (?)', onclick: onHelp }, svg(ICONS.help, { size: 20 }));

  const bannerText = h('span', { class: 'banner-text' });
  const retry = h('button', { class: 'button small', type: 'button', onclick: () => onRetry() }, 'Retry');
  const dismiss = h('button', { class: 'button small ghost', type: 'button', 'aria-label': 'Dismiss', onclick: () => engine.dismissError() }, 'Dismiss');
  const banner = h('div', { class: 'banner error player-banner', role: 'alert', hidden: true }, bannerText, retry, dismiss);

  const el = h('div', { class: 'player', role: 'region', 'aria-label': 'Player' },
    banner,
    progress.el,
    h('div', { class: 'controls' },
      h('div', { class: 'transport' }, prev, play, next),
      h('div', { class: 'readout' }, time, status),
      h('div', { class: 'settings' }, speed, h('div', { class: 'sleep-group' }, sleepIcon, sleep, sleepLeft),
        h('div', { class: 'volume-group' }, mute, volume), voicePicker.el, help)));

  function showSleepLeft() {
    const s = engine.getSnapshot().sleep;
    const left = s && s.endsAt ? Math.max(0, s.endsAt - Date.now()) : null;
    sleepLeft.hidden = left === null;
    if (left !== null) sleepLeft.textContent = formatTime(left);
  }

  let last = {};
  function update(s) {
    if (s.playState !== last.playState) {
      const label = s.playState === 'playing' ? 'Pause' : s.playState === 'buffering' ? 'Cancel' : 'Play';
      play.setAttribute('aria-label', label);
      play.title = label === 'Cancel' ? 'Preparing audio — click to cancel' : `${label} (Space)`;
      play.dataset.state = s.playState;
      play.replaceChildren(s.playState === 'playing' ? pauseIcon : s.playState === 'buffering' ? spinner : playIcon);
    }
    const e = formatTime(s.elapsedMs);
    if (elapsed.textContent !== e) elapsed.textContent = e;
    const t = formatTime(s.totalMs);
    if (total.textContent !== t) total.textContent = t;
    prev.disabled = s.cursor <= 0;
    next.disabled = s.cursor >= s.blockCount - 1;
    play.disabled = s.blockCount === 0;

    let text = '';
    let cls = '';
    if (s.blockCount === 0) text = 'Nothing to read aloud in this document.';
    else if (s.connection.reconnecting) { text = s.connection.status === 'connecting' ? 'Connecting…' : 'Reconnecting…'; cls = 'warn'; }
    else if (s.playState === 'buffering') text = `Preparing audio… ${s.buffer.have}/${s.buffer.need}`;
    else if (s.finished) text = 'Finished';
    else if (s.playState === 'paused') text = 'Paused';
    text = text || `Block ${s.cursor + 1} of ${s.blockCount}`;
    if (status.textContent !== text) status.textContent = text;
    status.dataset.kind = cls;

    const err = s.error;
    if (err !== last.error) {
      banner.hidden = !err;
      if (err) {
        bannerText.textContent = err.message;
        retry.hidden = err.kind !== 'connection';
        dismiss.hidden = err.kind === 'connection';
        banner.dataset.kind = err.kind;
      }
    }
    if (s.sleep !== last.sleep || s.hasChapters !== last.hasChapters) {
      sleep.value = s.sleep ? String(s.sleep.mode) : 'off';
      sleep.querySelector('option[value="chapter"]').disabled = !s.hasChapters;
      sleep.dataset.active = String(!!s.sleep);
      clearInterval(sleepTick);
      sleepTick = s.sleep && s.sleep.endsAt ? setInterval(showSleepLeft, 1000) : null;
      showSleepLeft();
    }
    if (s.speed !== last.speed) speed.value = String(SPEEDS.includes(s.speed) ? s.speed : nearest(s.speed));
    if (s.muted !== last.muted) {
      mute.replaceChildren(s.muted ? mutedIcon : muteIcon);
      mute.setAttribute('aria-pressed', String(s.muted));
      mute.setAttribute('aria-label', s.muted ? 'Unmute' : 'Mute');
    }
    if (s.volume !== last.volume && document.activeElement !== volume) volume.value = String(s.volume);
    progress.update(s);
    last = s;
  }

  function nearest(x) {
    return SPEEDS.reduce((a, b) => (Math.abs(b - x) < Math.abs(a - x) ? b : a), 1);
  }

  return { el, update, playButton: play, destroy() { clearInterval(sleepTick); } };
}
