// Keys from the identity provider in a real Envoy: one shared fetch for all workers, rotation
// through an unknown-kid refetch and the periodic refresh, an IdP that is down at start, and
// garbage or oversize documents that must never replace good keys.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  envoyConfig, makeKey, metrics, mint, nowSeconds, request, startEchoUpstream, startEnvoy, startJwksServer,
  stopAll, until,
} from './lib/harness.mjs';

const ISSUER = 'https://idp.test';
const CACHE_SECONDS = 2;

const policy = (remote = {}) => ({
  providers: {
    idp: {
      issuer: ISSUER,
      audiences: ['api'],
      remote_jwks: {
        cluster: 'idp', uri: 'http://idp.test/jwks', cache_duration_seconds: CACHE_SECONDS, timeout_ms: 1000,
        refetch_cooldown_seconds: 1, ...remote,
      },
    },
  },
  rules: [{ match: { prefix: '/' }, requires: { provider_name: 'idp' } }],
});

const token = (key) => mint(key, { iss: ISSUER, aud: 'api', sub: 'b', iat: nowSeconds() - 5, exp: nowSeconds() + 300 });
const call = (envoy, key) => request(envoy, '/x', { headers: { authorization: `Bearer ${token(key)}` } });
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

describe('remote JWKS', () => {
  const k1 = makeKey('k1');
  let upstream, jwks, envoy;

  before(async () => {
    upstream = await startEchoUpstream();
    jwks = await startJwksServer([k1]);
    envoy = await startEnvoy(envoyConfig({ upstreamPort: upstream.port, jwksPort: jwks.port, policy: policy() }),
      { concurrency: 2 });
    await until(async () => (await call(envoy, k1)).status === 200, { what: 'first fetch' });
  });
  after(() => stopAll([upstream, jwks, envoy]));

  test('one fetch per cache period serves every worker', async () => {
    const start = jwks.state.requests;
    const startMetrics = await metrics(envoy);
    // Fetches start every 2 s (+ up to one 500 ms tick): a 5.5 s window holds 2 or 3 of them.
    await sleep(5500);
    const fetches = jwks.state.requests - start;
    // Three root contexts tick (2 workers + main thread); without the shared schedule each would fetch.
    assert.ok(fetches >= 2 && fetches <= 3, `${fetches} fetches in 5.5 s`);
    const ok = (await metrics(envoy)).edgeward_jwks_fetch_ok - startMetrics.edgeward_jwks_fetch_ok;
    assert.equal(ok, fetches);
  });

  for (const mode of ['garbage', 'oversize', 'huge', 'error', 'down']) {
    test(`a JWKS server answering "${mode}" never replaces good keys`, async () => {
      const failed = (await metrics(envoy)).edgeward_jwks_fetch_failed ?? 0;
      jwks.state.mode = mode;
      try {
        await until(async () => ((await metrics(envoy)).edgeward_jwks_fetch_failed ?? 0) > failed,
          { what: `a failed fetch (${mode})` });
        const res = await call(envoy, k1);
        assert.equal(res.status, 200, 'last good keys still used');
        assert.equal((await metrics(envoy)).edgeward_jwks_keys_loaded, 1);
      } finally {
        jwks.state.mode = 'ok';
      }
    });
  }
});

describe('key rotation (long cache duration: only the unknown-kid refetch can bring new keys)', () => {
  const [k1, k2, k3] = [makeKey('k1'), makeKey('k2'), makeKey('k3')];
  let upstream, jwks, envoy;

  before(async () => {
    upstream = await startEchoUpstream();
    jwks = await startJwksServer([k1]);
    envoy = await startEnvoy(envoyConfig({ upstreamPort: upstream.port, jwksPort: jwks.port, policy: policy({ cache_duration_seconds: 3600 }) }));
    await until(async () => (await call(envoy, k1)).status === 200, { what: 'first fetch' });
  });
  after(() => stopAll([upstream, jwks, envoy]));

  test('a new kid is accepted after one early refetch; a removed key is refused after the next', async () => {
    const fetchesBefore = jwks.state.requests;
    jwks.state.keys = [k1, k2];
    const first = await call(envoy, k2);
    if (first.status !== 200) assert.equal(first.json.code, 'ERR_JWKS_NO_MATCHING_KEY');
    await until(async () => (await call(envoy, k2)).status === 200, { what: 'k2 accepted' });
    assert.equal((await call(envoy, k1)).status, 200, 'old key still valid while published');
    // Many unknown-kid tokens within the cooldown cause no more than one fetch.
    for (let i = 0; i < 20; i += 1) await call(envoy, makeKey(`unknown-${i}`));
    assert.ok(jwks.state.requests - fetchesBefore <= 2, `${jwks.state.requests - fetchesBefore} fetches`);

    // The IdP drops k1 and adds k3: the first k3 token (after the 1 s cooldown) refetches.
    jwks.state.keys = [k2, k3];
    await until(async () => (await call(envoy, k3)).status === 200, { what: 'k3 accepted' });
    // The worker that served k3 reloaded at once; the other reloads at its next tick (500 ms).
    await until(async () => {
      const old = await call(envoy, k1);
      return old.status === 401 && old.json.code === 'ERR_JWKS_NO_MATCHING_KEY';
    }, { what: 'k1 refused on every worker', timeoutMs: 3000 });
    await sleep(700); // a tick later every worker has the new keys
    for (let i = 0; i < 6; i += 1) assert.equal((await call(envoy, k1)).status, 401, 'k1 stays refused');
    assert.equal((await call(envoy, k2)).status, 200);
  });
});

describe('JWKS server down at start', () => {
  const k1 = makeKey('k1');
  let upstream, jwks, envoy;

  before(async () => {
    upstream = await startEchoUpstream();
    jwks = await startJwksServer([k1]);
    jwks.state.mode = 'down';
    envoy = await startEnvoy(envoyConfig({ upstreamPort: upstream.port, jwksPort: jwks.port, policy: policy({ cache_duration_seconds: 60 }) }));
  });
  after(() => stopAll([upstream, jwks, envoy]));

  test('503 ERR_JWKS_UNAVAILABLE with retry-after, then recovery once the IdP answers', async () => {
    await until(async () => ((await metrics(envoy)).edgeward_jwks_fetch_failed ?? 0) >= 1, { what: 'a failed fetch' });
    const res = await call(envoy, k1);
    assert.equal(res.status, 503);
    assert.deepEqual(res.json, { error: 'temporarily_unavailable', code: 'ERR_JWKS_UNAVAILABLE' });
    assert.match(res.headers.get('retry-after') ?? '', /^\d+$/);

    jwks.state.mode = 'ok';
    // Backoff starts at 1 s and doubles: recovery within a few seconds.
    await until(async () => (await call(envoy, k1)).status === 200, { what: 'recovery', timeoutMs: 20000 });
  });
});
