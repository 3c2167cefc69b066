import crypto from 'node:crypto';
import { AUDIENCE, ISSUER, keys } from './keys.mjs';
import { mintMany } from './mint.mjs';
import { Verifier } from '../index.mjs';
const k = keys('RS256');
const jwks = { keys: [k.jwk] };
const N = 20000;
const tokens = await mintMany(k, N * 3, 'c');
const v = new Verifier({ providers: { idp: { issuer: ISSUER, audiences: [AUDIENCE], algorithms: ['RS256'], local_jwks: jwks } }, rules: [{ match: { prefix: '/orders' }, requires: { provider_name: 'idp', scopes: ['read:orders'] } }] });
const pub = crypto.createPublicKey({ key: k.jwk, format: 'jwk' });
function time(label, fn, from) {
  const t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) fn(tokens[from + i]);
  const us = Number(process.hrtime.bigint() - t) / 1e3 / N;
  console.log(label.padEnd(30), us.toFixed(1), 'µs');
}
const raw = (t) => ['host', '127.0.0.1', 'authorization', `Bearer ${t}`, 'connection', 'keep-alive'];
for (let r = 0; r < 2; r++) {
  time('crypto.verify only', (t) => { const i = t.lastIndexOf('.'); crypto.verify('sha256', Buffer.from(t.slice(0, i)), pub, Buffer.from(t.slice(i + 1), 'base64url')); }, 0);
  time('verifier.verify', (t) => v.verify(t), N);
  time('authorize (rawHeaders)', (t) => v.authorize('GET', '/orders', raw(t), { connection: { scheme: 'http', authority: '127.0.0.1' } }), 2 * N);
  // reused
  time('authorize reused', () => v.authorize('GET', '/orders', raw(tokens[0]), { connection: { scheme: 'http', authority: '127.0.0.1' } }), 0);
}
