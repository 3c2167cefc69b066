// Express 5 for real (127.0.0.1): the per-route guards (authenticate, requireScopes,
// requireClaims, requirePeers), DPoP and client certificates through the guards on HTTPS, the rule-driven middleware inside a router mounted
// under a prefix (decided on req.originalUrl), Express's case-insensitive and non-strict routing
// against the policy's exact matching, onRefusal, bearerToken, and next(err) only for failures.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Verifier, authenticate, requireScopes, requireClaims, requirePeers, middleware } from '../index.mjs';
import { NOW, keyPair, mint, claims, policy } from './helpers.mjs';
import { makeCa, makeCertificates, makeClientCertificate } from './lib/tls.mjs';
import { dpopKey, makeProof } from '../../tests/fixtures/dpop.mjs';

const express = createRequire(import.meta.url)('express');
const key = keyPair('ES256', 'k1');
const bot = dpopKey();
const servers = [];
let dir;
let tls;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'edgeward-express-'));
  tls = makeCertificates(dir);
});

after(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function listen(app, options) {
  const server = options === undefined ? http.createServer(app) : https.createServer(options, app);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return `${options === undefined ? 'http' : 'https'}://127.0.0.1:${server.address().port}`;
}

/**
 * One request on its own connection (presenting `cert`, a client certificate, if given): status,
 * WWW-Authenticate, content type, body (JSON if it is).
 */
function call(base, path, { method = 'GET', headers = {}, cert } = {}) {
  const url = new URL(path, base);
  const client = url.protocol === 'https:' ? https : http;
  const certificate = cert === undefined ? {} : { cert: cert.cert, key: cert.key };
  return new Promise((resolve, reject) => {
    const request = client.request(url, { method, headers, agent: false, ca: tls.ca, ...certificate }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => {
        let body = text;
        try {
          body = JSON.parse(text);
        } catch {}
        resolve({ status: response.statusCode, challenge: response.headers['www-authenticate'], type: response.headers['content-type'], body });
      });
    });
    request.on('error', reject);
    request.end();
  });
}

const bearer = (token) => ({ authorization: `Bearer ${token}` });
const who = (req, res) => res.json({ sub: req.auth?.claims.sub ?? null, scopes: req.auth?.scopes ?? null, url: req.url });
// An error handler that says it ran (next(err) must reach it only for failures).
const errors = (error, req, res, next) => {
  void next;
  res.status(500).json({ handlerError: error.message });
};

