// OpenID Connect discovery in a real Envoy (`remote_jwks.discovery: true`): the filter fetches
// `<issuer>/.well-known/openid-configuration` through the provider's cluster, requires its
// `issuer` to be the provider's exactly, then fetches the keys at its `jwks_uri` (through the same
// cluster when it is on the same host, else only through `jwks_cluster`), both on the JWKS
// schedule; a failure of either step keeps the last good keys.

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import {
  envoyConfig, makeKey, metrics, mint, nowSeconds, request, startEchoUpstream, startEnvoy, staticCluster,
  stopAll, until,
} from './lib/harness.mjs';

const ISSUER = 'https://idp.test';
const WELL_KNOWN = '/.well-known/openid-configuration';

const policy = (remote = {}) => ({
  providers: {
    idp: {
      issuer: ISSUER,
      audiences: ['api'],
      remote_jwks: { discovery: true, cluster: 'idp', cache_duration_seconds: 2, timeout_ms: 1000, refetch_cooldown_seconds: 1, ...remote },
    },
  },
  rules: [{ match: { prefix: '/' }, requires: { provider_name: 'idp' } }],
});

const token = (key) => mint(key, { iss: ISSUER, aud: 'api', sub: 'b', iat: nowSeconds() - 5, exp: nowSeconds() + 300 });
const call = (envoy, key) => request(envoy, '/x', { headers: { authorization: `Bearer ${token(key)}` } });
const failed = async (envoy) => (await metrics(envoy)).edgeward_jwks_fetch_failed ?? 0;

/**
 * An IdP on 127.0.0.1: the discovery document at WELL_KNOWN (`state.discovery`, or a mode:
 * 'error' answers 500, 'garbage' a non-JSON 200) and the keys at `state.keysPath`; every request
 * is counted by path.
 */
