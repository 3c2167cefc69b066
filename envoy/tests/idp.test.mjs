// A real identity provider (oidc-provider, js/test/lib/idp.mjs) in front of which a real Envoy runs
// the filter with `remote_jwks.discovery: true`: the filter reads the IdP's own discovery
// document through the `idp` cluster, fetches its jwks_uri, and the RFC 9068 access tokens the
// IdP issues by client_credentials reach the upstream bot. The callers are bots built on
// openid-client (js/test/lib/bot.mjs) that refresh their token before it expires: 200 with the
// scopes, 403 under-scoped, 401 expired, 401 for another audience — also while the IdP rotates
// its signing key under a bounded traffic loop. One run (one IdP, one Envoy) per algorithm the
// IdP signs with (RS256, ES256, PS256, EdDSA) and an RS256 → ES256 migration: the scenarios are
// shared with the npm surface (js/test/lib/idp-runs.mjs).

import { envoyConfig, metrics, startEchoUpstream, startEnvoy, stopAll, until } from './lib/harness.mjs';
// oidc-provider and openid-client are devDependencies of the npm package (js/node_modules).
import { CLIENT_ID } from '../../js/test/lib/idp.mjs';
import { SCHEDULE, describeIdpRuns, idpPolicy } from '../../js/test/lib/idp-runs.mjs';

/** The filter's root contexts tick every 500 ms (docs/policy.md, Remote JWKS schedule). */
const TICK_MS = 500;

describeIdpRuns({
  name: 'Envoy with the filter',
  // The filter refuses (401 ERR_JWKS_NO_MATCHING_KEY) the request that meets an unknown kid and
  // makes a fetch due; later requests see the new keys once it is done. The rotation switches to
  // the new key 300 ms after a fetch (the worst case), so the early fetch waits for the cooldown
  // (counted from the start of the last fetch), then for a tick of the worker, takes up to
  // timeout_ms, and the other worker loads the stored keys at its next tick:
  // window ≤ cooldown (1 s) + tick (500 ms) + fetch (timeout_ms, 1 s) + tick (500 ms) + 500 ms for a loaded machine.
  windowMs: SCHEDULE.cooldownSeconds * 1000 + TICK_MS + SCHEDULE.timeoutMs + TICK_MS + 500,

  async start(idp, algorithms) {
    let upstreamRequests = 0;
    const upstream = await startEchoUpstream({ onRequest: () => { upstreamRequests += 1; } });
    const policy = idpPolicy(idp, algorithms, {
      remoteJwks: { cluster: 'idp' },
      claim_to_headers: [{ claim_name: 'client_id', header_name: 'x-bot-id' }],
    });
    let envoy;
    try {
      envoy = await startEnvoy(envoyConfig({ upstreamPort: upstream.port, jwksPort: idp.port, policy }));
      await until(async () => ((await metrics(envoy)).edgeward_jwks_keys_loaded ?? 0) >= 1, { what: 'keys through discovery' });
    } catch (error) {
      await stopAll([envoy, upstream]);
      throw error;
    }
    // One key loaded (the gauge) after the retirement; the rotation then runs one more second,
    // more than a tick, so every worker has loaded the stored keys.
    let settledAfterRetire = false;
    return {
      base: envoy.url,
      close: () => stopAll([envoy, upstream]),
      async keysSettled() {
        if (idp.state.published.length !== 1) return false;
        settledAfterRetire ||= (await metrics(envoy)).edgeward_jwks_keys_loaded === 1;
        return settledAfterRetire;
      },
      async checkDiscovery(assert) {
        const m = await metrics(envoy);
        assert.equal(m.edgeward_jwks_keys_loaded, 1);
        assert.ok(m.edgeward_jwks_fetch_ok >= 1);
        assert.equal(m.edgeward_jwks_fetch_failed ?? 0, 0);
      },
      checkAllowed(assert, res) {
        assert.equal(res.json.headers['x-bot-id'], CLIENT_ID);
        assert.equal(res.json.headers.authorization, undefined, 'the token is not forwarded');
      },
      async snapshot() {
        settledAfterRetire = false;
        return { metrics: await metrics(envoy), upstreamRequests };
      },
      async checkRotation(assert, run, before) {
        const after = await metrics(envoy);
        const delta = (name) => (after[name] ?? 0) - (before.metrics[name] ?? 0);
        console.log(`# Envoy fetches during the rotation: ${delta('edgeward_jwks_fetch_ok')}`);
        // Exactly the accepted requests reached the upstream bot.
        assert.equal(upstreamRequests - before.upstreamRequests, run.records.filter((r) => r.status === 200).length);
        assert.equal(delta('edgeward_jwks_fetch_failed'), 0, 'no failed fetch');
        assert.equal(after.edgeward_jwks_keys_loaded, 1);
      },
    };
  },
});