describe('guards per handler (Express 5)', () => {
  let base;
  const verifier = new Verifier(policy([key.jwk]));
  before(async () => {
    const app = express();
    const auth = authenticate(verifier, { now: () => NOW });
    app.get('/orders', auth, requireScopes('read:orders'), who);
    app.post('/orders', auth, requireScopes('write:orders', 'read:orders'), who);
    app.get('/billing', auth, requireClaims({ client_id: ['billing-bot'] }), who);
    app.get('/unguarded-scope', requireScopes('read:orders'), who);
    // A handler between the guards that rewrites req.auth widens nothing: the guards check what
    // the core verified.
    const widen = (req, res, next) => {
      req.auth.scopes = ['read:orders', 'write:orders'];
      req.auth.claims = { ...req.auth.claims, client_id: 'billing-bot' };
      next();
    };
    app.get('/rewritten', auth, widen, requireScopes('write:orders'), who);
    app.get('/rewritten-claims', auth, widen, requireClaims({ client_id: ['billing-bot'] }), who);
    app.get('/forged', (req, res, next) => {
      req.auth = { provider: 'corp-idp', header: {}, claims: { sub: 'x' }, scopes: ['read:orders'] };
      next();
    }, requireScopes('read:orders'), who);
    app.get('/shaped', authenticate(verifier, { now: () => NOW, onRefusal: (error) => ({ message: 'no entry', code: error.code }) }), who);
    app.get('/text', authenticate(verifier, { now: () => NOW, onRefusal: () => 'go away' }), who);
    app.get('/token', (req, res) => {
      const token = verifier.bearerToken(req);
      if (token === undefined) return res.status(401).json({ none: true });
      const result = verifier.verify(token, { now: NOW, scopes: ['read:orders'] });
      return res.json({ sub: result.claims.sub });
    });
    app.get('/fails', authenticate(verifier, { now: () => NOW, onDecision: () => { throw new Error('audit sink down'); } }), who);
    app.use(errors);
    base = await listen(app);
  });

  test('a token with the scope reaches the handler, req.auth set', async () => {
    const r = await call(base, '/orders', { headers: bearer(mint(key, claims())) });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { sub: 'bot-7', scopes: ['read:orders'], url: '/orders' });
  });

  test('no token: 401 with the core challenge and body', async () => {
    const r = await call(base, '/orders');
    assert.equal(r.status, 401);
    assert.equal(r.challenge, 'Bearer realm="edgeward"');
    assert.equal(r.body.code, 'ERR_JWT_MISSING');
  });

  test('an expired or foreign-signed token: 401 with invalid_token', async () => {
    const expired = await call(base, '/orders', { headers: bearer(mint(key, claims({ exp: NOW - 3600, iat: NOW - 4000 }))) });
    assert.equal(expired.status, 401);
    assert.match(expired.challenge, /error="invalid_token"/);
    const other = await call(base, '/orders', { headers: bearer(mint(keyPair('ES256', 'k1'), claims())) });
    assert.equal(other.status, 401);
    assert.equal(other.body.code, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  });

  test('a missing scope: 403 insufficient_scope naming the scopes', async () => {
    const r = await call(base, '/orders', { method: 'POST', headers: bearer(mint(key, claims())) });
    assert.equal(r.status, 403);
    assert.equal(r.challenge, 'Bearer realm="edgeward", error="insufficient_scope", scope="write:orders read:orders"');
    assert.equal(r.body.code, 'ERR_SCOPE_INSUFFICIENT');
  });

  test('requireClaims: admitted client_id passes, another is 403 ERR_PRINCIPAL_DENIED', async () => {
    const ok = await call(base, '/billing', { headers: bearer(mint(key, claims({ client_id: 'billing-bot' }))) });
    assert.equal(ok.status, 200);
    const no = await call(base, '/billing', { headers: bearer(mint(key, claims({ client_id: 'report-bot' }))) });
    assert.equal(no.status, 403);
    assert.equal(no.body.code, 'ERR_PRINCIPAL_DENIED');
  });

  test('requireScopes without a guard before it: 401 (no verified token), even with a token header', async () => {
    const r = await call(base, '/unguarded-scope', { headers: bearer(mint(key, claims())) });
    assert.equal(r.status, 401);
    assert.equal(r.body.code, 'ERR_JWT_MISSING');
  });

  test('a req.auth rewritten between the guards, or made by hand, is not what they check', async () => {
    const token = bearer(mint(key, claims({ client_id: 'report-bot' })));
    const scoped = await call(base, '/rewritten', { headers: token });
    assert.deepEqual([scoped.status, scoped.body.code], [403, 'ERR_SCOPE_INSUFFICIENT']);
    const claimed = await call(base, '/rewritten-claims', { headers: token });
    assert.deepEqual([claimed.status, claimed.body.code], [403, 'ERR_PRINCIPAL_DENIED']);
    const forged = await call(base, '/forged', { headers: token });
    assert.deepEqual([forged.status, forged.body.code], [401, 'ERR_JWT_MISSING']);
  });

  test('onRefusal shapes the body; status and WWW-Authenticate stay the core\'s', async () => {
    const r = await call(base, '/shaped');
    assert.equal(r.status, 401);
    assert.equal(r.challenge, 'Bearer realm="edgeward"');
    assert.match(r.type, /^application\/json/);
    assert.deepEqual(r.body, { message: 'no entry', code: 'ERR_JWT_MISSING' });
    const text = await call(base, '/text', { headers: bearer('not.a.token') });
    assert.equal(text.status, 401);
    assert.match(text.challenge, /invalid_token/);
    assert.match(text.type, /^text\/plain/);
    assert.equal(text.body, 'go away');
  });

  test('bearerToken finds the token as from_headers do, for verify()', async () => {
    const token = mint(key, claims());
    assert.equal((await call(base, '/token', { headers: bearer(token) })).body.sub, 'bot-7');
    assert.equal((await call(base, '/token', { headers: { authorization: `bearer ${token}` } })).status, 200, 'the scheme is case-insensitive');
    assert.equal((await call(base, '/token', { headers: { authorization: `Basic ${token}` } })).status, 401);
    assert.equal((await call(base, '/token')).status, 401);
  });

  test('a failure that is no refusal goes to next(err)', async () => {
    const r = await call(base, '/fails', { headers: bearer(mint(key, claims())) });
    assert.equal(r.status, 500);
    assert.equal(r.body.handlerError, 'audit sink down');
  });

  test('options are checked when the guard is made', () => {
    assert.throws(() => requireScopes(), TypeError);
    assert.throws(() => requireScopes('two words'), TypeError);
    assert.throws(() => requireClaims({ client_id: [] }), /guard\.claims\.client_id/);
    assert.throws(() => requireClaims({ client_id: [{}] }), /string, number or boolean/);
    assert.throws(() => authenticate(verifier, { provider: 'nobody' }), TypeError);
    assert.throws(() => authenticate(verifier, { onRefusal: 'x' }), TypeError);
  });
});

