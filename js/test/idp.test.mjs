// A real identity provider (oidc-provider, js/test/lib/idp.mjs) behind createRemoteJwks with
// `remote_jwks.discovery: true`: its own discovery document gives the jwks_uri, and the RS256
// RFC 9068 access tokens it issues by client_credentials (obtained with openid-client) go through
// the middleware: allowed with the scopes, 403 under-scoped, 401 for another audience.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Verifier, middleware, createRemoteJwks } from '../index.mjs';
import { startIdp, CLIENT_ID, RESOURCE } from './lib/idp.mjs';

describe('oidc-provider through discovery', () => {
  let idp;
  let verifier;
  let remote;
  let server;
  let base;

  before(async () => {
    idp = await startIdp();
    verifier = new Verifier({
      providers: {
        idp: {
          issuer: idp.issuer,
          audiences: [RESOURCE],
          algorithms: ['RS256'],
          token_types: ['at+jwt'],
          required_claims: ['client_id'],
          remote_jwks: { discovery: true },
        },
      },
      rules: [
        { match: { prefix: '/orders', methods: ['GET'] }, requires: { provider_name: 'idp', scopes: ['read:orders'] } },
        { match: { prefix: '/orders' }, requires: { provider_name: 'idp', scopes: ['write:orders'] } },
      ],
    });
    remote = createRemoteJwks(verifier, 'idp');
    const guard = middleware(verifier);
    server = http.createServer((req, res) =>
      guard(req, res, () => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ client_id: req.auth?.claims.client_id, scopes: req.auth?.scopes }));
      }),
    );
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${server.address().port}`;
  });

  after(async () => {
    remote?.close();
    server?.closeAllConnections?.();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
    await idp?.stop();
  });

  const call = (method, path, token) =>
    fetch(`${base}${path}`, { method, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });

  test('the keys come from the jwks_uri of its real discovery document', async () => {
    assert.equal(await remote.ready, 1);
    assert.equal(remote.discoveryUri, `${idp.issuer}/.well-known/openid-configuration`);
    const document = await (await fetch(remote.discoveryUri)).json();
    assert.equal(remote.uri, document.jwks_uri);
    assert.equal(verifier.keyCount('idp'), 1);
  });

  test('it issues RFC 9068 JWT access tokens, RS256 with a 2048-bit key', async () => {
    const token = await idp.token();
    const [header, claims] = token.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url')));
    assert.equal(header.alg, 'RS256');
    assert.equal(header.typ, 'at+jwt');
    assert.equal(claims.client_id, CLIENT_ID);
    assert.equal(claims.aud, RESOURCE);
    assert.ok(Number.isInteger(claims.iat) && claims.exp - claims.iat <= 3600, 'iat present, within the default lifetime bound');
    const { keys } = await (await fetch(remote.uri)).json();
    assert.equal(Buffer.from(keys.find((k) => k.kid === header.kid).n, 'base64url').length * 8, 2048);
    const verified = await remote.verify(token, { scopes: ['read:orders'] });
    assert.deepEqual(verified.scopes, ['read:orders', 'write:orders']);
  });

  test('a token with the scopes is allowed through the middleware', async () => {
    const res = await call('GET', '/orders/7', await idp.token('read:orders'));
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { client_id: CLIENT_ID, scopes: ['read:orders'] });
    assert.equal((await call('POST', '/orders', await idp.token())).status, 200);
  });

  test('an under-scoped token is 403', async () => {
    const res = await call('POST', '/orders', await idp.token('read:orders'));
    assert.equal(res.status, 403);
    assert.match(res.headers.get('www-authenticate') ?? '', /insufficient_scope/);
  });

  test('a token for another resource (audience) is 401', async () => {
    const res = await call('GET', '/orders/7', await idp.token('read:orders', 'https://other-api.test'));
    assert.equal(res.status, 401);
    assert.equal((await call('GET', '/orders/7')).status, 401, 'and no token is 401');
  });
});
