// A real identity provider (oidc-provider, js/test/lib/idp.mjs) in front of which a real Envoy runs
// the filter with `remote_jwks.discovery: true`: the filter reads the IdP's own discovery
// document through the `idp` cluster, fetches its jwks_uri, and the RS256 RFC 9068 access tokens
// the IdP issues by client_credentials reach the upstream bot. The callers are bots built on
// openid-client (js/test/lib/bot.mjs) that refresh their token before it expires: 200 with the
// scopes, 403 under-scoped, 401 expired, 401 for another audience — also while the IdP rotates
// its signing key under a bounded traffic loop.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { envoyConfig, metrics, startEchoUpstream, startEnvoy, stopAll, until } from './lib/harness.mjs';
// oidc-provider and openid-client are devDependencies of the npm package (js/node_modules).
import { startIdp, CLIENT_ID, RESOURCE, OTHER_RESOURCE, TOKEN_TTL_SECONDS } from '../../js/test/lib/idp.mjs';
import { createBot, expectExpiredThenRefreshed, expectRefreshBeforeExpiry, judgeRotation, refreshedBeforeExpiry, rotateKeysUnderTraffic } from '../../js/test/lib/bot.mjs';

// The test policy's remote_jwks schedule: short, so that a rotation is seen within seconds.
const CACHE_SECONDS = 3;
const COOLDOWN_SECONDS = 1;
const TIMEOUT_MS = 1000;
const SKEW_SECONDS = 1;
/** The filter's root contexts tick every 500 ms (docs/policy.md, Remote JWKS schedule). */
const TICK_MS = 500;

