// A real identity provider for tests: `oidc-provider` (the certified OpenID Provider for Node) on
// 127.0.0.1, with one `client_credentials` client and a resource server, so that it issues RFC 9068
// JWT access tokens (`typ: at+jwt`, `client_id`, `scope`, `aud`, `iat`, `exp`) signed with a key it
// publishes at the `jwks_uri` of its discovery document: RS256 (oidc-provider's default) with a
// 2048-bit RSA key, or — `startIdp({ alg })` — ES256 (P-256), PS256 (2048-bit RSA) or EdDSA
// (Ed25519). Tokens are obtained with `openid-client` (discovery, then the client_credentials
// grant), as a bot would (js/test/lib/bot.mjs).
//
// How oidc-provider 9.13.3 picks the algorithm (lib/models/formats/jwt.js): a resource server
// whose `accessTokenFormat` is 'jwt' signs with `jwt.sign.alg` (else the client default
// id_token_signed_response_alg, RS256) and the keystore key that `selectForSign({ alg, kid })`
// finds; every key here has its `alg` (and `use: 'sig'`) set, so the published JWK names the
// algorithm too. The Provider offers the ID-token algorithms that are both in
// `enabledJWA.idTokenSigningAlgValues` and made by a published key (lib/helpers/initialize_keystore.js),
// and refuses a client whose `id_token_signed_response_alg` (default RS256) is not one of them —
// which fails every token request of an IdP without an RS256 key. So enabledJWA lists ALGORITHMS
// (its default has these four too; explicit here) and the client asks for the signing key's.
//
// What oidc-provider 9.13.3 puts in these tokens (checked by the tests): `iat` is its clock in whole
// seconds (floor), `exp` is `iat` + `ttl.ClientCredentials` (and `expires_in` of the token response
// that same TTL), no `nbf`; also `jti`, `sub` (= `client_id`), `iss`, `aud` (the resource), `scope`.
//
// Key rotation: oidc-provider reads its signing keys (`jwks`) once, when it is constructed; there
// is no API to change them on a running instance. A real IdP rotates by deploying its new key
// configuration, so here `publish(kids)` constructs a new Provider instance (same issuer, same
// clients, same configuration, the new `jwks`) and swaps it in behind the SAME listening socket —
// as a load balancer in front of an IdP's rolling deploy would: the URL and issuer never change,
// no request is refused, requests already under way finish on the instance that took them. Which
// published key signs is the resource server's `jwt.sign` (`kid`, and the `alg` of that key; read
// for every token request), so `signWith(kid)` switches signing — also to a key of another
// algorithm (`createKey(kid, alg)`) — without a new instance.
//
// With `tls` (`{ cert, key, ca }`, e.g. from js/test/lib/tls.mjs) it serves https and its issuer
// is `https://127.0.0.1:PORT`; `token()` then trusts that CA only.
//
// Proof of possession (js/test/lib/pop-bot.mjs obtains such tokens; js/test/pop-idp.test.mjs checks them):
// - `dpop: true`: RFC 9449 (`features.dPoP`; oidc-provider 9 enables it by default, here it is
//   off unless asked for). A token request with a valid `DPoP` proof header (typ dpop+jwt, an
//   ES256 or EdDSA key: `enabledJWA.dPoPSigningAlgValues`' default; htm, htu, iat within 300 s,
//   jti not seen before) gets `token_type: "DPoP"` and a token with `cnf: { jkt }`, the RFC 7638
//   thumbprint of the proof's `jwk`; any client may send one. No nonces (`requireNonce` false).
// - `mtls: true` (needs `tls`): RFC 8705 (`features.mTLS`: certificateBoundAccessTokens,
//   tlsClientAuth). The https server asks for a client certificate (`requestCert`, not
//   `rejectUnauthorized`: the IdP judges it) and the client MTLS_CLIENT_ID authenticates with it
//   (`tls_client_auth`: chained to `tls.ca`, first URI SAN = `mtls.sanUri`, default MTLS_SAN_URI)
//   and gets tokens with `cnf: { "x5t#S256" }`, the base64url SHA-256 of that certificate's DER
//   (`tls_client_certificate_bound_access_tokens`). A DPoP proof from that client is refused:
//   "multiple proof-of-possession mechanisms are not allowed" (invalid_request).
// The bound tokens are otherwise the same RFC 9068 JWTs (`typ: at+jwt`); the token response's
// `token_type` is "DPoP" for a DPoP-bound one and "Bearer" for an mTLS-bound one.
//
// Shared by js/test/idp.test.mjs, js/test/cli-fetch-keys.test.mjs and envoy/tests/idp.test.mjs.