describe('DPoP through a guard on Express over HTTPS', () => {
  let base;
  before(async () => {
    const app = express();
    app.get('/orders/:id', authenticate(new Verifier(policy([key.jwk])), { now: () => NOW }), requireScopes('read:orders'), who);
    base = await listen(app, { key: tls.key, cert: tls.cert });
  });

  test('a DPoP-bound token with its proof passes once; the replay and a bearer use are refused', async () => {
    const token = mint(key, claims({ cnf: { jkt: bot.jkt } }));
    const htu = `${base}/orders/1`;
    const proof = makeProof({ key: bot.privateKey, htm: 'GET', htu, token, iat: NOW });
    const headers = { authorization: `DPoP ${token}`, dpop: proof };
    assert.equal((await call(base, '/orders/1', { headers })).status, 200);
    const replayed = await call(base, '/orders/1', { headers });
    assert.equal(replayed.status, 401);
    assert.equal(replayed.body.code, 'ERR_DPOP_REPLAYED');
    assert.match(replayed.challenge, /^DPoP realm="edgeward", error="invalid_dpop_proof"/);
    const asBearer = await call(base, '/orders/1', { headers: bearer(token) });
    assert.equal(asBearer.status, 401);
    const wrongUrl = makeProof({ key: bot.privateKey, htm: 'GET', htu: `${base}/orders/2`, token, iat: NOW });
    assert.equal((await call(base, '/orders/1', { headers: { authorization: `DPoP ${token}`, dpop: wrongUrl } })).status, 401);
  });
});

describe('client certificates through the guards on Express over HTTPS (mutual TLS)', () => {
  const BILLING = 'spiffe://example.org/ns/bots/sa/billing';
  const certs = {};
  let base;
  before(async () => {
    certs.billing = makeClientCertificate(dir, tls, { name: 'billing-bot', uriSans: [BILLING] });
    certs.audit = makeClientCertificate(dir, tls, { name: 'audit-bot', uriSans: ['spiffe://example.org/ns/bots/sa/audit'] });
    // The right SPIFFE ID from a CA the server does not trust: no peer at all.
    certs.rogue = makeClientCertificate(dir, makeCa(dir, { name: 'rogue CA', file: 'rogue-ca' }), { name: 'billing-bot', uriSans: [BILLING] });
    const app = express();
    const auth = authenticate(new Verifier(policy([key.jwk])), { now: () => NOW });
    app.get('/bound', auth, requireScopes('read:orders'), who);
    app.get('/ledger', auth, requirePeers(BILLING), requireScopes('read:orders'), who);
    app.get('/peer-first', requirePeers(BILLING), who);
    base = await listen(app, { key: tls.key, cert: tls.cert, ca: tls.ca, requestCert: true, rejectUnauthorized: false });
  });

  test('a certificate-bound token passes with its certificate only', async () => {
    const bound = bearer(mint(key, claims({ cnf: { 'x5t#S256': certs.billing.x5tS256 } })));
    assert.equal((await call(base, '/bound', { headers: bound, cert: certs.billing })).status, 200);
    const other = await call(base, '/bound', { headers: bound, cert: certs.audit });
    assert.deepEqual([other.status, other.body.code], [401, 'ERR_MTLS_BINDING_MISMATCH']);
    const none = await call(base, '/bound', { headers: bound });
    assert.deepEqual([none.status, none.body.code], [401, 'ERR_POP_MISSING']);
  });

  test('requirePeers: only a CA-verified certificate naming the peer passes', async () => {
    const token = bearer(mint(key, claims()));
    const ok = await call(base, '/ledger', { headers: token, cert: certs.billing });
    assert.deepEqual([ok.status, ok.body.sub], [200, claims().sub]);
    for (const [what, cert] of [['another peer', certs.audit], ['an untrusted CA', certs.rogue], ['no certificate', undefined]]) {
      const r = await call(base, '/ledger', { headers: token, cert });
      assert.deepEqual([r.status, r.body.code], [403, 'ERR_PEER_DENIED'], what);
    }
    // The peer alone is no token: without authenticate before it, 401.
    const alone = await call(base, '/peer-first', { headers: token, cert: certs.billing });
    assert.deepEqual([alone.status, alone.body.code], [401, 'ERR_JWT_MISSING']);
    assert.throws(() => requirePeers('not a uri'), /guard\.peers\[0\]/);
    assert.throws(() => requirePeers(), TypeError);
  });
});

