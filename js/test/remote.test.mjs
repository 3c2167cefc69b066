// createRemoteJwks against a real loopback HTTP server: first load, rotation, outage, garbage,
// cooldown, coalescing, timeouts and cache age.
import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Verifier, EdgewardError, createRemoteJwks } from '../index.mjs';
import { NOW, ISSUER, AUDIENCE, keyPair, mint, claims } from './helpers.mjs';

const k1 = keyPair('ES256', 'k1');
const k2 = keyPair('ES256', 'k2');
const k3 = keyPair('ES256', 'k3');

// The IdP: serves `state.body` with `state.status` after `state.delay` ms; `hang` never answers.
const state = { status: 200, body: '', delay: 0, hang: false, requests: 0 };
const sockets = new Set();
let server;
let uri;

function serve(keys) {
  state.status = 200;
  state.body = JSON.stringify({ keys: keys.map((k) => k.jwk) });
  state.delay = 0;
  state.hang = false;
}

before(async () => {
  server = http.createServer((req, res) => {
    state.requests += 1;
    if (state.hang) return; // the socket is destroyed in after()
    setTimeout(() => {
      res.writeHead(state.status, { 'content-type': 'application/json' });
      res.end(state.body);
    }, state.delay);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  uri = `http://127.0.0.1:${server.address().port}/jwks.json`;
});

after(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

function remoteVerifier() {
  return new Verifier({
    providers: { idp: { issuer: ISSUER, audiences: [AUDIENCE], remote_jwks: { uri: 'https://idp.invalid/jwks' } } },
  });
}

async function codeOfAsync(promise) {
  try {
    await promise;
  } catch (error) {
    return error.code ?? `not an EdgewardError: ${error}`;
  }
  return 'no error';
}

// Every remote started here stops its background retries at the end, so that one test's
// retries never reach the IdP of the next.
const started = [];
afterEach(() => {
  for (const remote of started.splice(0)) remote.close();
});

function start(options) {
  const verifier = remoteVerifier();
  const requestsBefore = state.requests;
  const remote = createRemoteJwks(verifier, 'idp', uri, options);
  started.push(remote);
  return { verifier, remote, requests: () => state.requests - requestsBefore };
}

describe('createRemoteJwks', () => {
  test('loads keys once; ready resolves; the sync verify uses them too', async () => {
    serve([k1]);
    const { verifier, remote, requests } = start({ cooldownDuration: 60_000 });
    await remote.ready;
    assert.equal(requests(), 1);
    assert.equal(verifier.keyCount('idp'), 1);
    const token = mint(k1, claims());
    assert.equal((await remote.verify(token, { now: NOW })).header.kid, 'k1');
    assert.equal(verifier.verify(token, { now: NOW }).claims.sub, 'bot-7');
    assert.equal(requests(), 1, 'a known key needs no fetch');
    assert.equal(remote.fresh, true);
  });

  test('rotation: an unknown kid refetches once, then verifies', async () => {
    serve([k1]);
    const { remote, requests } = start({ cooldownDuration: 0 });
    await remote.ready;
    serve([k1, k2]);
    assert.equal((await remote.verify(mint(k2, claims()), { now: NOW })).header.kid, 'k2');
    assert.equal(requests(), 2);
    // A kid the IdP does not have either: one refetch, then the refusal.
    assert.equal(await codeOfAsync(remote.verify(mint(k3, claims()), { now: NOW })), 'ERR_JWKS_NO_MATCHING_KEY');
    assert.equal(requests(), 3);
  });

  test('cooldown: unknown kids refetch at most once per cooldownDuration', async () => {
    serve([k1]);
    const { remote, requests } = start({ cooldownDuration: 1000 });
    await remote.ready;
    serve([k1, k2]);
    const token = mint(k2, claims());
    // Within the cooldown of the first load: no fetch, the refusal stands.
    assert.equal(await codeOfAsync(remote.verify(token, { now: NOW })), 'ERR_JWKS_NO_MATCHING_KEY');
    assert.equal(requests(), 1);
    await sleep(1100);
    assert.equal((await remote.verify(token, { now: NOW })).header.kid, 'k2');
    assert.equal(requests(), 2);
    // Another unknown kid right away: cooling down again.
    assert.equal(await codeOfAsync(remote.verify(mint(k3, claims()), { now: NOW })), 'ERR_JWKS_NO_MATCHING_KEY');
    assert.equal(requests(), 2);
  });

  test('concurrent verifications share one fetch', async () => {
    serve([k1]);
    const { remote, requests } = start({ cooldownDuration: 0 });
    await remote.ready;
    serve([k1, k2]);
    state.delay = 100;
    const token = mint(k2, claims());
    const results = await Promise.all(Array.from({ length: 25 }, () => remote.verify(token, { now: NOW })));
    assert.ok(results.every((r) => r.header.kid === 'k2'));
    assert.equal(requests(), 2);
    const [a, b] = [remote.reload(), remote.reload()];
    assert.equal(a, b, 'reload() joins the fetch under way');
    await a;
    assert.equal(requests(), 3);
  });

  test('outage: the last good keys stay; the failure is an ERR_JWKS_UNAVAILABLE', async () => {
    serve([k1]);
    const { remote, requests } = start({ cooldownDuration: 0, cacheMaxAge: 0 });
    await remote.ready;
    state.status = 503;
    state.body = 'down';
    const token = mint(k1, claims());
    // cacheMaxAge 0: every verify tries a refresh first; it fails and the keys stay.
    assert.equal((await remote.verify(token, { now: NOW })).header.kid, 'k1');
    assert.ok(requests() >= 2);
    await assert.rejects(remote.reload(), (error) => {
      assert.ok(error instanceof EdgewardError);
      assert.equal(error.code, 'ERR_JWKS_UNAVAILABLE');
      assert.match(error.message, /HTTP 503/);
      return true;
    });
    assert.equal(remote.lastError.code, 'ERR_JWKS_UNAVAILABLE');
    assert.equal((await remote.verify(token, { now: NOW })).header.kid, 'k1');
  });

  test('garbage: invalid JSON, a private key, an empty set — the last good keys stay', async () => {
    serve([k1]);
    const { verifier, remote } = start({ cooldownDuration: 0 });
    await remote.ready;
    const token = mint(k1, claims());
    const privateJwk = { ...k2.privateKey.export({ format: 'jwk' }), kid: 'k2' };
    for (const body of ['<html>', '{"keys": 1}', JSON.stringify({ keys: [privateJwk] }), '{"keys": []}']) {
      state.body = body;
      await assert.rejects(remote.reload(), (error) => error.code === 'ERR_JWKS_UNAVAILABLE' && error.cause?.code === 'ERR_JWKS_INVALID');
      assert.equal(verifier.keyCount('idp'), 1);
      assert.equal((await remote.verify(token, { now: NOW })).header.kid, 'k1');
    }
  });

  test('no keys yet and the IdP is down: ready rejects, retries back off in the background as the filter does', async () => {
    state.status = 500;
    state.body = '';
    state.hang = false;
    const { remote, requests } = start({ cooldownDuration: 0 });
    const token = mint(k1, claims());
    // ready rejects with the core's ERR_JWKS_UNAVAILABLE and the cause.
    const error = await remote.ready.then(() => 'resolved', (e) => e);
    assert.ok(error instanceof EdgewardError);
    assert.equal(error.code, 'ERR_JWKS_UNAVAILABLE');
    assert.match(error.message, /HTTP 500/);
    assert.ok(error.cause instanceof Error);
    assert.equal(error.denial.status, 503);
    assert.equal(remote.failures, 1);
    assert.ok(remote.retryIn > 800 && remote.retryIn <= 1000, `first retry after 1 s (${remote.retryIn})`);
    // Before the retry is due no request fetches (not even with cooldownDuration 0: the
    // cooldown only limits unknown-kid refetches).
    assert.equal(await codeOfAsync(remote.verify(token, { now: NOW })), 'ERR_JWKS_UNAVAILABLE');
    assert.equal(requests(), 1);
    // The background retry after 1 s fails again: the next waits 2 s.
    await sleep(1200);
    assert.equal(requests(), 2);
    assert.equal(remote.failures, 2);
    assert.ok(remote.retryIn > 1500 && remote.retryIn <= 2000, `second retry after 2 s (${remote.retryIn})`);
    // The IdP is back: the 2 s retry loads the keys without any request asking.
    serve([k1]);
    await sleep(2200);
    assert.equal(requests(), 3);
    assert.equal(remote.failures, 0);
    assert.equal(remote.retryIn, undefined);
    assert.equal((await remote.verify(token, { now: NOW })).header.kid, 'k1');
  });

  test('ready resolves with the key count; one unusable key is left out and reported', async () => {
    const bad = { ...k2.jwk, x: 'AAAA' };
    state.status = 200;
    state.body = JSON.stringify({ keys: [bad, k1.jwk] });
    const { remote, verifier } = start({});
    assert.equal(await remote.ready, 1);
    assert.deepEqual(remote.lastWarnings, ['keys[0].x: expected exactly 32 bytes']);
    assert.deepEqual(verifier.refusedKeys('idp'), ['keys[0].x: expected exactly 32 bytes']);
    assert.equal((await remote.verify(mint(k1, claims()), { now: NOW })).header.kid, 'k1');
  });

  test('defaults are the core\'s (as in the filter) when the policy has no remote_jwks', async () => {
    serve([k1]);
    const verifier = new Verifier({
      providers: { idp: { issuer: ISSUER, audiences: [AUDIENCE], local_jwks: { keys: [k1.jwk] } } },
    });
    const remote = createRemoteJwks(verifier, 'idp', uri);
    started.push(remote);
    await remote.ready;
    // Fresh for 300 s (the core's cache_duration_seconds), not jose's 10 minutes.
    assert.equal(remote.fresh, true);
  });

  test('timeoutDuration bounds a fetch that never answers', async () => {
    serve([k1]);
    state.hang = true;
    const started = performance.now();
    const { remote } = start({ timeoutDuration: 150 });
    await assert.rejects(remote.reload(), (error) => error.code === 'ERR_JWKS_UNAVAILABLE' && /timed out/.test(error.message));
    assert.ok(performance.now() - started < 2000);
    state.hang = false;
  });

  test('cacheMaxAge: stale keys are refetched before use', async () => {
    serve([k1]);
    const { remote, requests } = start({ cacheMaxAge: 1000, cooldownDuration: 0 });
    await remote.ready;
    const token = mint(k1, claims());
    await remote.verify(token, { now: NOW });
    assert.equal(requests(), 1);
    await sleep(1100);
    assert.equal(remote.fresh, false);
    await remote.verify(token, { now: NOW });
    assert.equal(requests(), 2);
    assert.equal(remote.fresh, true);
  });

  test('without a uri, the policy\'s remote_jwks gives the uri and the durations', async () => {
    serve([k1]);
    const verifier = new Verifier({
      providers: {
        idp: {
          issuer: ISSUER,
          audiences: [AUDIENCE],
          remote_jwks: { uri, refetch_cooldown_seconds: 3600, cache_duration_seconds: 3600, timeout_ms: 1000 },
        },
        other: { issuer: 'https://other', audiences: [AUDIENCE], local_jwks: { keys: [k2.jwk] } },
      },
    });
    assert.deepEqual(verifier.remoteJwksPolicy('idp'), { uri, refetch_cooldown_seconds: 3600, cache_duration_seconds: 3600, timeout_ms: 1000 });
    const before = state.requests;
    const remote = createRemoteJwks(verifier, 'idp');
    assert.equal(remote.uri, uri);
    await remote.ready;
    serve([k1, k3]);
    // The policy's one-hour cooldown applies: no refetch for an unknown kid yet.
    assert.equal(await codeOfAsync(remote.verify(mint(k3, claims()), { now: NOW })), 'ERR_JWKS_NO_MATCHING_KEY');
    assert.equal(state.requests - before, 1);
    assert.throws(() => createRemoteJwks(verifier, 'other'), TypeError);
  });

  test('a custom fetch is used, and options are checked', async () => {
    serve([k1]);
    const seen = [];
    const { remote } = start({
      fetch: (url, init) => {
        seen.push([url, init.headers.accept]);
        return fetch(url, init);
      },
    });
    await remote.ready;
    assert.deepEqual(seen, [[uri, 'application/jwk-set+json, application/json']]);
    assert.throws(() => createRemoteJwks(remoteVerifier(), 'nobody', uri), TypeError);
    assert.throws(() => createRemoteJwks(remoteVerifier(), 'idp', uri, { cooldownDuration: -1 }), TypeError);
    assert.throws(() => createRemoteJwks({}, 'idp', uri), TypeError);
  });
});
