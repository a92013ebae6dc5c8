// api.js — the HTTP API of section 3, as small async functions. Errors are ApiError with
// the server's {"error": "..."} message. An API token (multi-user mode) is read from
// localStorage "recite.token" and sent as a Bearer header / ?token= on the WebSocket.

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

function token() {
  try { return localStorage.getItem('recite.token') || ''; } catch { return ''; }
}

export function authHeaders() {
  const t = token();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

export function wsUrl() {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const t = token();
  return `${proto}//${location.host}/v1/ws/tts${t ? `?token=${encodeURIComponent(t)}` : ''}`;
}

async function request(method, path, { json, body, headers = {}, keepalive = false } = {}) {
  const init = { method, headers: { ...authHeaders(), ...headers }, keepalive };
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

export function createDocument({ content, format, title }) {
  const json = { content, format };
  if (title) json.title = title;
  return request('POST', '/v1/documents', { json });
}

export function uploadDocument(file, title) {
  const form = new FormData();
  form.append('file', file, file.name);
  if (title) form.append('title', title);
  return request('POST', '/v1/documents', { body: form });
}

export function savePosition(id, blockIdx, { keepalive = false } = {}) {
  return request('PATCH', `/v1/documents/${encodeURIComponent(id)}/position`,
    { json: { block_idx: blockIdx }, keepalive });
}

export function previewUrl(model, voice) {
  return `/v1/models/${encodeURIComponent(model)}/voices/${encodeURIComponent(voice)}/preview`;
}