describe('the rule-driven middleware in a router mounted under a prefix', () => {
  let base;
  before(async () => {
    // `/orders` is public and `/api/orders` protected: a middleware deciding on the rewritten
    // req.url (`/orders`) would let /api/orders through without a token.
    const doc = policy([key.jwk]);
    doc.rules = [
      { match: { prefix: '/orders' } },
      { match: { prefix: '/api/public' } },
      { match: { prefix: '/api/orders', methods: ['GET'] }, requires: { provider_name: 'corp-idp', scopes: ['read:orders'] } },
    ];
    const verifier = new Verifier(doc);
    const app = express();
    const api = express.Router();
    api.use(middleware(verifier, { now: () => NOW }));
    api.get('/orders', who);
    api.get('/public', who);
    api.get('/admin', who);
    app.use('/api', api);
    base = await listen(app);
  });

  test('decided on req.originalUrl: /api/orders needs its token although req.url is /orders', async () => {
    const none = await call(base, '/api/orders');
    assert.equal(none.status, 401);
    const ok = await call(base, '/api/orders', { headers: bearer(mint(key, claims())) });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.url, '/orders', 'the handler sees the router-relative URL');
    assert.equal((await call(base, '/api/public')).status, 200);
  });

  test('a path no rule matches never reaches its handler', async () => {
    const r = await call(base, '/api/admin', { headers: bearer(mint(key, claims())) });
    assert.equal(r.status, 403);
    assert.equal(r.body.code, 'ERR_ROUTE_DENIED');
  });
});

describe("Express's case-insensitive, non-strict routing against the policy's exact rules", () => {
  let base;
  let told;
  const ran = [];
  before(async () => {
    const doc = policy([key.jwk]);
    doc.rules = [
      { match: { path: '/orders', methods: ['GET'] }, requires: { provider_name: 'corp-idp', scopes: ['read:orders'] } },
      { match: { path: '/status' } },
    ];
    const app = (options) => {
      const one = express();
      one.use(middleware(new Verifier(doc), { now: () => NOW, ...options }));
      one.get('/orders', (req, res) => { ran.push(req.originalUrl); who(req, res); });
      one.get('/status', (req, res) => { ran.push(req.originalUrl); res.json({ up: true }); });
      return one;
    };
    base = await listen(app());
    // Told (wrongly) that the app routes case-sensitively.
    told = await listen(app({ caseSensitive: true }));
  });

  test('/ORDERS routes to /orders in Express: the middleware folds case too, so it needs the token', async () => {
    assert.equal((await call(base, '/ORDERS')).status, 401);
    assert.equal((await call(base, '/Orders', { headers: bearer(mint(key, claims())) })).status, 200);
  });

  test('/orders/ routes to /orders in Express (non-strict): an exact rule takes one trailing slash too', async () => {
    assert.equal((await call(base, '/orders/')).status, 401);
    assert.equal((await call(base, '/orders/', { headers: bearer(mint(key, claims())) })).status, 200);
    assert.equal((await call(base, '/status/')).status, 200);
  });

  test('a mismatch (caseSensitive: true behind Express): the policy decides, a denied request reaches no handler', async () => {
    ran.length = 0;
    const upper = await call(told, '/ORDERS', { headers: bearer(mint(key, claims())) });
    assert.equal(upper.status, 403);
    assert.equal(upper.body.code, 'ERR_ROUTE_DENIED');
    assert.equal((await call(told, '/STATUS')).status, 403);
    // Not normal form: refused before any rule, whatever Express would route.
    assert.equal((await call(base, '/orders//', { headers: bearer(mint(key, claims())) })).status, 403);
    assert.deepEqual(ran, [], 'a request the policy denies never reaches a handler');
  });
});
