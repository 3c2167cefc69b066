// A real identity provider for tests: `oidc-provider` (the certified OpenID Provider for Node) on
// 127.0.0.1, with one `client_credentials` client and a resource server, so that it issues RFC 9068
// JWT access tokens (`typ: at+jwt`, `client_id`, `scope`, `aud`, `iat`, `exp`) signed RS256 with a
// 2048-bit key it publishes at the `jwks_uri` of its discovery document. Tokens are obtained with
// `openid-client` (discovery, then the client_credentials grant), as a bot would.
//
// Shared by js/test/idp.test.mjs and envoy/tests/idp.test.mjs.

import http from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';
import * as client from 'openid-client';

export const CLIENT_ID = 'orders-bot';
export const CLIENT_SECRET = 'orders-bot-secret-for-tests-only';
/** The resource indicator (RFC 8707) the tokens are for; it becomes their `aud`. */
export const RESOURCE = 'https://orders-api.test';
/** Scopes the resource server knows; the client may ask for any of them. */
export const SCOPES = ['read:orders', 'write:orders'];
/** Lifetime of the access tokens (within the policy's default one-hour bound). */
export const TOKEN_TTL_SECONDS = 600;

function listen(server) {
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok(server.address().port));
  });
}

/**
 * Starts the IdP. Returns `{ issuer, port, token(scope?, resource?), stop() }`; `token` obtains an
 * access token with the client_credentials grant through openid-client (default: every scope, for
 * RESOURCE). `state.configurationRequests` counts discovery-document requests.
 */
export async function startIdp() {
  const state = { configurationRequests: 0, jwksRequests: 0 };
  let handler = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const server = http.createServer((req, res) => {
    if (req.url === '/.well-known/openid-configuration') state.configurationRequests += 1;
    handler(req, res);
  });
  const port = await listen(server);
  const issuer = `http://127.0.0.1:${port}`;

  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'idp-rs256', alg: 'RS256', use: 'sig' };
  const provider = new Provider(issuer, {
    jwks: { keys: [signingKey] },
    scopes: ['openid', ...SCOPES],
    ttl: { ClientCredentials: TOKEN_TTL_SECONDS },
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
          if (resourceIndicator !== RESOURCE && resourceIndicator !== 'https://other-api.test') {
            throw new Provider.errors.InvalidTarget();
          }
          return {
            scope: SCOPES.join(' '),
            audience: resourceIndicator,
            accessTokenTTL: TOKEN_TTL_SECONDS,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
  });
  // Plain http on loopback: oidc-provider refuses non-https issuers only for some checks; there is
  // no proxy in front.
  provider.on('server_error', (_ctx, error) => {
    console.error('oidc-provider server_error:', error);
  });
  const callback = provider.callback();
  handler = (req, res) => {
    if (req.url.startsWith('/jwks')) state.jwksRequests += 1;
    callback(req, res);
  };

  let configuration;
  async function token(scope = SCOPES.join(' '), resource = RESOURCE) {
    configuration ??= await client.discovery(new URL(issuer), CLIENT_ID, CLIENT_SECRET, undefined, {
      execute: [client.allowInsecureRequests],
    });
    const grant = await client.clientCredentialsGrant(configuration, { scope, resource });
    return grant.access_token;
  }

  const stop = () => new Promise((ok) => {
    server.closeAllConnections?.();
    server.close(() => ok());
  });
  return { issuer, port, state, token, stop };
}