async function startIdp(keys) {
  const state = { keys: [...keys], discovery: { issuer: ISSUER, jwks_uri: `${ISSUER}/keys` }, mode: 'ok', keysPath: '/keys', hits: {} };
  const server = http.createServer((req, res) => {
    req.resume();
    state.hits[req.url] = (state.hits[req.url] ?? 0) + 1;
    state.lastHost = req.headers.host;
    res.setHeader('content-type', 'application/json');
    if (req.url === WELL_KNOWN) {
      if (state.mode === 'error') return void (res.statusCode = 500, res.end('trouble'));
      if (state.mode === 'garbage') return void res.end('<html>not a configuration</html>');
      return void res.end(JSON.stringify(state.discovery));
    }
    if (req.url === state.keysPath) return void res.end(JSON.stringify({ keys: state.keys.map((k) => k.jwk) }));
    res.statusCode = 404;
    res.end('{}');
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const stop = () => new Promise((ok) => { server.closeAllConnections?.(); server.close(() => ok()); });
  return { port: server.address().port, state, stop };
}

describe('discovery: configuration, then keys, through the cluster', () => {
  const [k1, k2] = [makeKey('k1'), makeKey('k2')];
  let upstream, idp, envoy;

  before(async () => {
    upstream = await startEchoUpstream();
    idp = await startIdp([k1]);
    envoy = await startEnvoy(envoyConfig({ upstreamPort: upstream.port, jwksPort: idp.port, policy: policy() }));
    await until(async () => (await call(envoy, k1)).status === 200, { what: 'keys through discovery' });
  });
  after(() => stopAll([upstream, idp, envoy]));

  test('the well-known URI of the issuer is fetched, then its jwks_uri, once per period for all workers', async () => {
    assert.ok(idp.state.hits[WELL_KNOWN] >= 1);
    assert.ok(idp.state.hits['/keys'] >= 1);
    assert.equal(idp.state.lastHost, 'idp.test', ':authority is the issuer\'s host');
    const start = { ...idp.state.hits };
    const ok = (await metrics(envoy)).edgeward_jwks_fetch_ok;
    await new Promise((done) => setTimeout(done, 5500));
    const configurations = idp.state.hits[WELL_KNOWN] - start[WELL_KNOWN];
    const keys = idp.state.hits['/keys'] - start['/keys'];
    assert.ok(configurations >= 2 && configurations <= 3, `${configurations} configuration fetches in 5.5 s`);
    assert.ok(Math.abs(keys - configurations) <= 1, `${keys} key fetches for ${configurations} configurations`);
    assert.ok((await metrics(envoy)).edgeward_jwks_fetch_ok - ok >= 2, 'one fetch_ok per two-step fetch');
  });

  for (const [what, change] of [
    ['answers 500', (s) => { s.mode = 'error'; }],
    ['serves garbage', (s) => { s.mode = 'garbage'; }],
    ['names another issuer', (s) => { s.discovery = { ...s.discovery, issuer: 'https://evil.test' }; }],
    ['names the issuer with a trailing slash', (s) => { s.discovery = { ...s.discovery, issuer: `${ISSUER}/` }; }],
    ['has no jwks_uri', (s) => { s.discovery = { issuer: ISSUER }; }],
    ['points jwks_uri at http:// for an https:// issuer', (s) => { s.discovery = { ...s.discovery, jwks_uri: 'http://idp.test/keys' }; }],
    ['points jwks_uri at another host (no jwks_cluster)', (s) => { s.discovery = { ...s.discovery, jwks_uri: 'https://keys.other.test/keys' }; }],
  ]) {
    test(`a configuration that ${what} fails the fetch and keeps the last good keys`, async () => {
      const saved = structuredClone(idp.state.discovery);
      const before = await failed(envoy);
      const keyFetches = idp.state.hits['/keys'];
      change(idp.state);
      try {
        await until(async () => (await failed(envoy)) > before, { what: `a failed fetch (${what})` });
        assert.equal(idp.state.hits['/keys'], keyFetches, 'no key fetch after a refused configuration');
        assert.equal((await call(envoy, k1)).status, 200, 'last good keys still used');
      } finally {
        idp.state.mode = 'ok';
        idp.state.discovery = saved;
      }
      // The next good fetch ends the backoff before the next case.
      const ok = (await metrics(envoy)).edgeward_jwks_fetch_ok;
      await until(async () => (await metrics(envoy)).edgeward_jwks_fetch_ok > ok, { what: 'a good fetch again' });
    });
  }

  test('a new jwks_uri in the configuration brings its keys at the next refresh', async () => {
    idp.state.keys = [k2];
    idp.state.keysPath = '/keys-v2';
    idp.state.discovery = { issuer: ISSUER, jwks_uri: `${ISSUER}/keys-v2` };
    await until(async () => (await call(envoy, k2)).status === 200, { what: 'the keys of the new jwks_uri' });
    assert.ok(idp.state.hits['/keys-v2'] >= 1);
  });
});

describe('discovery: a jwks_uri on another host', () => {
  const k1 = makeKey('k1');
  let upstream, idp, keyHost, envoys = [];

  before(async () => {
    upstream = await startEchoUpstream();
    keyHost = await startIdp([k1]);
    idp = await startIdp([]);
    idp.state.discovery = { issuer: ISSUER, jwks_uri: 'https://keys.test/keys' };
  });
  after(() => stopAll([upstream, idp, keyHost, ...envoys]));

  test('without jwks_cluster it is refused: no keys (503), the fetch fails and is retried', async () => {
    const envoy = await startEnvoy(envoyConfig({ upstreamPort: upstream.port, jwksPort: idp.port, policy: policy() }));
    envoys.push(envoy);
    await until(async () => (await failed(envoy)) >= 2, { what: 'two failed fetches' });
    const res = await call(envoy, k1);
    assert.equal(res.status, 503);
    assert.equal(keyHost.state.hits['/keys'], undefined, 'the other host is never asked through the wrong cluster');
    assert.ok(!idp.state.hits['/keys'], 'nor is the discovery host asked for the other host\'s path');
  });

  test('with jwks_cluster the keys come through that cluster', async () => {
    const config = envoyConfig({ upstreamPort: upstream.port, jwksPort: idp.port, policy: policy({ jwks_cluster: 'keys' }) });
    config.static_resources.clusters.push(staticCluster('keys', keyHost.port));
    const envoy = await startEnvoy(config);
    envoys.push(envoy);
    await until(async () => (await call(envoy, k1)).status === 200, { what: 'keys through jwks_cluster' });
    assert.equal(keyHost.state.lastHost, 'keys.test');
  });
});
