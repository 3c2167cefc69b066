// Fastify 5 for real: the edgeward plugin (an onRequest hook, request.auth decorated, refusals
// through reply with the core's status, headers and body), the per-route guards as route hooks,
// DPoP and client certificates (mutual TLS) over HTTPS, a replay store that never answers (the hook does not hang), onRefusal,
// bearerToken; with fastify.inject and over real sockets (127.0.0.1).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as edgeward from '../index.mjs';
import { Verifier, authenticate, requireScopes, requireClaims, requirePeers } from '../index.mjs';
import { NOW, keyPair, mint, claims, policy } from './helpers.mjs';
import { makeCertificates, makeClientCertificate } from './lib/tls.mjs';
import { dpopKey, makeProof } from '../../tests/fixtures/dpop.mjs';

const require = createRequire(import.meta.url);
const Fastify = require('fastify');
const fp = require('fastify-plugin');
const key = keyPair('ES256', 'k1');
const bot = dpopKey();
const bearer = (token) => ({ authorization: `Bearer ${token}` });
const apps = [];
let dir;
let tls;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'edgeward-fastify-'));
  tls = makeCertificates(dir);
});

after(async () => {
  for (const app of apps) await app.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function app(options) {
  const one = Fastify({ logger: false, ...options });
  apps.push(one);
  return one;
}

const who = async (request) => ({ sub: request.auth?.claims.sub ?? null, raw: request.raw.auth === request.auth });

test('the plugin is marked as fastify-plugin marks one (no dependency on it)', () => {
  const marked = fp(function plugin(f, o, done) { done(); }, { fastify: '5.x', name: 'edgeward' });
  for (const symbol of ['skip-override', 'plugin-meta']) {
    assert.deepEqual(edgeward.fastify[Symbol.for(symbol)], marked[Symbol.for(symbol)], symbol);
  }
  assert.equal(edgeward.fastify[Symbol.for('fastify.display-name')], 'edgeward');
});

describe('the plugin: the policy\'s rules in an onRequest hook', () => {
  let fastify;
  let ran = 0;
  before(async () => {
    fastify = app();
    await fastify.register(edgeward.fastify, { verifier: new Verifier(policy([key.jwk])), now: () => NOW });
    fastify.get('/healthz', async () => ({ up: true }));
    fastify.get('/orders/:id', async (request) => { ran += 1; return who(request); });
    fastify.post('/orders/:id', async (request) => { ran += 1; return who(request); });
    fastify.get('/admin', async () => { ran += 1; return { admin: true }; });
  });

  test('granted: request.auth is the verified token (the same as request.raw.auth)', async () => {
    const r = await fastify.inject({ method: 'GET', url: '/orders/1', headers: bearer(mint(key, claims())) });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json(), { sub: 'bot-7', raw: true });
    assert.equal((await fastify.inject({ url: '/healthz' })).statusCode, 200);
  });

  test('refusals: the core\'s status, WWW-Authenticate and body through reply; no handler runs', async () => {
    ran = 0;
    const none = await fastify.inject({ url: '/orders/1' });
    assert.equal(none.statusCode, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="edgeward"');
    assert.equal(none.headers['cache-control'], 'no-store');
    assert.deepEqual(none.json(), { error: 'unauthorized', code: 'ERR_JWT_MISSING' });
    const scope = await fastify.inject({ method: 'POST', url: '/orders/1', headers: bearer(mint(key, claims())) });
    assert.equal(scope.statusCode, 403);
    assert.equal(scope.headers['www-authenticate'], 'Bearer realm="edgeward", error="insufficient_scope", scope="write:order_status"');
    const unmatched = await fastify.inject({ url: '/admin', headers: bearer(mint(key, claims())) });
    assert.equal(unmatched.statusCode, 403);
    assert.equal(unmatched.json().code, 'ERR_ROUTE_DENIED');
    assert.equal(ran, 0);
  });

  test('over a real socket: the same answers', async () => {
    const address = await fastify.listen({ port: 0, host: '127.0.0.1' });
    const ok = await fetch(`${address}/orders/1`, { headers: bearer(mint(key, claims())) });
    assert.equal(ok.status, 200);
    assert.equal((await ok.json()).sub, 'bot-7');
    const none = await fetch(`${address}/orders/1`);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="edgeward"');
    assert.equal((await none.json()).code, 'ERR_JWT_MISSING');
  });
});

describe('per-route guards as route hooks', () => {
  let fastify;
  let address;
  let stalled;
  before(async () => {
    const verifier = new Verifier(policy([key.jwk]));
    const auth = authenticate(verifier, { now: () => NOW });
    fastify = app();
    fastify.decorateRequest('auth', undefined);
    fastify.get('/orders', { onRequest: auth, preHandler: requireScopes('read:orders') }, who);
    fastify.get('/write', { onRequest: auth, preHandler: requireScopes('write:orders') }, who);
    fastify.get('/billing', { onRequest: [auth], preHandler: [requireClaims({ client_id: ['billing-bot'] })] }, who);
    fastify.get('/shaped', { onRequest: authenticate(verifier, { now: () => NOW, onRefusal: (error, request) => ({ denied: error.code, url: request.url }) }) }, who);
    fastify.get('/token', async (request, reply) => {
      const token = verifier.bearerToken(request);
      if (token === undefined) return reply.code(401).send({ none: true });
      return { sub: verifier.verify(token, { now: NOW }).claims.sub };
    });
    // A replay store that never answers: the hook must give up after replayTimeoutMs (503).
    stalled = authenticate(verifier, { now: () => NOW, replayStore: { record: () => new Promise(() => {}) }, replayTimeoutMs: 50 });
    fastify.get('/stalled', { onRequest: stalled }, who);
    fastify.get('/fails', { onRequest: authenticate(verifier, { now: () => NOW, onDecision: () => { throw new Error('audit sink down'); } }) }, who);
    address = await fastify.listen({ port: 0, host: '127.0.0.1' });
  });

  test('allowed, 401 and 403 through onRequest + preHandler guards', async () => {
    const ok = await fastify.inject({ url: '/orders', headers: bearer(mint(key, claims())) });
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.json().sub, 'bot-7');
    const none = await fastify.inject({ url: '/orders' });
    assert.equal(none.statusCode, 401);
    assert.equal(none.json().code, 'ERR_JWT_MISSING');
    const write = await fastify.inject({ url: '/write', headers: bearer(mint(key, claims())) });
    assert.equal(write.statusCode, 403);
    assert.match(write.headers['www-authenticate'], /insufficient_scope", scope="write:orders"/);
    const billing = await fastify.inject({ url: '/billing', headers: bearer(mint(key, claims({ client_id: 'billing-bot' }))) });
    assert.equal(billing.statusCode, 200);
    const other = await fastify.inject({ url: '/billing', headers: bearer(mint(key, claims({ client_id: 'x' }))) });
    assert.equal(other.statusCode, 403);
    assert.equal(other.json().code, 'ERR_PRINCIPAL_DENIED');
  });

  test('onRefusal shapes the body (it gets the Fastify request); status and challenge stay', async () => {
    const r = await fetch(`${address}/shaped`);
    assert.equal(r.status, 401);
    assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="edgeward"');
    assert.deepEqual(await r.json(), { denied: 'ERR_JWT_MISSING', url: '/shaped' });
  });

  test('bearerToken on a Fastify request', async () => {
    assert.equal((await fastify.inject({ url: '/token', headers: bearer(mint(key, claims())) })).json().sub, 'bot-7');
    assert.equal((await fastify.inject({ url: '/token' })).statusCode, 401);
  });

  test('a replay store that never answers: 503 after replayTimeoutMs, never a hanging hook', async () => {
    const token = mint(key, claims({ cnf: { jkt: bot.jkt } }));
    const proof = makeProof({ key: bot.privateKey, htm: 'GET', htu: `${address}/stalled`, token, iat: NOW });
    const started = Date.now();
    const r = await fetch(`${address}/stalled`, { headers: { authorization: `DPoP ${token}`, dpop: proof }, signal: AbortSignal.timeout(5000) });
    assert.equal(r.status, 503);
    assert.equal((await r.json()).code, 'ERR_REPLAY_STORE_UNAVAILABLE');
    assert.ok(Date.now() - started < 2000);
  });

  test('a failure that is no refusal goes to Fastify\'s error handler (500)', async () => {
    const r = await fastify.inject({ url: '/fails', headers: bearer(mint(key, claims())) });
    assert.equal(r.statusCode, 500);
  });
});

describe('DPoP through the guard on Fastify over HTTPS', () => {
  test('a DPoP-bound token with its proof passes once; the replay is refused', async () => {
    const fastify = app({ https: { key: tls.key, cert: tls.cert } });
    fastify.get('/orders/:id', { onRequest: authenticate(new Verifier(policy([key.jwk])), { now: () => NOW }) }, who);
    const address = await fastify.listen({ port: 0, host: '127.0.0.1' });
    const { port } = fastify.server.address();
    const https = await import('node:https');
    const get = (headers) => new Promise((resolve, reject) => {
      const request = https.request({ host: '127.0.0.1', port, path: '/orders/1', headers, ca: tls.ca, agent: false }, (response) => {
        let text = '';
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode, challenge: response.headers['www-authenticate'], body: JSON.parse(text) }));
      });
      request.on('error', reject);
      request.end();
    });
    const token = mint(key, claims({ cnf: { jkt: bot.jkt } }));
    const proof = makeProof({ key: bot.privateKey, htm: 'GET', htu: `${address}/orders/1`, token, iat: NOW });
    const first = await get({ authorization: `DPoP ${token}`, dpop: proof });
    assert.equal(first.status, 200);
    assert.equal(first.body.sub, 'bot-7');
    const again = await get({ authorization: `DPoP ${token}`, dpop: proof });
    assert.equal(again.status, 401);
    assert.equal(again.body.code, 'ERR_DPOP_REPLAYED');
    assert.match(again.challenge, /^DPoP realm="edgeward"/);
  });
});

