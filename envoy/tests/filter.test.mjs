// The request path in a real Envoy: one Envoy (2 workers) with the filter, keys fetched from a
// loopback JWKS server through the `idp` cluster, and an upstream that echoes what it received.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  envoyConfig, makeKey, metrics, mint, mintNone, nowSeconds, request, startEchoUpstream, startEnvoy,
  startJwksServer, stopAll, until,
} from './lib/harness.mjs';

const ISSUER = 'https://idp.test';
const AUDIENCE = 'orders-api';

export const POLICY = {
  providers: {
    idp: {
      issuer: ISSUER,
      audiences: [AUDIENCE],
      remote_jwks: { cluster: 'idp', uri: 'http://idp.test/.well-known/jwks.json', cache_duration_seconds: 2, timeout_ms: 1000, refetch_cooldown_seconds: 1 },
      claim_to_headers: [{ claim_name: 'sub', header_name: 'x-bot-id' }],
    },
  },
  rules: [
    { match: { prefix: '/healthz' } },
    { match: { prefix: '/orders', methods: ['GET'] }, requires: { provider_name: 'idp', scopes: ['read:orders'] } },
    { match: { prefix: '/orders' }, requires: { provider_name: 'idp', scopes: ['write:orders'] } },
  ],
  deny_wildcard_scopes: true,
};

const claims = (extra = {}) => ({
  iss: ISSUER, aud: AUDIENCE, sub: 'bot-7', iat: nowSeconds(), exp: nowSeconds() + 300, scope: 'read:orders', ...extra,
});
const bearer = (token) => ({ authorization: `Bearer ${token}` });