import http from 'node:http';
import https from 'node:https';
import { X509Certificate, generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import Provider from 'oidc-provider';
import * as client from 'openid-client';
import { fetchTrusting } from './tls.mjs';

export const CLIENT_ID = 'orders-bot';
export const CLIENT_SECRET = 'orders-bot-secret-for-tests-only';
/** The resource indicator (RFC 8707) the tokens are for; it becomes their `aud`. */
export const RESOURCE = 'https://orders-api.test';
/** Another resource the IdP knows: its tokens have the wrong audience for the orders API. */
export const OTHER_RESOURCE = 'https://other-api.test';
/** Scopes the resource server knows; the client may ask for any of them. */
export const SCOPES = ['read:orders', 'write:orders'];
/** Default lifetime of the access tokens (`ttl.ClientCredentials`; `idp.ttlSeconds` changes it). */
export const TOKEN_TTL_SECONDS = 20;
/** The JWS algorithms an IdP here signs with (the first is oidc-provider's default). */
export const ALGORITHMS = ['RS256', 'ES256', 'PS256', 'EdDSA'];
/** The kid of the key an IdP signing `alg` starts with. */
export const firstKid = (alg) => `idp-${alg.toLowerCase()}`;
/** The kid of the key the default (RS256) IdP starts with. */
export const FIRST_KID = firstKid('RS256');
/** The client of an `mtls` IdP: authenticates with its certificate (tls_client_auth), gets certificate-bound tokens. */
export const MTLS_CLIENT_ID = 'billing-bot';
/** The URI SAN (a SPIFFE ID) the MTLS_CLIENT_ID's certificate must have, by default. */
export const MTLS_SAN_URI = 'spiffe://example.org/ns/bots/sa/billing';

function listen(server) {
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok(server.address().port));
  });
}

const KEY_TYPES = {
  RS256: ['rsa', { modulusLength: 2048 }],
  PS256: ['rsa', { modulusLength: 2048 }],
  ES256: ['ec', { namedCurve: 'P-256' }],
  EdDSA: ['ed25519', {}],
};

/**
 * A new private signing JWK for `alg`: 2048-bit RSA for RS256 and PS256, P-256, Ed25519. Made off
 * the event loop (an RSA key takes 50–500 ms, which would stall the traffic and the other runs).
 */
