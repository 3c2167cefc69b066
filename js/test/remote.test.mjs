// createRemoteJwks against a real loopback HTTP server: first load, rotation, outage, garbage,
// cooldown, coalescing, timeouts and cache age.
import { test, describe, before, after } from 'node:test';
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

function start(options) {
  const verifier = remoteVerifier();
  const requestsBefore = state.requests;
  const remote = createRemoteJwks(verifier, 'idp', uri, options);
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
      await assert.rejects(remote.reload(), (error) => error.code === 'ERR_JWKS_INVALID');
      assert.equal(verifier.keyCount('idp'), 1);
      assert.equal((await remote.verify(token, { now: NOW })).header.kid, 'k1');
    }
  });

  test('no keys yet and the IdP is down: 503-style ERR_JWKS_UNAVAILABLE; ready waits', async () => {
    state.status = 500;
    state.body = '';
    state.hang = false;
    const { remote, requests } = start({ cooldownDuration: 1000 });
    const token = mint(k1, claims());
    const refused = await codeOfAsync(remote.verify(token, { now: NOW }));
    assert.equal(refused, 'ERR_JWKS_UNAVAILABLE');
    const pending = Symbol('pending');
    assert.equal(await Promise.race([remote.ready, sleep(50, pending)]), pending);
    // Within the cooldown no new fetch; after it, the IdP is back and keys arrive.
    await codeOfAsync(remote.verify(token, { now: NOW }));
    assert.equal(requests(), 1);
    serve([k1]);
    await sleep(1100);
    assert.equal((await remote.verify(token, { now: NOW })).header.kid, 'k1');
    await remote.ready;
    assert.equal(requests(), 2);
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