describe('Envoy with discovery in front of oidc-provider', () => {
  let idp, upstream, envoy, upstreamRequests = 0;

  before(async () => {
    idp = await startIdp();
    upstream = await startEchoUpstream({ onRequest: () => { upstreamRequests += 1; } });
    const policy = {
      providers: {
        idp: {
          issuer: idp.issuer,
          audiences: [RESOURCE],
          algorithms: ['RS256'],
          token_types: ['at+jwt'],
          required_claims: ['client_id'],
          clock_skew_seconds: SKEW_SECONDS,
          remote_jwks: {
            discovery: true,
            cluster: 'idp',
            cache_duration_seconds: CACHE_SECONDS,
            refetch_cooldown_seconds: COOLDOWN_SECONDS,
            timeout_ms: TIMEOUT_MS,
          },
          claim_to_headers: [{ claim_name: 'client_id', header_name: 'x-bot-id' }],
        },
      },
      rules: [
        { match: { prefix: '/orders', methods: ['GET'] }, requires: { provider_name: 'idp', scopes: ['read:orders'] } },
        { match: { prefix: '/orders' }, requires: { provider_name: 'idp', scopes: ['write:orders'] } },
      ],
    };
    envoy = await startEnvoy(envoyConfig({ upstreamPort: upstream.port, jwksPort: idp.port, policy }));
    await until(async () => ((await metrics(envoy)).edgeward_jwks_keys_loaded ?? 0) >= 1, { what: 'keys through discovery' });
  });
  after(() => stopAll([envoy, upstream, idp]));

  const url = (path) => `${envoy.url}${path}`;

  test('the IdP\'s discovery document and jwks_uri were fetched', () => {
    assert.ok(idp.state.configurationRequests >= 1);
    assert.ok(idp.state.jwksRequests >= 1);
  });

  test('a bot (openid-client, client_credentials) with the scope reaches the upstream bot (200)', async () => {
    const reader = await createBot({ issuer: idp.issuer, scope: 'read:orders' });
    const res = await reader.call(url('/orders/7'));
    assert.equal(res.status, 200);
    assert.equal(res.json.headers['x-bot-id'], CLIENT_ID);
    assert.equal(res.json.headers.authorization, undefined, 'the token is not forwarded');
    assert.equal(reader.current.exp - reader.current.iat, TOKEN_TTL_SECONDS);
    const writer = await createBot({ issuer: idp.issuer, scope: 'read:orders write:orders' });
    assert.equal((await writer.call(url('/orders'), { method: 'POST' })).status, 200);
  });

  test('an under-scoped bot is 403', async () => {
    const reader = await createBot({ issuer: idp.issuer, scope: 'read:orders' });
    const res = await reader.call(url('/orders'), { method: 'POST' });
    assert.equal(res.status, 403);
    assert.equal(res.code, 'ERR_SCOPE_INSUFFICIENT');
  });

  test('a bot with a token for another audience is 401', async () => {
    const foreign = await createBot({ issuer: idp.issuer, scope: 'read:orders', resource: OTHER_RESOURCE });
    const res = await foreign.call(url('/orders/7'));
    assert.equal(res.status, 401);
    assert.equal(res.code, 'ERR_JWT_CLAIM_VALIDATION_FAILED');
  });

  test('a token kept past its exp (a 1 s TTL) is 401 ERR_JWT_EXPIRED; the bot refreshes instead of sending it', async () => {
    const bot = await createBot({ issuer: idp.issuer, scope: 'read:orders' });
    await expectExpiredThenRefreshed(assert, { idp, bot, call: (path, options) => bot.call(url(path), options), path: '/orders/7', skewSeconds: SKEW_SECONDS, ttlSeconds: TOKEN_TTL_SECONDS });
  });

  test('a bot refreshes its 20 s token when less than 25 % is left, before exp: no call refused', async () => {
    const bot = await createBot({ issuer: idp.issuer, scope: 'read:orders', refreshMargin: 0.25 });
    await expectRefreshBeforeExpiry(assert, { bot, url: url('/orders/7'), ttlSeconds: TOKEN_TTL_SECONDS });
  });

  test('key rotation at the IdP under traffic: no wrong answer, no 5xx, refusals only in the unknown-kid window', async () => {
    // The filter refuses (401 ERR_JWKS_NO_MATCHING_KEY) the request that meets an unknown kid and
    // makes a fetch due; later requests see the new keys once it is done. The rotation switches to
    // the new key 300 ms after a fetch (the worst case), so the early fetch waits for the cooldown
    // (counted from the start of the last fetch), then for a tick of the worker, takes up to
    // timeout_ms, and the other worker loads the stored keys at its next tick:
    // window ≤ cooldown (1 s) + tick (500 ms) + fetch (timeout_ms, 1 s) + tick (500 ms) + 500 ms for a loaded machine.
    const windowMs = COOLDOWN_SECONDS * 1000 + TICK_MS + TIMEOUT_MS + TICK_MS + 500;
    const concurrency = 4;
    const paceMs = 50;
    const metricsBefore = await metrics(envoy);
    const upstreamBefore = upstreamRequests;
    let settled = false;
    const run = await rotateKeysUnderTraffic({
      idp,
      baseUrl: envoy.url,
      skewSeconds: SKEW_SECONDS,
      // One key loaded (the gauge) after the retirement; the scenario then runs one more second,
      // more than a tick, so every worker has loaded the stored keys.
      keysSettled: async () => {
        settled ||= idp.state.published.length === 1 && (await metrics(envoy)).edgeward_jwks_keys_loaded === 1;
        return settled;
      },
      ttlSeconds: 5,
      concurrency,
      paceMs,
      maxRequests: 2000,
      maxMs: 20000,
    });
    const verdict = judgeRotation(run, { windowMs });
    const after = await metrics(envoy);
    const fetches = (after.edgeward_jwks_fetch_ok ?? 0) - (metricsBefore.edgeward_jwks_fetch_ok ?? 0);
    console.log('# rotation (Envoy):', JSON.stringify({ ...verdict, wrong: verdict.wrong.slice(0, 5), fetches }));
    assert.equal(run.bounded, false, 'the rotation completed within the request and time bounds');
    assert.ok(run.timeline.settled, 'the filter dropped the retired key');
    assert.deepEqual(verdict.wrong, [], 'every answer right');
    assert.equal(run.records.filter((r) => r.status >= 500 || r.status === 0).length, 0, 'no 5xx, no failed request');
    // At most every request sent in the window: `concurrency` workers, one request per paceMs each.
    assert.ok(verdict.tolerated <= Math.ceil((concurrency * windowMs) / paceMs), `${verdict.tolerated} refusals in the window`);
    // Exactly the accepted requests reached the upstream bot.
    assert.equal(upstreamRequests - upstreamBefore, run.records.filter((r) => r.status === 200).length);
    const accepted = run.records.filter((r) => r.status === 200);
    assert.ok(accepted.some((r) => r.kid === run.oldKid) && accepted.some((r) => r.kid === run.newKid));
    assert.ok(run.records.some((r) => r.kind === 'expired'), 'the expired token was sent');
    for (const bot of run.bots) {
      assert.ok(refreshedBeforeExpiry(bot), `${bot.name} refreshed before expiry`);
    }
    assert.ok(run.bots.find((b) => b.name === 'read').history.length >= 3, 'the read bot refreshed during the run');
    assert.equal((after.edgeward_jwks_fetch_failed ?? 0) - (metricsBefore.edgeward_jwks_fetch_failed ?? 0), 0, 'no failed fetch');
    assert.equal(after.edgeward_jwks_keys_loaded, 1);
  });
});
