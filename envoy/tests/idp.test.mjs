// A real identity provider (oidc-provider, js/test/lib/idp.mjs) in front of which a real Envoy runs
// the filter with `remote_jwks.discovery: true`: the filter reads the IdP's own discovery
// document through the `idp` cluster, fetches its jwks_uri, and the RS256 RFC 9068 access tokens
// the IdP issues by client_credentials (obtained with openid-client) reach the upstream: 200 with
// the scopes, 403 under-scoped, 401 for another audience.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { envoyConfig, metrics, request, startEchoUpstream, startEnvoy, stopAll, until } from './lib/harness.mjs';
// oidc-provider and openid-client are devDependencies of the npm package (js/node_modules).
import { startIdp, CLIENT_ID, RESOURCE } from '../../js/test/lib/idp.mjs';

describe('Envoy with discovery in front of oidc-provider', () => {
  let idp, upstream, envoy;

  before(async () => {
    idp = await startIdp();
    upstream = await startEchoUpstream();
    const policy = {
      providers: {
        idp: {
          issuer: idp.issuer,
          audiences: [RESOURCE],
          algorithms: ['RS256'],
          token_types: ['at+jwt'],
          required_claims: ['client_id'],
          remote_jwks: { discovery: true, cluster: 'idp' },
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

  const call = (method, token) =>
    request(envoy, '/orders/7', { method, headers: { authorization: `Bearer ${token}` } });

  test('the IdP\'s discovery document and jwks_uri were fetched', () => {
    assert.ok(idp.state.configurationRequests >= 1);
    assert.ok(idp.state.jwksRequests >= 1);
  });

  test('a client_credentials token with the scope reaches the upstream (200)', async () => {
    const res = await call('GET', await idp.token('read:orders'));
    assert.equal(res.status, 200);
    assert.equal(res.json.headers['x-bot-id'], CLIENT_ID);
  });

  test('an under-scoped token is 403', async () => {
    const res = await call('POST', await idp.token('read:orders'));
    assert.equal(res.status, 403);
  });

  test('a token for another audience is 401', async () => {
    const res = await call('GET', await idp.token('read:orders', 'https://other-api.test'));
    assert.equal(res.status, 401);
  });
});
