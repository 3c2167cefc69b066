// Proof-of-possession tokens from a real IdP (oidc-provider, js/test/lib/idp.mjs with `dpop` and
// `mtls`, over https) used by real clients (openid-client bots, js/test/lib/pop-bot.mjs) through a
// real Envoy: a TLS listener requiring client certificates, the filter with the IdP's keys found
// by discovery through an https cluster (UpstreamTlsContext trusting the test CA).
// - DPoP: the bot's token is bound to its DPoP key (cnf.jkt); openid-client makes a new proof per
//   request (htu: the listener URL without the query) and Envoy lets each through once. The bot's
//   last request sent again byte for byte is a replay; its token as a Bearer token is refused.
// - mTLS: the bot authenticates to the IdP with its certificate (tls_client_auth) and gets a token
//   bound to it (cnf["x5t#S256"]); Envoy lets it through with that certificate only.
// No token, proof or key is printed.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { envoyConfig, metrics, requestTls, startEchoUpstream, startEnvoy, stopAll, until } from './lib/harness.mjs';
import { makeCertificates, makeClientCertificate } from '../../js/test/lib/tls.mjs';
import { CLIENT_ID, MTLS_CLIENT_ID, MTLS_SAN_URI, startIdp } from '../../js/test/lib/idp.mjs';
import { idpPolicy } from '../../js/test/lib/idp-runs.mjs';
import { createPopBot } from '../../js/test/lib/pop-bot.mjs';
import { peek } from '../../js/test/lib/bot.mjs';

const DPOP_CHALLENGE = 'DPoP realm="edgeward", error="invalid_dpop_proof", algs="ES256"';

/**
 * A bot's request; a refusal with a WWW-Authenticate challenge (which openid-client throws as
 * WWWAuthenticateChallengeError) resolves like an answer: `{ status, code, challenge }`.
 */
async function botCall(bot, url, options) {
  try {
    const res = await bot.request(url, options);
    return { status: res.status, code: res.json?.code, challenge: res.headers.get('www-authenticate'), json: res.json };
  } catch (error) {
    // openid-client lives in js/node_modules (not resolvable from here): known by its name.
    if (error?.name !== 'WWWAuthenticateChallengeError' || !error.response) throw error;
    const body = await error.response.json().catch(() => null);
    return { status: error.response.status, code: body?.code, challenge: error.response.headers.get('www-authenticate') };
  }
}

