// api.js — the HTTP API of section 3, as small async functions. Errors are ApiError with
// the server's {"error": "..."} message. With `serve --auth` the page holds one credential
// in localStorage: "recite.token" (a user's API token) or "recite.guest" (a guest's
// {anonymous_id, anonymous_token}); it goes out as a Bearer header on HTTP and in the
// query of the WebSocket URL (SPEC section 7).

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

function read(key) {
  try { return localStorage.getItem(key) || ''; } catch { return ''; }
}

function guest() {
  try { return JSON.parse(read('recite.guest')) || null; } catch { return null; }
}

/** Keeps the credential the page signs in with: {token} or {anonymous_id, anonymous_token};
 *  null signs out. */
export function setCredential(cred) {
  try {
    localStorage.removeItem('recite.token');
    localStorage.removeItem('recite.guest');
    if (cred && cred.token) localStorage.setItem('recite.token', cred.token);
    else if (cred && cred.anonymous_id) {
      localStorage.setItem('recite.guest', JSON.stringify({
        anonymous_id: cred.anonymous_id, anonymous_token: cred.anonymous_token }));
    }
  } catch { /* private mode: the credential lasts as long as the page */ }
}

export function hasCredential() {
  return Boolean(read('recite.token') || guest());
}

export function authHeaders() {
  const t = read('recite.token');
  if (t) return { Authorization: `Bearer ${t}` };
  const g = guest();
  return g ? { Authorization: `Bearer ${g.anonymous_id}:${g.anonymous_token}` } : {};
}

export function wsUrl() {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const t = read('recite.token');
  const g = guest();
  const q = t ? `?token=${encodeURIComponent(t)}`
    : g ? `?anonymous_id=${encodeURIComponent(g.anonymous_id)}&anonymous_token=${encodeURIComponent(g.anonymous_token)}`
      : '';
  return `${proto}//${location.host}/v1/ws/tts${q}`;
}

async function request(method, path, { json, body, headers = {}, keepalive = false, signal } = {}) {
  const init = { method, headers: { ...authHeaders(), ...headers }, keepalive, ...(signal ? { signal } : {}) };
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers['Content-Type'] = 'application/json';
  } else if (body !== undefined) {
    init.body = body;
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError('Could not reach the server.', 0);
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  if (text) { try { data = JSON.parse(text); } catch { data = null; } }
  if (!res.ok) {
    let msg = data && data.error ? data.error : `${res.status} ${res.statusText}`.trim();
    if (res.status === 413) msg = 'That document is too large for this server.';
    throw new ApiError(msg, res.status);
  }
  return data;
}

export const listDocuments = () => request('GET', '/v1/documents');
export const getDocument = (id) => request('GET', `/v1/documents/${encodeURIComponent(id)}`);
export const deleteDocument = (id) => request('DELETE', `/v1/documents/${encodeURIComponent(id)}`);
export const listModels = () => request('GET', '/v1/models');
/** {user, guest, auth, quota_chars, used_chars, resets_at}; 401 (ApiError) when signed out. */
export const getMe = () => request('GET', '/v1/me');
export const createGuest = () => request('POST', '/v1/users/anonymous');

export function createDocument({ content, format, title }) {
  const json = { content, format };
  if (title) json.title = title;
  return request('POST', '/v1/documents', { json });
}

export function importUrl(url, title) {
  const json = { url };
  if (title) json.title = title;
  return request('POST', '/v1/documents', { json });
}

export function uploadDocument(file, title) {
  const form = new FormData();
  form.append('file', file, file.name);
  if (title) form.append('title', title);
  return request('POST', '/v1/documents', { body: form });
}

// Export audio (a server job): start or find, follow, download.
function exportQuery({ format, model, voice }) {
  return new URLSearchParams({ format, model, voice }).toString();
}
export function startExport(id, opts) {
  return request('GET', `/v1/documents/${encodeURIComponent(id)}/export?${exportQuery(opts)}`);
}
export async function exportStatus(id) {
  const job = await request('GET', `/v1/documents/${encodeURIComponent(id)}/export/status`);
  return job && job.status !== 'none' ? job : null;   // 'none': never exported
}
export async function downloadExport(url) {
  const res = await fetch(url, { headers: authHeaders() });
  if (!res.ok) throw new ApiError(`The download failed (${res.status}).`, res.status);
  const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') || '')?.[1] || 'recite-export';
  return { blob: await res.blob(), name };
}

export function savePosition(id, blockIdx, { keepalive = false } = {}) {
  return request('PATCH', `/v1/documents/${encodeURIComponent(id)}/position`,
    { json: { block_idx: blockIdx }, keepalive });
}

export function previewUrl(model, voice) {
  return `/v1/models/${encodeURIComponent(model)}/voices/${encodeURIComponent(voice)}/preview`;
}

// Browser synthesis (SPEC section 3): a block's audio made in this page, for the server to
// keep for this user. body: a Blob/ArrayBuffer of Ogg Opus or WAV.
// The word timings travel inside the body (tts-worker.js writes them into the Ogg's OpusTags
// or the WAV's "word" chunk), so the stored copy highlights words however long the block.
export function uploadAudio({ documentId, idx, model, voice, body, type, skipReferences, signal }) {
  const headers = { 'Content-Type': type, 'X-Document-Id': documentId, 'X-Block-Idx': String(idx),
    'X-Model': model, 'X-Voice': voice };
  // spoken with references blanked (the status's spoken_text): the server hashes the same text
  if (skipReferences) headers['X-Skip-References'] = 'true';
  return request('POST', '/v1/audio', { body, headers, signal });
}
