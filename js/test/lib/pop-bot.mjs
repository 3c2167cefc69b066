// A bot with proof-of-possession tokens from the IdP of js/test/lib/idp.mjs (`dpop`, `mtls`), all
// through openid-client 6.9.0, so that the DPoP proofs and client certificates a verifier meets are
// the ones a real client library makes:
// - DPoP (RFC 9449): `client.randomDPoPKeyPair(alg)` (a non-extractable private CryptoKey),
//   `client.getDPoPHandle(config, keyPair)`, then `{ DPoP: handle }` to `clientCredentialsGrant`
//   and to `fetchProtectedResource`, which sends `authorization: DPoP <token>` and a new `DPoP`
//   proof per request (htm, htu = origin + path without query, iat, jti, ath; header typ
//   dpop+jwt, alg, the public jwk). The handle keeps the last `DPoP-Nonce` of each origin and
//   retries once on `use_dpop_nonce`.
// - mTLS (RFC 8705): openid-client has no TLS options of its own; its `customFetch` is a node:https
//   fetch presenting the client certificate (fetchTrusting of js/test/lib/tls.mjs), for the IdP and
//   for the resource requests alike; `client.TlsClientAuth()` authenticates the client by it.
// `lastRequest` is what the last resource request sent (url, method, headers including
// `authorization` and `dpop`), for tests that replay it as is. A refusal with a `WWW-Authenticate`
// challenge (which openid-client throws as a WWWAuthenticateChallengeError) resolves as an answer.

import * as client from 'openid-client';
import { CLIENT_ID, CLIENT_SECRET, MTLS_CLIENT_ID, RESOURCE } from './idp.mjs';
import { fetchTrusting } from './tls.mjs';
import { peek } from './bot.mjs';

/**
 * A bot of `idp.issuer` (an IdP from startIdp; `tls` is taken from it). `clientCert` (`{ cert, key }`,
 * e.g. from makeClientCertificate): every https request presents it, and the client is
 * MTLS_CLIENT_ID with tls_client_auth unless `clientId` / `clientSecret` say otherwise. `dpop`:
 * `true`, or `{ alg }` (default ES256; `keyPair` to reuse one) binds tokens to a new DPoP key.
 * Resolves `{ configuration, dpop: { keyPair, handle, publicJwk, thumbprint } | null, grant(),
 * token(), request(url, { method, headers, body, token }), lastRequest }`:
 * `grant()` the token response (`access_token`, `token_type`, `expires_in`, …), `token()` a cached
 * access token (a new one once less than 2 s is left), `request` a resource request through
 * `fetchProtectedResource` resolving `{ status, headers, text, json, token }`.
 */
export async function createPopBot({
  idp,
  clientCert,
  clientId = clientCert ? MTLS_CLIENT_ID : CLIENT_ID,
  clientSecret = clientId === CLIENT_ID ? CLIENT_SECRET : undefined,
  scope = 'read:orders',
  resource = RESOURCE,
  dpop = false,
} = {}) {
  const { tls } = idp;
  const overTls = tls ? fetchTrusting(tls, clientCert) : undefined;
  let lastRequest = null;
  const customFetch = (url, init) => {
    // Resource requests carry the token (`authorization: DPoP …` or `Bearer …`); IdP requests do not.
    if (/^(DPoP|Bearer) /.test(init.headers?.authorization ?? '')) lastRequest = { url, method: init.method, headers: { ...init.headers } };
    return overTls && url.startsWith('https:') ? overTls(url, init) : fetch(url, init);
  };
  const auth = clientSecret === undefined ? client.TlsClientAuth() : client.ClientSecretBasic(clientSecret);
  const configuration = await client.discovery(new URL(idp.issuer), clientId, undefined, auth, {
    [client.customFetch]: customFetch,
    // Resource requests to plain-http test servers on loopback.
    execute: [client.allowInsecureRequests],
  });

  let pop = null;
  if (dpop) {
    const keyPair = dpop.keyPair ?? (await client.randomDPoPKeyPair(dpop.alg ?? 'ES256'));
    const handle = client.getDPoPHandle(configuration, keyPair);
    const publicJwk = await crypto.subtle.exportKey('jwk', keyPair.publicKey);
    pop = { keyPair, handle, publicJwk, thumbprint: await handle.calculateThumbprint() };
  }
  const options = pop ? { DPoP: pop.handle } : undefined;

  let current = null;
  async function grant() {
    const response = await client.clientCredentialsGrant(configuration, { scope, resource }, options);
    current = { token: response.access_token, expiresAt: Date.now() + response.expires_in * 1000 };
    return response;
  }
  async function token() {
    if (current === null || current.expiresAt - Date.now() < 2000) await grant();
    return current.token;
  }

  async function request(url, { method = 'GET', headers = {}, body = undefined, token: given } = {}) {
    const used = given ?? (await token());
    let response;
    try {
      response = await client.fetchProtectedResource(configuration, used, new URL(url), method, body, new Headers(headers), options);
    } catch (error) {
      // A refusal with a `WWW-Authenticate` challenge is an error to openid-client (after its one
      // retry for `use_dpop_nonce`); here it is an answer like any other.
      if (!(error instanceof client.WWWAuthenticateChallengeError)) throw error;
      response = error.response;
    }
    const text = await response.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: response.status, headers: response.headers, text, json, token: used };
  }

  return {
    configuration,
    dpop: pop,
    clientCert,
    grant,
    token,
    request,
    get lastRequest() { return lastRequest; },
    /** The header and claims of the current token (test bookkeeping, not verified). */
    peek: async () => peek(await token()),
  };
}
