// A real identity provider (oidc-provider, js/test/lib/idp.mjs) behind createRemoteJwks with
// `remote_jwks.discovery: true`: its own discovery document gives the jwks_uri, and the RS256
// RFC 9068 access tokens it issues by client_credentials go through the middleware of a Node
// service. The callers are bots built on openid-client (js/test/lib/bot.mjs) that refresh their
// token before it expires: allowed with the scopes, 403 under-scoped, 401 expired, 401 for another
// audience — also while the IdP rotates its signing key under a bounded traffic loop.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Verifier, middleware, createRemoteJwks } from '../index.mjs';
import { startIdp, CLIENT_ID, RESOURCE, OTHER_RESOURCE, TOKEN_TTL_SECONDS } from './lib/idp.mjs';
import { createBot, expectExpiredThenRefreshed, expectRefreshBeforeExpiry, judgeRotation, peek, refreshedBeforeExpiry, rotateKeysUnderTraffic } from './lib/bot.mjs';

// The test policy's remote_jwks schedule: short, so that a rotation is seen within seconds.
const CACHE_SECONDS = 3;
const COOLDOWN_SECONDS = 1;
const TIMEOUT_MS = 1000;
const SKEW_SECONDS = 1;

describe('oidc-provider through discovery', () => {
  let idp;
  let verifier;
  let remote;
  let server;
  let base;

  before(async () => {
    idp = await startIdp();
    verifier = new Verifier({
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
            cache_duration_seconds: CACHE_SECONDS,
            refetch_cooldown_seconds: COOLDOWN_SECONDS,
            timeout_ms: TIMEOUT_MS,
          },
        },
      },
      rules: [
        { match: { prefix: '/orders', methods: ['GET'] }, requires: { provider_name: 'idp', scopes: ['read:orders'] } },
        { match: { prefix: '/orders' }, requires: { provider_name: 'idp', scopes: ['write:orders'] } },
      ],
    });
    remote = createRemoteJwks(verifier, 'idp');
    const guard = middleware(verifier);
    server = http.createServer((req, res) =>
      guard(req, res, () => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ client_id: req.auth?.claims.client_id, scopes: req.auth?.scopes }));
      }),
    );
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${server.address().port}`;
  });

  after(async () => {
    remote?.close();
    server?.closeAllConnections?.();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
    await idp?.stop();
  });

  test('the keys come from the jwks_uri of its real discovery document', async () => {
    assert.equal(await remote.ready, 1);
    assert.equal(remote.discoveryUri, `${idp.issuer}/.well-known/openid-configuration`);
    const document = await (await fetch(remote.discoveryUri)).json();
    assert.equal(remote.uri, document.jwks_uri);
    assert.equal(verifier.keyCount('idp'), 1);
  });

  test('it issues RFC 9068 JWT access tokens, RS256 with a 2048-bit key; iat is now, exp = iat + ttl.ClientCredentials', async () => {
    const before = Math.floor(Date.now() / 1000);
    const token = await idp.token();
    const after = Math.ceil(Date.now() / 1000);
    const { header, claims } = peek(token);
    assert.equal(header.alg, 'RS256');
    assert.equal(header.typ, 'at+jwt');
    assert.equal(claims.client_id, CLIENT_ID);
    assert.equal(claims.sub, CLIENT_ID);
    assert.equal(claims.aud, RESOURCE);
    assert.equal(claims.iss, idp.issuer);
    assert.ok(claims.iat >= before && claims.iat <= after, `iat ${claims.iat} is the issuing second`);
    assert.equal(claims.exp - claims.iat, TOKEN_TTL_SECONDS, 'exp = iat + ttl.ClientCredentials');
    assert.equal(claims.nbf, undefined, 'no nbf');
    assert.equal(typeof claims.jti, 'string');
    const { keys } = await (await fetch(remote.uri)).json();
    assert.equal(Buffer.from(keys.find((k) => k.kid === header.kid).n, 'base64url').length * 8, 2048);
    const verified = await remote.verify(token, { scopes: ['read:orders'] });
    assert.deepEqual(verified.scopes, ['read:orders', 'write:orders']);
  });

  test('a bot (openid-client, client_credentials) with the scopes is allowed through the middleware', async () => {
    const reader = await createBot({ issuer: idp.issuer, scope: 'read:orders' });
    const res = await reader.call(`${base}/orders/7`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { client_id: CLIENT_ID, scopes: ['read:orders'] });
    assert.equal(reader.current.lifetimeMs, TOKEN_TTL_SECONDS * 1000, 'expires_in is the TTL');
    const writer = await createBot({ issuer: idp.issuer, scope: 'read:orders write:orders' });
    assert.equal((await writer.call(`${base}/orders`, { method: 'POST' })).status, 200);
    assert.equal((await reader.call(`${base}/orders/8`)).token, res.token, 'a fresh token is reused, not refreshed');
    assert.equal(reader.history.length, 1);
  });

  test('an under-scoped bot is 403', async () => {
    const reader = await createBot({ issuer: idp.issuer, scope: 'read:orders' });
    const res = await reader.call(`${base}/orders`, { method: 'POST' });
    assert.equal(res.status, 403);
    assert.equal(res.code, 'ERR_SCOPE_INSUFFICIENT');
    assert.match(res.headers.get('www-authenticate') ?? '', /insufficient_scope/);
  });

  test('a bot with a token for another resource (audience) is 401', async () => {
    const foreign = await createBot({ issuer: idp.issuer, scope: 'read:orders', resource: OTHER_RESOURCE });
    const res = await foreign.call(`${base}/orders/7`);
    assert.equal(res.status, 401);
    assert.equal(res.code, 'ERR_JWT_CLAIM_VALIDATION_FAILED');
    const none = await fetch(`${base}/orders/7`);
    assert.equal(none.status, 401, 'and no token is 401');
  });

  test('a token kept past its exp (a 1 s TTL) is 401 ERR_JWT_EXPIRED; the bot refreshes instead of sending it', async () => {
    const bot = await createBot({ issuer: idp.issuer, scope: 'read:orders' });
    await expectExpiredThenRefreshed(assert, { idp, bot, call: (path, options) => bot.call(`${base}${path}`, options), path: '/orders/7', skewSeconds: SKEW_SECONDS, ttlSeconds: TOKEN_TTL_SECONDS });
  });

  test('a bot refreshes its 20 s token when less than 25 % is left, before exp: no call refused', async () => {
    const bot = await createBot({ issuer: idp.issuer, scope: 'read:orders', refreshMargin: 0.25 });
    await expectRefreshBeforeExpiry(assert, { bot, url: `${base}/orders/7`, ttlSeconds: TOKEN_TTL_SECONDS });
  });

  test('key rotation at the IdP under traffic: no wrong answer, no 5xx, refusals only in the unknown-kid window', async () => {
    // npm: an unknown kid makes the middleware refetch and retry — unless the last fetch STARTED
    // less than refetch_cooldown_seconds ago. The rotation switches to the new key 300 ms after a
    // fetch (the worst case), so new-kid tokens may be refused (401 ERR_JWKS_NO_MATCHING_KEY)
    // until the cooldown is over and a refetch has loaded the new key:
    // window ≤ cooldown (1 s) + one fetch (timeout_ms, 1 s) + 500 ms for a loaded machine.
    const windowMs = COOLDOWN_SECONDS * 1000 + TIMEOUT_MS + 500;
    const concurrency = 4;
    const paceMs = 50;
    const fetchesBefore = remote.fetches;
    const run = await rotateKeysUnderTraffic({
      idp,
      baseUrl: base,
      skewSeconds: SKEW_SECONDS,
      keysSettled: () => verifier.keyCount('idp') === 1 && remote.uri !== undefined && idp.state.published.length === 1,
      ttlSeconds: 5,
      concurrency,
      paceMs,
      maxRequests: 2000,
      maxMs: 20000,
    });
    const verdict = judgeRotation(run, { windowMs });
    console.log('# rotation (npm middleware):', JSON.stringify({ ...verdict, wrong: verdict.wrong.slice(0, 5), fetches: remote.fetches - fetchesBefore }));
    assert.equal(run.bounded, false, 'the rotation completed within the request and time bounds');
    assert.ok(run.timeline.settled, 'the verifier dropped the retired key');
    assert.deepEqual(verdict.wrong, [], 'every answer right');
    assert.equal(run.records.filter((r) => r.status >= 500 || r.status === 0).length, 0, 'no 5xx, no failed request');
    // At most every request sent in the window: `concurrency` workers, one request per paceMs each.
    assert.ok(verdict.tolerated <= Math.ceil((concurrency * windowMs) / paceMs), `${verdict.tolerated} refusals in the window`);
    // Both keys signed accepted calls; every bot refreshed, each time before expiry.
    const accepted = run.records.filter((r) => r.status === 200);
    assert.ok(accepted.some((r) => r.kid === run.oldKid) && accepted.some((r) => r.kid === run.newKid));
    assert.ok(run.records.some((r) => r.kind === 'expired'), 'the expired token was sent');
    for (const bot of run.bots) {
      assert.ok(refreshedBeforeExpiry(bot), `${bot.name} refreshed before expiry`);
    }
    assert.ok(run.bots.find((b) => b.name === 'read').history.length >= 3, 'the read bot refreshed during the run');
    assert.equal(remote.failures, 0);
    assert.equal(remote.lastError, undefined);
    assert.equal(verifier.keyCount('idp'), 1);
  });
});
