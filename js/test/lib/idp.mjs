// A real identity provider for tests: `oidc-provider` (the certified OpenID Provider for Node) on
// 127.0.0.1, with one `client_credentials` client and a resource server, so that it issues RFC 9068
// JWT access tokens (`typ: at+jwt`, `client_id`, `scope`, `aud`, `iat`, `exp`) signed RS256 with a
// 2048-bit key it publishes at the `jwks_uri` of its discovery document. Tokens are obtained with
// `openid-client` (discovery, then the client_credentials grant), as a bot would (js/test/lib/bot.mjs).
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
// published key signs is the resource server's `jwt.sign.kid` (read for every token request), so
// `signWith(kid)` switches signing without a new instance.
//
// With `tls` (`{ cert, key, ca }`, e.g. from js/test/lib/tls.mjs) it serves https and its issuer
// is `https://127.0.0.1:PORT`; `token()` then trusts that CA only.
//
// Shared by js/test/idp.test.mjs, js/test/cli-fetch-keys.test.mjs and envoy/tests/idp.test.mjs.

import http from 'node:http';
import https from 'node:https';
import { generateKeyPairSync } from 'node:crypto';
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
/** The kid of the key the IdP starts with. */
export const FIRST_KID = 'idp-rs256';

function listen(server) {
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok(server.address().port));
  });
}

function rsaSigningKey(kid) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
}

/**
 * Starts the IdP (over https with `tls`). Returns `{ issuer, port, state, token(scope?, resource?), publish(kids),
 * createKey(kid), signWith(kid), ttlSeconds, stop() }`. `token` obtains an access token with the
 * client_credentials grant through openid-client (default: every scope, for RESOURCE).
 * `state.configurationRequests` / `state.jwksRequests` count discovery and JWKS requests,
 * `state.published` the kids in the JWKS, `state.signingKid` the key that signs,
 * `state.instances` how many Provider instances were constructed.
 */
export async function startIdp({ ttlSeconds = TOKEN_TTL_SECONDS, tls } = {}) {
  const state = {
    configurationRequests: 0,
    jwksRequests: 0,
    ttlSeconds,
    published: [],
    signingKid: FIRST_KID,
    instances: 0,
  };
  const keys = new Map();
  let callback = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const handle = (req, res) => {
    if (req.url === '/.well-known/openid-configuration') state.configurationRequests += 1;
    if (req.url.startsWith('/jwks')) state.jwksRequests += 1;
    callback(req, res);
  };
  const server = tls ? https.createServer({ cert: tls.cert, key: tls.key }, handle) : http.createServer(handle);
  const port = await listen(server);
  const issuer = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;

  function build(kids) {
    const provider = new Provider(issuer, {
      jwks: { keys: kids.map((kid) => keys.get(kid)) },
      scopes: ['openid', ...SCOPES],
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
          scope: SCOPES.join(' '),
        },
      ],
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
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
              // The published key that signs (oidc-provider selects it by kid from its keystore).
              jwt: { sign: { alg: 'RS256', kid: state.signingKid } },
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
   * Publishes exactly `kids` in the JWKS (creating a 2048-bit RSA key for a kid not seen before):
   * a new Provider instance with that `jwks`, swapped in behind the same socket.
   */
  function publish(kids) {
    if (kids.length === 0) throw new Error('an IdP publishes at least one key');
    if (!kids.includes(state.signingKid)) throw new Error(`the signing key ${state.signingKid} must stay published`);
    for (const kid of kids) if (!keys.has(kid)) keys.set(kid, rsaSigningKey(kid));
    callback = build(kids);
    state.published = [...kids];
  }

  /** Creates the key `kid` without publishing it (RSA key generation takes a while). */
  function createKey(kid) {
    if (!keys.has(kid)) keys.set(kid, rsaSigningKey(kid));
  }

  /** Signs the next tokens with the published key `kid`. */
  function signWith(kid) {
    if (!state.published.includes(kid)) throw new Error(`${kid} is not published`);
    state.signingKid = kid;
  }

  publish([FIRST_KID]);

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