describe('edgeward filter in Envoy', () => {
  const k1 = makeKey('k1');
  let upstream, jwks, envoy;

  before(async () => {
    upstream = await startEchoUpstream();
    jwks = await startJwksServer([k1]);
    envoy = await startEnvoy(envoyConfig({ upstreamPort: upstream.port, jwksPort: jwks.port, policy: POLICY }));
    // Keys arrive with the first fetch; wait until a valid token gets through.
    await until(async () => (await request(envoy, '/orders', { headers: bearer(mint(k1, claims())) })).status === 200,
      { what: 'first JWKS fetch' });
  });
  after(() => stopAll([upstream, jwks, envoy]));

  test('a valid token reaches the upstream with its claim headers and without the token', async () => {
    const token = mint(k1, claims({ sub: 'bot-42' }));
    const res = await request(envoy, '/orders/17?expand=1', { headers: bearer(token) });
    assert.equal(res.status, 200);
    assert.equal(res.json.url, '/orders/17?expand=1');
    assert.equal(res.json.headers['x-bot-id'], 'bot-42');
    assert.equal(res.json.headers.authorization, undefined, 'token header removed (forward: false)');
  });

  test('the Bearer scheme is case-insensitive', async () => {
    const res = await request(envoy, '/orders', { headers: { authorization: `bEaReR ${mint(k1, claims())}` } });
    assert.equal(res.status, 200);
  });

  test('a spoofed claim header is replaced by the verified claim', async () => {
    const res = await request(envoy, '/orders', { headers: { ...bearer(mint(k1, claims())), 'x-bot-id': 'admin' } });
    assert.equal(res.status, 200);
    assert.equal(res.json.headers['x-bot-id'], 'bot-7');
  });

  test('no token: 401 with a bare Bearer challenge', async () => {
    const res = await request(envoy, '/orders');
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="edgeward"');
    assert.deepEqual(res.json, { error: 'unauthorized', code: 'ERR_JWT_MISSING' });
    assert.equal(res.headers.get('content-type'), 'application/json');
  });

  const refusals = [
    ['expired', () => mint(k1, claims({ iat: nowSeconds() - 600, exp: nowSeconds() - 120 })), 'ERR_JWT_EXPIRED'],
    ['tampered', () => {
      const [h, , s] = mint(k1, claims()).split('.');
      const forged = Buffer.from(JSON.stringify(claims({ scope: 'read:orders write:orders' }))).toString('base64url');
      return `${h}.${forged}.${s}`;
    }, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
    ['wrong audience', () => mint(k1, claims({ aud: 'billing-api' })), 'ERR_JWT_CLAIM_VALIDATION_FAILED'],
    ['wrong issuer', () => mint(k1, claims({ iss: 'https://evil.test' })), 'ERR_JWT_CLAIM_VALIDATION_FAILED'],
    ['alg none', () => mintNone(claims()), 'ERR_JOSE_ALG_NOT_ALLOWED'],
    ['not a JWS', () => 'abc.def', 'ERR_JWT_INVALID'],
    ['wildcard scope', () => mint(k1, claims({ scope: 'read:orders orders:*' })), 'ERR_SCOPE_WILDCARD'],
  ];
  for (const [name, make, code] of refusals) {
    test(`${name}: 401 invalid_token ${code}`, async () => {
      const token = make();
      const res = await request(envoy, '/orders', { headers: bearer(token) });
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="edgeward", error="invalid_token"');
      assert.deepEqual(res.json, { error: 'invalid_token', code });
      assert.ok(!res.text.includes(token.split('.')[1] ?? token), 'the token is not echoed');
    });
  }

  test('missing scope: 403 insufficient_scope naming the needed scope', async () => {
    const res = await request(envoy, '/orders', { method: 'POST', headers: bearer(mint(k1, claims())) });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('www-authenticate'),
      'Bearer realm="edgeward", error="insufficient_scope", scope="write:orders"');
    assert.deepEqual(res.json, { error: 'insufficient_scope', code: 'ERR_SCOPE_INSUFFICIENT' });
    const ok = await request(envoy, '/orders', { method: 'POST', headers: bearer(mint(k1, claims({ scope: 'write:orders' }))) });
    assert.equal(ok.status, 200);
  });

  test('a public route is open, matched without its query, and still drops claim headers', async () => {
    const res = await request(envoy, '/healthz?probe=1', { headers: { 'x-bot-id': 'admin' } });
    assert.equal(res.status, 200);
    assert.equal(res.json.headers['x-bot-id'], undefined);
  });

  test('an unmatched route is denied without a challenge', async () => {
    const res = await request(envoy, '/admin', { headers: bearer(mint(k1, claims())) });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('www-authenticate'), null);
    assert.deepEqual(res.json, { error: 'forbidden', code: 'ERR_ROUTE_DENIED' });
  });

  test('counters move', async () => {
    await new Promise((ok) => setTimeout(ok, 600)); // earlier requests' counts are flushed by now
    const before = await metrics(envoy);
    const token = mint(k1, claims({ sub: 'counter-bot' }));
    await request(envoy, '/orders', { headers: bearer(token) });
    await request(envoy, '/orders', { headers: bearer(token) });
    await request(envoy, '/orders', { headers: bearer(token) });
    await request(envoy, '/orders');
    await request(envoy, '/healthz');
    // Request counters reach the host's metrics at each worker's next tick (500 ms).
    let after;
    const delta = (name) => (after[name] ?? 0) - (before[name] ?? 0);
    await until(async () => {
      after = await metrics(envoy);
      return delta('edgeward_requests_allowed') >= 4 && delta('edgeward_requests_denied') >= 1
        && delta('edgeward_cache_hits') + delta('edgeward_cache_misses') >= 3;
    }, { what: 'counters to be flushed', timeoutMs: 5000 });
    await new Promise((ok) => setTimeout(ok, 600)); // nothing more may arrive
    after = await metrics(envoy);
    assert.equal(delta('edgeward_requests_allowed'), 4);
    assert.equal(delta('edgeward_requests_public'), 1);
    assert.equal(delta('edgeward_requests_denied'), 1);
    assert.equal(delta('edgeward_denied_jwt_missing'), 1);
    // Two workers: the first request on each verifies, later ones may hit that worker's cache.
    assert.equal(delta('edgeward_cache_hits') + delta('edgeward_cache_misses'), 3);
    assert.ok(delta('edgeward_cache_misses') >= 1 && delta('edgeward_cache_misses') <= 2);
    assert.ok(after.edgeward_jwks_fetch_ok >= 1);
    assert.equal(after.edgeward_jwks_keys_loaded, 1);
    const prometheus = await (await fetch(`${envoy.adminUrl}/stats/prometheus`)).text();
    const allowed = prometheus.match(/^edgeward_requests_allowed\{\} (\d+)$/m);
    assert.ok(allowed, 'edgeward_requests_allowed in /stats/prometheus');
    assert.equal(Number(allowed[1]), after.edgeward_requests_allowed);
  });
});
