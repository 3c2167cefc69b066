// The decision record through the middleware (docs/policy.md, "Decision record"): onDecision gets
// one record per decision, allowed and refused, the same fields the Envoy filter writes into its
// filter state (envoy/tests/filter-state.test.mjs); a granted req.auth carries it as `decision`.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Verifier, middleware } from '../index.mjs';
import { keyPair, mint, ISSUER, AUDIENCE } from './helpers.mjs';

const es = keyPair('ES256', 'k1');
const verifier = new Verifier({
  providers: { 'corp-idp': { issuer: ISSUER, audiences: [AUDIENCE], local_jwks: { keys: [es.jwk] } } },
  rules: [
    { name: 'orders-read', match: { prefix: '/orders' }, requires: { provider_name: 'corp-idp', scopes: ['read:orders'] } },
    { match: { prefix: '/healthz' } },
  ],
});
const records = [];
let seen;
const mw = middleware(verifier, { onDecision: (record, req) => records.push({ record, url: req.url }) });
const server = http.createServer((req, res) => mw(req, res, () => {
  seen = req.auth;
  res.end('ok');
}));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}`;
after(() => {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(resolve));
});
const now = () => Math.floor(Date.now() / 1000);
const token = (claims) => mint(es, { iss: ISSUER, aud: AUDIENCE, iat: now(), exp: now() + 300, ...claims });
const call = async (path, t) => (await fetch(base + path, { headers: t ? { authorization: `Bearer ${t}` } : {} })).status;
const last = () => records.at(-1);

test('an allowed request: who, holding what, by which rule', async () => {
  const t = token({ sub: 'bot-1', client_id: 'billing-bot', scope: 'read:orders' });
  assert.equal(await call('/orders/1', t), 200);
  const { iat, exp } = JSON.parse(Buffer.from(t.split('.')[1], 'base64url'));
  assert.deepEqual(last().record, { provider: 'corp-idp', iss: ISSUER, sub: 'bot-1', client_id: 'billing-bot', scopes: ['read:orders'], rule: 'orders-read', status: 200, required_scopes: ['read:orders'], iat, exp });
  assert.deepEqual(seen.decision, last().record);
  assert.ok(!JSON.stringify(records).includes(t.split('.')[2]), 'no token in a record');
});

test('refusals: the code and status, and who when the token verified', async () => {
  assert.equal(await call('/orders/2', token({ sub: 'bot-2', azp: 'audit-bot', scope: 'other' })), 403);
  const { iat, exp } = last().record;
  assert.deepEqual(last().record, { provider: 'corp-idp', iss: ISSUER, sub: 'bot-2', client_id: 'audit-bot', scopes: ['other'], rule: 'orders-read', code: 'ERR_SCOPE_INSUFFICIENT', status: 403, required_scopes: ['read:orders'], iat, exp });
  assert.ok(Number.isInteger(iat) && exp === iat + 300);
  assert.equal(await call('/orders/3'), 401);
  assert.deepEqual(last().record, { scopes: [], rule: 'orders-read', code: 'ERR_JWT_MISSING', status: 401, required_scopes: ['read:orders'] });
  assert.equal(await call('/elsewhere'), 403);
  assert.deepEqual(last().record, { scopes: [], code: 'ERR_ROUTE_DENIED', status: 403, required_scopes: [] });
  assert.equal(await call('/healthz'), 200);
  assert.deepEqual(last().record, { scopes: [], rule: '1', status: 200, required_scopes: [] }, 'an unnamed rule is its index');
});

test('onDecision must be a function', () => {
  assert.throws(() => middleware(verifier, { onDecision: 'log' }), /onDecision must be a function/);
});
