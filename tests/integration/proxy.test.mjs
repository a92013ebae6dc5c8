// Behind a reverse proxy (README, "Behind a reverse proxy"): per-address limits (guest
// creation, --guest-rate) count the client that X-Forwarded-For names only when the TCP peer
// is a --trusted-proxy; from anyone else the header is ignored, since any client can send it.
import assert from 'node:assert/strict';
import { itest } from './harness.mjs';

const guest = (s, xff) => s.post('/v1/users/anonymous', { headers: xff ? { 'x-forwarded-for': xff } : {} });

itest('X-Forwarded-For names the client only from a --trusted-proxy', async (t, h) => {
  const s = await h.start({ workers: 0, args: ['--auth', '--guest-rate', '1', '--trusted-proxy', '127.0.0.1'] });
  assert.equal((await guest(s, '203.0.113.7')).status, 201);
  assert.equal((await guest(s, '203.0.113.7')).status, 429, 'the same client again: over its rate');
  // another client behind the same proxy has its own budget; a forged first entry is not
  // believed: the proxy appends the address it saw, and that (last) one counts
  assert.equal((await guest(s, '198.51.100.9')).status, 201);
  assert.equal((await guest(s, '203.0.113.7, 198.51.100.10')).status, 201);
  assert.equal((await guest(s, '203.0.113.7, 198.51.100.10')).status, 429);

  const plain = await h.start({ workers: 0, args: ['--auth', '--guest-rate', '1'] });
  assert.equal((await guest(plain, '203.0.113.7')).status, 201);
  assert.equal((await guest(plain, '198.51.100.9')).status, 429, 'without --trusted-proxy the TCP peer counts');
});
