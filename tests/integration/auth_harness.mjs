// Helpers for the accounts tests (SPEC section 7): users made with the real `recite user`
// command on the server's data directory, and HTTP/WS clients that carry a credential.
import assert from 'node:assert/strict';
import { BIN, run } from './harness.mjs';

/** `recite user add NAME`: returns the token it printed once. */
export async function addUser(dataDir, name) {
  const r = await run(BIN, ['user', 'add', name, '--data', dataDir]);
  assert.equal(r.code, 0, r.stderr);
  const token = r.stdout.trim();
  assert.match(token, /^rct_[0-9a-f]{64}$/);
  return token;
}

export async function userCmd(dataDir, ...args) {
  return run(BIN, ['user', ...args, '--data', dataDir]);
}

export async function newGuest(s) {
  const r = await s.post('/v1/users/anonymous');
  assert.equal(r.status, 201, r.text);
  assert.match(r.json.anonymous_id, /^[0-9a-f-]{36}$/);
  assert.match(r.json.anonymous_token, /^[0-9a-f]{64}$/);
  return r.json;
}

/** A client for one identity: { token } for a user, { anonymous_id, anonymous_token } for a
 *  guest, {} for nobody. HTTP carries `Authorization: Bearer`, the WebSocket the query. */
export function as(s, h, who) {
  const bearer = who.token ? who.token
    : who.anonymous_id ? `${who.anonymous_id}:${who.anonymous_token}` : null;
  const query = who.token ? `?token=${encodeURIComponent(who.token)}`
    : who.anonymous_id ? `?anonymous_id=${who.anonymous_id}&anonymous_token=${who.anonymous_token}` : '';
  const headers = bearer ? { authorization: `Bearer ${bearer}` } : {};
  const http = (method, path, o = {}) => s.http(method, path, { ...o, headers: { ...headers, ...(o.headers || {}) } });
  return {
    http,
    get: (path, o) => http('GET', path, o),
    post: (path, o) => http('POST', path, o),
    async createDoc(content, format = 'markdown') {
      const r = await http('POST', '/v1/documents', { json: { content, format } });
      assert.equal(r.status, 201, r.text);
      return r.json;
    },
    async me() {
      const r = await http('GET', '/v1/me');
      assert.equal(r.status, 200, r.text);
      return r.json;
    },
    ws: () => h.ws(s, `/v1/ws/tts${query}`),
    wsPath: `/v1/ws/tts${query}`,
  };
}

/** The HTTP status of a refused WebSocket upgrade (or 101 if it opened). */
export async function upgradeStatus(s, path) {
  try {
    const c = await s.ws(path);
    c.close();
    return 101;
  } catch (e) {
    if (e.statusCode) return e.statusCode;
    throw e;
  }
}