describe('client certificates through the plugin and guards on Fastify over HTTPS (mutual TLS)', () => {
  test('a certificate-bound token needs its certificate; requirePeers needs the verified peer', async () => {
    const BILLING = 'spiffe://example.org/ns/bots/sa/billing';
    const billing = makeClientCertificate(dir, tls, { name: 'billing-bot', uriSans: [BILLING] });
    const audit = makeClientCertificate(dir, tls, { name: 'audit-bot', uriSans: ['spiffe://example.org/ns/bots/sa/audit'] });
    const fastify = app({ https: { key: tls.key, cert: tls.cert, ca: tls.ca, requestCert: true, rejectUnauthorized: false } });
    await fastify.register(edgeward.fastify, { verifier: new Verifier(policy([key.jwk])), authenticate: true, now: () => NOW });
    fastify.get('/orders/:id', who);
    fastify.get('/ledger', { preHandler: requirePeers(BILLING) }, who);
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    const { port } = fastify.server.address();
    const https = await import('node:https');
    const get = (path, headers, cert) => new Promise((resolve, reject) => {
      const client = cert === undefined ? {} : { cert: cert.cert, key: cert.key };
      const request = https.request({ host: '127.0.0.1', port, path, headers, ca: tls.ca, agent: false, ...client }, (response) => {
        let text = '';
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode, body: JSON.parse(text) }));
      });
      request.on('error', reject);
      request.end();
    });
    const bound = bearer(mint(key, claims({ cnf: { 'x5t#S256': billing.x5tS256 } })));
    assert.equal((await get('/orders/1', bound, billing)).status, 200);
    const other = await get('/orders/1', bound, audit);
    assert.deepEqual([other.status, other.body.code], [401, 'ERR_MTLS_BINDING_MISMATCH']);
    // The plugin verified the token (authenticate: true, no rules); the route's guard asks for the peer.
    const token = bearer(mint(key, claims()));
    const ledger = await get('/ledger', token, billing);
    assert.deepEqual([ledger.status, ledger.body.sub], [200, 'bot-7']);
    const wrong = await get('/ledger', token, audit);
    assert.deepEqual([wrong.status, wrong.body.code], [403, 'ERR_PEER_DENIED']);
    const none = await get('/ledger', token);
    assert.deepEqual([none.status, none.body.code], [403, 'ERR_PEER_DENIED']);
  });
});

describe('plugin scope', () => {
  test('registered at the root, it guards every route; inside a child plugin, only the child\'s', async () => {
    const verifier = new Verifier(policy([key.jwk]));
    const fastify = app();
    await fastify.register(async (child) => {
      await child.register(edgeward.fastify, { verifier, now: () => NOW });
      child.get('/orders/inside', who);
    });
    fastify.get('/orders/outside', who);
    assert.equal((await fastify.inject({ url: '/orders/inside' })).statusCode, 401);
    assert.equal((await fastify.inject({ url: '/orders/outside' })).statusCode, 200, 'encapsulated: the parent is not guarded');
  });

  test('{ authenticate: true }: the token only, for every route of the scope', async () => {
    const fastify = app();
    await fastify.register(edgeward.fastify, { verifier: new Verifier(policy([key.jwk])), authenticate: true, now: () => NOW });
    fastify.get('/anything', { preHandler: requireScopes('read:orders') }, who);
    assert.equal((await fastify.inject({ url: '/anything' })).statusCode, 401);
    assert.equal((await fastify.inject({ url: '/anything', headers: bearer(mint(key, claims())) })).statusCode, 200);
  });
});
