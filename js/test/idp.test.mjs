// A real identity provider (oidc-provider, js/test/lib/idp.mjs) behind createRemoteJwks with
// `remote_jwks.discovery: true`: its own discovery document gives the jwks_uri, and the RFC 9068
// access tokens it issues by client_credentials go through the middleware of a Node service. The
// callers are bots built on openid-client (js/test/lib/bot.mjs) that refresh their token before
// it expires: allowed with the scopes, 403 under-scoped, 401 expired, 401 for another audience —
// also while the IdP rotates its signing key under a bounded traffic loop. One run per algorithm
// the IdP signs with (RS256, ES256, PS256, EdDSA) and an RS256 → ES256 migration: the scenarios
// are shared with the Envoy surface (js/test/lib/idp-runs.mjs).
import http from 'node:http';
import { Verifier, middleware, createRemoteJwks } from '../index.mjs';
import { CLIENT_ID } from './lib/idp.mjs';
import { SCHEDULE, describeIdpRuns, idpPolicy } from './lib/idp-runs.mjs';

describeIdpRuns({
  name: 'the npm middleware',
  // npm: an unknown kid makes the middleware refetch and retry — unless the last fetch STARTED
  // less than refetch_cooldown_seconds ago. The rotation switches to the new key 300 ms after a
  // fetch (the worst case), so new-kid tokens may be refused (401 ERR_JWKS_NO_MATCHING_KEY)
  // until the cooldown is over and a refetch has loaded the new key:
  // window ≤ cooldown (1 s) + one fetch (timeout_ms, 1 s) + 500 ms for a loaded machine.
  windowMs: SCHEDULE.cooldownSeconds * 1000 + SCHEDULE.timeoutMs + 500,

  async start(idp, algorithms) {
    const verifier = new Verifier(idpPolicy(idp, algorithms));
    const remote = createRemoteJwks(verifier, 'idp');
    const guard = middleware(verifier);
    const server = http.createServer((req, res) =>
      guard(req, res, () => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ client_id: req.auth?.claims.client_id, scopes: req.auth?.scopes }));
      }),
    );
    async function close() {
      remote.close();
      server.closeAllConnections?.();
      await new Promise((resolve) => (server.listening ? server.close(resolve) : resolve()));
    }
    let ready;
    try {
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      ready = await remote.ready;
    } catch (error) {
      await close();
      throw error;
    }
    return {
      base: `http://127.0.0.1:${server.address().port}`,
      close,
      keysSettled: () => verifier.keyCount('idp') === 1 && remote.uri !== undefined && idp.state.published.length === 1,
      async checkDiscovery(assert) {
        assert.equal(ready, 1);
        assert.equal(remote.discoveryUri, `${idp.issuer}/.well-known/openid-configuration`);
        const document = await (await fetch(remote.discoveryUri)).json();
        assert.equal(remote.uri, document.jwks_uri);
        assert.equal(verifier.keyCount('idp'), 1);
        assert.deepEqual(remote.lastWarnings, []);
      },
      async checkToken(assert, token) {
        const verified = await remote.verify(token, { scopes: ['read:orders'] });
        assert.deepEqual(verified.scopes, ['read:orders', 'write:orders']);
      },
      checkAllowed(assert, res) {
        assert.deepEqual(res.json, { client_id: CLIENT_ID, scopes: ['read:orders'] });
      },
      snapshot: () => ({ fetches: remote.fetches }),
      checkRotation(assert, _run, before) {
        console.log(`# npm fetches during the rotation: ${remote.fetches - before.fetches}`);
        assert.equal(remote.failures, 0);
        assert.equal(remote.lastError, undefined);
        assert.equal(verifier.keyCount('idp'), 1);
      },
    };
  },
});
