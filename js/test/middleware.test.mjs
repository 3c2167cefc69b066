// middleware(verifier) on a real node:http server, requests over loopback.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Verifier, middleware, createRemoteJwks } from '../index.mjs';
import { NOW, ISSUER, AUDIENCE, keyPair, mint, claims, policy } from './helpers.mjs';

const key = keyPair('ES256', 'k1');
const servers = [];

// A bot behind the middleware: answers 200 with who called, as the middleware left it on req.auth.
async function listen(mw) {
  const server = http.createServer((req, res) => {
    mw(req, res, (error) => {
      if (error) {
        res.statusCode = 500;
        res.end('handler error');
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ auth: req.auth ?? null }));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return `http://127.0.0.1:${server.address().port}`;
}

after(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function call(base, method, path, token) {
  const headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const response = await fetch(base + path, { method, headers });
  const text = await response.text();
  return {
    status: response.status,
    challenge: response.headers.get('www-authenticate'),
    retryAfter: response.headers.get('retry-after'),
    type: response.headers.get('content-type'),
    text,
    json: text ? JSON.parse(text) : null,
  };
}

describe('middleware on node:http', () => {
  let base;
  before(async () => {
    base = await listen(middleware(new Verifier(policy([key.jwk])), { now: () => NOW }));
  });

  test('a public route needs no token', async () => {
    const r = await call(base, 'GET', '/healthz');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { auth: null });
  });

  test('a valid token with the scope reaches the handler, with req.auth', async () => {
    const r = await call(base, 'GET', '/orders/42', mint(key, claims()));
    assert.equal(r.status, 200);
    assert.equal(r.json.auth.provider, 'corp-idp');
    assert.equal(r.json.auth.claims.sub, 'bot-7');
    assert.deepEqual(r.json.auth.scopes, ['read:orders']);
  });

  test('no token: 401 with a bare Bearer challenge', async () => {
    const r = await call(base, 'GET', '/orders/42');
    assert.equal(r.status, 401);
    assert.equal(r.challenge, 'Bearer realm="edgeward"');
    assert.equal(r.type, 'application/json');
    assert.deepEqual(r.json, { error: 'unauthorized', code: 'ERR_JWT_MISSING' });
  });

  test('bad tokens: 401 invalid_token, the token never echoed', async () => {
    const cases = [
      [mint(key, claims({ exp: NOW - 600, iat: NOW - 900 })), 'ERR_JWT_EXPIRED'],
      [mint(keyPair('ES256', 'k1'), claims()), 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
      [mint(key, claims({ aud: 'someone-else' })), 'ERR_JWT_CLAIM_VALIDATION_FAILED'],
      ['not-a-token', 'ERR_JWT_INVALID'],
    ];
    for (const [token, code] of cases) {
      const r = await call(base, 'GET', '/orders/1', token);
      assert.equal(r.status, 401, code);
      assert.equal(r.challenge, 'Bearer realm="edgeward", error="invalid_token"');
      assert.deepEqual(r.json, { error: 'invalid_token', code });
      assert.ok(!r.text.includes(token) && !(r.challenge ?? '').includes(token));
    }
  });

  test('a valid token without the route\'s scope: 403 insufficient_scope with the scope hint', async () => {
    const r = await call(base, 'POST', '/orders/42/status', mint(key, claims()));
    assert.equal(r.status, 403);
    assert.equal(r.challenge, 'Bearer realm="edgeward", error="insufficient_scope", scope="write:order_status"');
    assert.deepEqual(r.json, { error: 'insufficient_scope', code: 'ERR_SCOPE_INSUFFICIENT' });
  });

  test('no rule matches (or the path is not normal): 403 without a challenge', async () => {
    for (const path of ['/admin', '/orders/%2e%2e/admin']) {
      const r = await call(base, 'GET', path, mint(key, claims()));
      assert.equal(r.status, 403, path);
      assert.equal(r.challenge, null);
      assert.deepEqual(r.json, { error: 'forbidden', code: 'ERR_ROUTE_DENIED' });
    }
  });

  test('Express-style mounting: originalUrl decides', async () => {
    const mw = middleware(new Verifier(policy([key.jwk])), { now: () => NOW });
    const req = { method: 'GET', url: '/42', originalUrl: '/orders/42', headers: { authorization: `Bearer ${mint(key, claims())}` } };
    let nextCalls = 0;
    mw(req, {}, () => nextCalls++);
    assert.equal(nextCalls, 1);
    assert.equal(req.auth.claims.sub, 'bot-7');
  });

  test('bad arguments are programming errors', () => {
    assert.throws(() => middleware({}), TypeError);
    assert.throws(() => middleware(new Verifier(policy([key.jwk])), { now: 5 }), TypeError);
  });
});

describe('middleware with a remote JWKS', () => {
  test('503 with Retry-After while the IdP is down; then keys arrive and requests pass', async () => {
    let up = false;
    const idp = http.createServer((req, res) => {
      res.writeHead(up ? 200 : 502, { 'content-type': 'application/json' });
      res.end(up ? JSON.stringify({ keys: [key.jwk] }) : '');
    });
    await new Promise((resolve) => idp.listen(0, '127.0.0.1', resolve));
    servers.push(idp);
    const verifier = new Verifier({
      providers: { idp: { issuer: ISSUER, audiences: [AUDIENCE], remote_jwks: { uri: 'https://idp.invalid/jwks' } } },
      rules: [{ match: { prefix: '/' }, requires: { provider_name: 'idp', scopes: ['read:orders'] } }],
    });
    const remote = createRemoteJwks(verifier, 'idp', `http://127.0.0.1:${idp.address().port}/`, { cooldownDuration: 0 });
    const base = await listen(middleware(verifier, { now: () => NOW }));
    const token = mint(key, claims());

    const down = await call(base, 'GET', '/x', token);
    assert.equal(down.status, 503);
    assert.equal(down.retryAfter, '5');
    assert.equal(down.challenge, null);
    assert.deepEqual(down.json, { error: 'temporarily_unavailable', code: 'ERR_JWKS_UNAVAILABLE' });

    // The first fetch failed: ready rejects; the background retry comes after 1 s.
    await assert.rejects(remote.ready, (error) => error.code === 'ERR_JWKS_UNAVAILABLE');
    up = true;
    assert.equal((await call(base, 'GET', '/x', token)).status, 503, 'within the backoff: no fetch, still 503');
    await new Promise((resolve) => setTimeout(resolve, remote.retryIn + 300));
    const ok = await call(base, 'GET', '/x', token);
    assert.equal(ok.status, 200);
    assert.equal(ok.json.auth.claims.sub, 'bot-7');
    remote.close();
  });
});