let dir;
let tls;
let idp;
let envoy;
const things = [];
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'edgeward-pop-idp-'));
  tls = makeCertificates(dir);
  idp = await startIdp({ alg: 'ES256', tls, dpop: true, mtls: true });
  things.push(idp);
  const upstream = await startEchoUpstream();
  things.push(upstream);
  const policy = idpPolicy(idp, ['ES256'], { remoteJwks: { cluster: 'idp' }, claim_to_headers: [{ claim_name: 'client_id', header_name: 'x-bot-id' }] });
  const config = envoyConfig({ upstreamPort: upstream.port, jwksPort: idp.port, policy, tls: { cert: tls.cert, key: tls.key, ca: tls.ca } });
  // The IdP speaks https: the cluster verifies its certificate against the test CA.
  const idpCluster = config.static_resources.clusters.find((c) => c.name === 'idp');
  idpCluster.transport_socket = {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
      sni: '127.0.0.1',
      common_tls_context: { validation_context: { trusted_ca: { inline_string: tls.ca } } },
    },
  };
  envoy = await startEnvoy(config, { concurrency: 2 });
  things.push(envoy);
  await until(async () => ((await metrics(envoy)).edgeward_jwks_keys_loaded ?? 0) >= 1, { what: 'the IdP\'s keys through discovery over https' });
  assert.ok(idp.state.configurationRequests >= 1 && idp.state.jwksRequests >= 1, 'discovery, then the jwks_uri, from the IdP');
});
after(async () => {
  await stopAll(things);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('openid-client bots with the IdP\'s bound tokens through Envoy', () => {
  test('DPoP: fresh proofs from openid-client pass, each once; the last request replayed: 401 ERR_DPOP_REPLAYED; as Bearer: 401 ERR_POP_MISSING', async () => {
    // The plain client (client_secret_basic) gets a DPoP token; the certificate opens the listener.
    const listenerCert = makeClientCertificate(dir, tls, { name: 'orders', uriSans: [MTLS_SAN_URI] });
    const bot = await createPopBot({ idp, clientCert: listenerCert, clientId: CLIENT_ID, dpop: true });
    const proofs = new Set();
    for (const path of ['/orders/7', '/orders/7?page=2', '/orders', '/orders/7']) {
      const res = await botCall(bot, `${envoy.url}${path}`);
      assert.equal(res.status, 200, `${path}: ${res.code}`);
      assert.equal(res.json.headers['x-bot-id'], CLIENT_ID);
      proofs.add(bot.lastRequest.headers.dpop);
    }
    assert.equal(proofs.size, 4, 'a new proof per request');
    const tok = await bot.token();
    assert.equal(peek(tok).claims.cnf.jkt, bot.dpop.thumbprint);

    // The last request again, exactly as openid-client sent it (its headers; the same client certificate).
    const last = bot.lastRequest;
    const replay = await requestTls(envoy, new URL(last.url).pathname + new URL(last.url).search, {
      method: last.method, headers: last.headers, ca: tls.ca, cert: listenerCert.cert, key: listenerCert.key,
    });
    assert.equal(replay.status, 401);
    assert.equal(replay.json.code, 'ERR_DPOP_REPLAYED');
    assert.equal(replay.headers.get('www-authenticate'), DPOP_CHALLENGE);

    // The token as a Bearer token, as a thief without the key would send it.
    const bearer = await requestTls(envoy, '/orders/7', {
      headers: { authorization: `Bearer ${tok}` }, ca: tls.ca, cert: listenerCert.cert, key: listenerCert.key,
    });
    assert.equal(bearer.status, 401);
    assert.equal(bearer.json.code, 'ERR_POP_MISSING');

    // Another DPoP bot (another key) presenting this bot's token: its proofs do not match cnf.jkt.
    const thief = await createPopBot({ idp, clientCert: listenerCert, clientId: CLIENT_ID, dpop: true });
    const stolen = await botCall(thief, `${envoy.url}/orders/7`, { token: tok });
    assert.deepEqual([stolen.status, stolen.code, stolen.challenge], [401, 'ERR_DPOP_PROOF_INVALID', DPOP_CHALLENGE]);
    // And the bot goes on.
    assert.equal((await botCall(bot, `${envoy.url}/orders/7`)).status, 200);
  });

  test('mTLS: the certificate-bound token with its certificate: 200; from a bot with another certificate: 401 ERR_MTLS_BINDING_MISMATCH', async () => {
    const cert = makeClientCertificate(dir, tls, { name: 'billing', uriSans: [MTLS_SAN_URI] });
    const bot = await createPopBot({ idp, clientCert: cert });
    for (let i = 0; i < 3; i += 1) {
      const res = await botCall(bot, `${envoy.url}/orders/7`);
      assert.equal(res.status, 200, res.code);
      assert.equal(res.json.headers['x-bot-id'], MTLS_CLIENT_ID);
    }
    const tok = await bot.token();
    assert.deepEqual(peek(tok).claims.cnf, { 'x5t#S256': cert.x5tS256 });

    // The same subject with another key, and another subject: openid-client bots presenting them with this token.
    for (const other of [
      makeClientCertificate(dir, tls, { name: 'billing', uriSans: [MTLS_SAN_URI] }),
      makeClientCertificate(dir, tls, { name: 'audit', uriSans: ['spiffe://example.org/ns/bots/sa/audit'] }),
    ]) {
      const impostor = await createPopBot({ idp, clientCert: other, clientId: MTLS_CLIENT_ID });
      const res = await botCall(impostor, `${envoy.url}/orders/7`, { token: tok });
      assert.deepEqual([res.status, res.code], [401, 'ERR_MTLS_BINDING_MISMATCH']);
    }
    // The impostor's own token (bound to its own certificate) is fine for it.
    const own = await createPopBot({ idp, clientCert: makeClientCertificate(dir, tls, { name: 'billing', uriSans: [MTLS_SAN_URI] }) });
    assert.equal((await botCall(own, `${envoy.url}/orders/7`)).status, 200);
  });

  test('the refusals are counted per code', async () => {
    await until(async () => {
      const m = await metrics(envoy);
      return m.edgeward_denied_dpop_replayed === 1 && m.edgeward_denied_pop_missing === 1
        && m.edgeward_denied_dpop_proof_invalid === 1 && m.edgeward_denied_mtls_binding_mismatch === 2;
    }, { what: 'per-code counters', timeoutMs: 5000 });
  });
});