async function signingKey(kid, alg) {
  if (!KEY_TYPES[alg]) throw new RangeError(`no signing key for ${alg}: one of ${ALGORITHMS.join(', ')}`);
  const { privateKey } = await promisify(generateKeyPair)(...KEY_TYPES[alg]);
  return { ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
}

/** The client certificate of an mTLS request (Koa's `ctx.socket`: the TLS socket), or undefined. */
function peerCertificate(ctx) {
  const raw = ctx.socket?.getPeerCertificate?.()?.raw;
  return raw ? new X509Certificate(raw) : undefined;
}

/** The URI SANs of a certificate (`subjectAltName`: "URI:a, DNS:b, …"). */
const uriSans = (cert) => (cert.subjectAltName ?? '').split(', ').filter((n) => n.startsWith('URI:')).map((n) => n.slice(4));

/**
 * Starts the IdP (over https with `tls`), signing with a new `alg` key (kid `firstKid(alg)`);
 * `dpop` and `mtls` (`true` or `{ sanUri }`): proof of possession, see the top of this file.
 * Returns `{ issuer, port, alg, tls, mtlsSanUri, firstKid, state, token(scope?, resource?), publish(kids),
 * createKey(kid, alg?), signWith(kid), ttlSeconds, stop() }`. `token` obtains an access token with the
 * client_credentials grant through openid-client (default: every scope, for RESOURCE).
 * `state.configurationRequests` / `state.jwksRequests` count discovery and JWKS requests,
 * `state.published` the kids in the JWKS, `state.signingKid` the key that signs (`state.signingAlg`
 * its algorithm), `state.instances` how many Provider instances were constructed.
 */
export async function startIdp({ alg = 'RS256', ttlSeconds = TOKEN_TTL_SECONDS, tls, dpop = false, mtls = false } = {}) {
  if (!ALGORITHMS.includes(alg)) throw new RangeError(`alg: one of ${ALGORITHMS.join(', ')}`);
  if (mtls && !tls) throw new TypeError('mtls needs tls');
  const sanUri = mtls ? (mtls.sanUri ?? MTLS_SAN_URI) : undefined;
  const keys = new Map();
  const state = {
    configurationRequests: 0,
    jwksRequests: 0,
    ttlSeconds,
    published: [],
    signingKid: firstKid(alg),
    get signingAlg() { return keys.get(this.signingKid)?.alg; },
    instances: 0,
  };
  let callback = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const handle = (req, res) => {
    if (req.url === '/.well-known/openid-configuration') state.configurationRequests += 1;
    if (req.url.startsWith('/jwks')) state.jwksRequests += 1;
    callback(req, res);
  };
  const server = tls
    ? https.createServer({ cert: tls.cert, key: tls.key, ...(mtls ? { ca: tls.ca, requestCert: true, rejectUnauthorized: false } : {}) }, handle)
    : http.createServer(handle);
  const port = await listen(server);
  const issuer = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;

  function build(kids) {
    const provider = new Provider(issuer, {
      jwks: { keys: kids.map((kid) => keys.get(kid)) },
      // The algorithms the Provider may sign with (see the top of this file).
      enabledJWA: { idTokenSigningAlgValues: [...ALGORITHMS] },
      scopes: ['openid', ...SCOPES],
      // The default methods, and tls_client_auth for the mTLS client (features.mTLS.tlsClientAuth alone does not add it).
      ...(mtls ? { clientAuthMethods: ['client_secret_basic', 'client_secret_jwt', 'client_secret_post', 'private_key_jwt', 'none', 'tls_client_auth'] } : {}),
      // Read for every token: `exp` = `iat` + this.
      ttl: { ClientCredentials: () => state.ttlSeconds },
      clients: [
        {
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
          grant_types: ['client_credentials'],
          redirect_uris: [],
          response_types: [],
          token_endpoint_auth_method: 'client_secret_basic',
          // Must be an algorithm of a published key (the default, RS256, is not with an EC key):
          // else "id_token_signed_response_alg must not be provided" refuses every grant.
          id_token_signed_response_alg: state.signingAlg,
          scope: SCOPES.join(' '),
        },
        ...(mtls ? [{
          client_id: MTLS_CLIENT_ID,
          grant_types: ['client_credentials'],
          redirect_uris: [],
          response_types: [],
          token_endpoint_auth_method: 'tls_client_auth',
          tls_client_auth_san_uri: sanUri,
          tls_client_certificate_bound_access_tokens: true,
          id_token_signed_response_alg: state.signingAlg,
          scope: SCOPES.join(' '),
        }] : []),
      ],
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        dPoP: { enabled: Boolean(dpop) },
        ...(mtls ? {
          mTLS: {
            enabled: true,
            certificateBoundAccessTokens: true,
            tlsClientAuth: true,
            getCertificate: peerCertificate,
            // Chained to tls.ca (the server's `ca`; rejectUnauthorized is off, so it is checked here).
            certificateAuthorized: (ctx) => ctx.socket.authorized === true,
            certificateSubjectMatches: (ctx, property, expected) =>
              property === 'tls_client_auth_san_uri' && uriSans(peerCertificate(ctx))[0] === expected,
          },
        } : {}),
        resourceIndicators: {
          enabled: true,
          defaultResource: () => RESOURCE,
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx, resourceIndicator) => {
            if (resourceIndicator !== RESOURCE && resourceIndicator !== OTHER_RESOURCE) {
              throw new Provider.errors.InvalidTarget();
            }
            return {
              scope: SCOPES.join(' '),
              audience: resourceIndicator,
              accessTokenFormat: 'jwt',
              // The published key that signs (oidc-provider selects it by alg and kid from its keystore).
              jwt: { sign: { alg: state.signingAlg, kid: state.signingKid } },
            };
          },
        },
      },
    });
    // Plain http on loopback: oidc-provider refuses non-https issuers only for some checks; there
    // is no proxy in front.
    provider.on('server_error', (_ctx, error) => {
      console.error('oidc-provider server_error:', error);
    });
    state.instances += 1;
    return provider.callback();
  }

  /**
   * Publishes exactly `kids` (each made by `createKey` first) in the JWKS: a new Provider instance
   * with that `jwks`, swapped in behind the same socket.
   */
  function publish(kids) {
    if (kids.length === 0) throw new Error('an IdP publishes at least one key');
    if (!kids.includes(state.signingKid)) throw new Error(`the signing key ${state.signingKid} must stay published`);
    for (const kid of kids) if (!keys.has(kid)) throw new Error(`no key ${kid}: createKey first`);
    callback = build(kids);
    state.published = [...kids];
  }

  /**
   * Creates the key `kid` for `keyAlg` (default: the IdP's `alg`) without publishing it; resolves
   * once it exists. A kid names one key: asking again for another alg is an error.
   */
  async function createKey(kid, keyAlg = alg) {
    if (!keys.has(kid)) keys.set(kid, await signingKey(kid, keyAlg));
    if (keys.get(kid).alg !== keyAlg) throw new Error(`${kid} is a ${keys.get(kid).alg} key`);
  }

  /** Signs the next tokens with the published key `kid`. */
  function signWith(kid) {
    if (!state.published.includes(kid)) throw new Error(`${kid} is not published`);
    state.signingKid = kid;
  }

  try {
    await createKey(state.signingKid);
    publish([state.signingKid]);
  } catch (error) {
    server.close();
    throw error;
  }

  let configuration;
  async function token(scope = SCOPES.join(' '), resource = RESOURCE) {
    configuration ??= await client.discovery(
      new URL(issuer),
      CLIENT_ID,
      CLIENT_SECRET,
      undefined,
      tls ? { [client.customFetch]: fetchTrusting(tls) } : { execute: [client.allowInsecureRequests] },
    );
    const grant = await client.clientCredentialsGrant(configuration, { scope, resource });
    return grant.access_token;
  }

  const stop = () => new Promise((ok) => {
    server.closeAllConnections?.();
    server.close(() => ok());
  });
  return {
    issuer,
    port,
    alg,
    tls,
    mtlsSanUri: sanUri,
    firstKid: firstKid(alg),
    state,
    token,
    publish,
    createKey,
    signWith,
    get ttlSeconds() { return state.ttlSeconds; },
    set ttlSeconds(seconds) { state.ttlSeconds = seconds; },
    stop,
  };
}
