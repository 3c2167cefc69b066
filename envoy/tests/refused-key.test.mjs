// One unusable key in a fetched JWKS (an off-size x) among good ones: the filter loads the good
// keys, leaves the bad one out, logs it and counts it (edgeward_jwks_keys_refused).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  envoyConfig, makeKey, metrics, mint, nowSeconds, request, startEchoUpstream, startEnvoy, startJwksServer, stopAll, until,
} from './lib/harness.mjs';

const ISSUER = 'https://idp.test';
const good = makeKey('good');
const bad = { kid: 'bad', jwk: { ...makeKey('bad').jwk, x: 'AAAA' } };
let upstream, jwks, envoy;

before(async () => {
  upstream = await startEchoUpstream();
  jwks = await startJwksServer([bad, good]);
  const policy = {
    providers: { idp: { issuer: ISSUER, audiences: ['api'], remote_jwks: { cluster: 'idp', uri: 'http://idp.test/jwks' } } },
    rules: [{ match: { prefix: '/' }, requires: { provider_name: 'idp' } }],
  };
  envoy = await startEnvoy(envoyConfig({ upstreamPort: upstream.port, jwksPort: jwks.port, policy }));
});
after(() => stopAll([upstream, jwks, envoy]));

test('the good key verifies, the bad one is left out, logged and counted', async () => {
  const token = mint(good, { iss: ISSUER, aud: 'api', sub: 'b', iat: nowSeconds(), exp: nowSeconds() + 300 });
  await until(async () => (await request(envoy, '/x', { headers: { authorization: `Bearer ${token}` } })).status === 200,
    { what: 'the good key to load' });
  const counted = await until(async () => (await metrics(envoy)).edgeward_jwks_keys_refused >= 1, { what: 'the counter' });
  assert.ok(counted);
  assert.match(envoy.log, /fetched key left out: keys\[0\]\.x: expected exactly 32 bytes/);
  assert.ok(!envoy.log.includes(good.jwk.x), 'no key material in the log');
});
