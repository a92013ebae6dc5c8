// export-panel.js — "Export audio" on the reading page: choose a format, the export runs on
// the server in the voice the picker has (blocks already heard are reused), progress shows
// blocks done / total and the time left, and the file is offered when done. The job is
// the server's: on a reload the panel finds it again (GET .../export/status) and goes on.
import { h } from './dom.js';
import * as api from '../api.js';

const FORMATS = [['m4b', 'Audiobook (.m4b, chapters)'], ['mp3', 'MP3 (.mp3, chapters)'], ['ogg', 'Ogg Opus (.ogg, chapters)']];
const POLL_MS = 1000;

function timeLeft(s) {
  if (s === null || s === undefined) return '';
  if (s < 60) return ' · less than a minute left';
  return ` · about ${Math.round(s / 60)} min left`;
}

function length(ms) {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function createExportPanel({ docId, voice }) {
  let timer = null;
  let gone = false;
  const format = h('select', { class: 'export-format', 'aria-label': 'Export format' },
    ...FORMATS.map(([v, label]) => h('option', { value: v }, label)));
  const startBtn = h('button', { type: 'button', class: 'button', onclick: () => start() }, 'Export audio');
  const status = h('span', { class: 'export-status muted small', role: 'status', 'aria-live': 'polite' });
  const download = h('button', { type: 'button', class: 'button primary', hidden: true, onclick: () => save() }, 'Download');
  const el = h('div', { class: 'export-panel' }, format, startBtn, status, download);
  let current = null;

  function show(job) {
    current = job;
    clearTimeout(timer);
    download.hidden = !job || job.status !== 'done';
    startBtn.disabled = !!job && !['done', 'error'].includes(job.status);
    if (!job) { status.textContent = ''; return; }
    if (job.format) format.value = job.format;
    const n = `${job.blocks_done} / ${job.blocks_total} blocks`;
    status.textContent = {
      preparing: 'Preparing the export…',
      rendering: `Exporting: ${n}${timeLeft(job.eta_s)}`,
      assembling: `Writing the ${job.format} file (${n})…`,
      done: `Ready: ${job.format}, ${length(job.duration_ms || 0)}`,
      error: `The export failed: ${job.error}`,
    }[job.status] || job.status;
    if (['preparing', 'rendering', 'assembling'].includes(job.status)) timer = setTimeout(poll, POLL_MS);
  }
  async function poll() {
    if (gone || !current) return;
    try {
      const r = await fetch(current.status_url, { headers: api.authHeaders() });
      if (!gone && r.ok) show(await r.json());
      else if (!gone) timer = setTimeout(poll, POLL_MS * 3);
    } catch { if (!gone) timer = setTimeout(poll, POLL_MS * 3); }
  }
  async function start() {
    const { model, voice: v } = voice();
    startBtn.disabled = true;
    status.textContent = 'Starting the export…';
    try {
      show(await api.startExport(docId, { format: format.value, model, voice: v }));
    } catch (err) {
      startBtn.disabled = false;
      status.textContent = err.message;
    }
  }
  async function save() {
    try {
      const { blob, name } = await api.downloadExport(current.download_url);
      const a = h('a', { href: URL.createObjectURL(blob), download: name, hidden: true });
      document.body.append(a);
      a.click();
      setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 10_000);
    } catch (err) {
      status.textContent = err.message;
    }
  }
  api.exportStatus(docId).then((job) => { if (!gone && job) show(job); }, () => {});
  return { el, destroy() { gone = true; clearTimeout(timer); } };
}
