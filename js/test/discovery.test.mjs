// createRemoteJwks with `remote_jwks.discovery: true` against a loopback IdP: the configuration at
// <issuer>/.well-known/openid-configuration (checked by the core: its issuer must be the
// provider's exactly), then the keys at its jwks_uri, both refreshed together; a failure of either
// keeps the last good keys.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Verifier, EdgewardError, createRemoteJwks } from '../index.mjs';
import { NOW, AUDIENCE, keyPair, mint, claims } from './helpers.mjs';

const WELL_KNOWN = '/.well-known/openid-configuration';
const k1 = keyPair('ES256', 'k1');
const k2 = keyPair('ES256', 'k2');

// The IdP: the configuration (`state.configuration`, or `state.configurationStatus`, or no answer
// at all with `hang`) and key sets by path (`state.keys`); requests counted by path.
const state = { configuration: null, configurationStatus: 200, hang: false, keys: {}, hits: {} };
const sockets = new Set();
let server;
let issuer;

before(async () => {
  server = http.createServer((req, res) => {
    state.hits[req.url] = (state.hits[req.url] ?? 0) + 1;
    res.setHeader('content-type', 'application/json');
    if (req.url === WELL_KNOWN) {
      if (state.hang) return;
      res.statusCode = state.configurationStatus;
      return void res.end(JSON.stringify(state.configuration));
    }
    const keys = state.keys[req.url];
    if (keys === undefined) return void (res.statusCode = 404, res.end('{}'));
    res.end(JSON.stringify({ keys: keys.map((k) => k.jwk) }));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${server.address().port}`;
});

after(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

function reset() {
  Object.assign(state, {
    configuration: { issuer, jwks_uri: `${issuer}/keys`, token_endpoint: `${issuer}/token` },
    configurationStatus: 200,
    hang: false,
    keys: { '/keys': [k1] },
    hits: {},
  });
}

function discoveringVerifier(remote = {}) {
  return new Verifier({
    providers: { idp: { issuer, audiences: [AUDIENCE], remote_jwks: { discovery: true, cache_duration_seconds: 3600, ...remote } } },
  });
}

const token = (key) => mint(key, claims({ iss: issuer }));

async function rejection(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('createRemoteJwks with discovery', () => {
  test('fetches the issuer\'s configuration, then its jwks_uri', async () => {
    reset();
    const remote = createRemoteJwks(discoveringVerifier(), 'idp');
    assert.equal(remote.discoveryUri, `${issuer}${WELL_KNOWN}`);
    assert.equal(remote.uri, undefined, 'no jwks_uri before the first configuration');
    assert.equal(await remote.ready, 1);
    assert.equal(remote.uri, `${issuer}/keys`);
    assert.deepEqual(state.hits, { [WELL_KNOWN]: 1, '/keys': 1 });
    assert.equal((await remote.verify(token(k1), { now: NOW })).claims.iss, issuer);
    remote.close();
  });

  test('the configuration is refreshed with the keys, and a new jwks_uri is followed', async () => {
    reset();
    const remote = createRemoteJwks(discoveringVerifier(), 'idp');
    await remote.ready;
    state.keys['/keys-v2'] = [k2];
    state.configuration = { ...state.configuration, jwks_uri: `${issuer}/keys-v2` };
    assert.equal(await remote.reload(), 1);
    assert.equal(remote.uri, `${issuer}/keys-v2`);
    assert.equal(state.hits[WELL_KNOWN], 2);
    assert.equal((await remote.verify(token(k2), { now: NOW })).claims.sub, 'bot-7');
    remote.close();
  });

  test('an unknown kid refetches both (cooldown permitting)', async () => {
    reset();
    const remote = createRemoteJwks(discoveringVerifier({ refetch_cooldown_seconds: 0 }), 'idp');
    await remote.ready;
    state.keys['/keys'] = [k1, k2];
    await remote.verify(token(k2), { now: NOW });
    assert.deepEqual(state.hits, { [WELL_KNOWN]: 2, '/keys': 2 });
    remote.close();
  });

  for (const [what, change, path] of [
    ['names another issuer', () => { state.configuration.issuer = 'http://evil.invalid'; }, 'issuer'],
    ['names the issuer with a trailing slash', () => { state.configuration.issuer = `${issuer}/`; }, 'issuer'],
    ['has no jwks_uri', () => { delete state.configuration.jwks_uri; }, 'jwks_uri'],
    ['has a relative jwks_uri', () => { state.configuration.jwks_uri = '/keys'; }, 'jwks_uri'],
  ]) {
    test(`a configuration that ${what} is refused by the core and the last good keys stay`, async () => {
      reset();
      const remote = createRemoteJwks(discoveringVerifier(), 'idp');
      await remote.ready;
      change();
      const error = await rejection(remote.reload());
      assert.ok(error instanceof EdgewardError);
      assert.equal(error.code, 'ERR_JWKS_UNAVAILABLE');
      assert.equal(error.cause?.code, 'ERR_JWKS_INVALID');
      assert.equal(error.cause?.path, path);
      assert.match(error.message, /discovery document/);
      assert.ok(!error.message.includes('evil'), 'the document\'s issuer is not echoed');
      assert.equal(state.hits['/keys'], 1, 'no key fetch after a refused configuration');
      assert.equal(remote.uri, `${issuer}/keys`, 'the last good jwks_uri stays');
      assert.equal(remote.failures, 1);
      assert.ok(remote.retryIn > 0, 'retried on the backoff');
      assert.equal((await remote.verify(token(k1), { now: NOW })).provider, 'idp', 'the last good keys stay');
      remote.close();
    });
  }

  test('an unreachable configuration fails the first fetch (ready rejects) and the retry recovers', async () => {
    reset();
    state.configurationStatus = 503;
    const remote = createRemoteJwks(discoveringVerifier(), 'idp');
    const error = await rejection(remote.ready);
    assert.equal(error.code, 'ERR_JWKS_UNAVAILABLE');
    assert.match(error.message, /discovery endpoint answered HTTP 503/);
    assert.equal(state.hits['/keys'], undefined);
    state.configurationStatus = 200;
    assert.equal(await remote.reload(), 1);
    remote.close();
  });

  test('a failed key fetch after a good configuration keeps the last good keys', async () => {
    reset();
    const remote = createRemoteJwks(discoveringVerifier(), 'idp');
    await remote.ready;
    state.configuration = { ...state.configuration, jwks_uri: `${issuer}/missing` };
    const error = await rejection(remote.reload());
    assert.match(error.message, /the JWKS from .*\/missing failed: JWKS endpoint answered HTTP 404/);
    assert.equal(remote.uri, `${issuer}/keys`);
    assert.equal((await remote.verify(token(k1), { now: NOW })).provider, 'idp');
    remote.close();
  });

  test('a configuration over 256 KiB is refused unread', async () => {
    reset();
    state.configuration = { ...state.configuration, padding: 'x'.repeat(300 * 1024) };
    const remote = createRemoteJwks(discoveringVerifier(), 'idp');
    const error = await rejection(remote.ready);
    assert.match(error.message, /discovery document .* failed: discovery response is larger than 262144 bytes/);
    assert.equal(state.hits['/keys'], undefined);
    remote.close();
  });

  test('a configuration that never answers times out', async () => {
    reset();
    state.hang = true;
    const remote = createRemoteJwks(discoveringVerifier({ timeout_ms: 200 }), 'idp');
    const error = await rejection(remote.ready);
    assert.match(error.message, /discovery document .* failed: timed out/);
    remote.close();
  });

  test('a uri argument fetches that JWKS without discovery', async () => {
    reset();
    const remote = createRemoteJwks(discoveringVerifier(), 'idp', `${issuer}/keys`);
    assert.equal(remote.discoveryUri, undefined);
    await remote.ready;
    assert.deepEqual(state.hits, { '/keys': 1 });
    remote.close();
  });

  test('the policy\'s settings show discovery and the issuer; discovery needs an absolute uri', () => {
    reset();
    assert.deepEqual(discoveringVerifier().remoteJwksPolicy('idp'), {
      uri: `${issuer}${WELL_KNOWN}`, discovery: true, issuer, cache_duration_seconds: 3600, timeout_ms: 2000, refetch_cooldown_seconds: 30,
    });
    assert.throws(() => discoveringVerifier({ uri: 'openid-configuration' }), (e) => e.path === 'providers.idp.remote_jwks.uri');
  });
});
