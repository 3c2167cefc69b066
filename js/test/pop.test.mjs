// Proof of possession through the middleware on a real node:https server with client certificates
// (the cases of tests/pop.rs): DPoP proofs and their replay, certificate-bound tokens, peers and
// bind_subject_to_peer, replay stores. Certificates are made when the tests start, with openssl
// (js/test/lib/tls.mjs); proofs by hand (tests/fixtures/dpop.mjs, shared with the Envoy tests).
// Requests go over loopback; no assertion message carries a token or a proof.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Verifier, middleware, memoryReplayStore, redisReplayStore } from '../index.mjs';
import { NOW, keyPair, mint, claims, policy } from './helpers.mjs';
import { makeCa, makeCertificates, makeClientCertificate } from './lib/tls.mjs';
import { dpopKey, makeHs256Proof, makeProof } from '../../tests/fixtures/dpop.mjs';

const idp = keyPair('ES256', 'k1');
const bot = dpopKey(); // the bot's DPoP key (not the IdP's)
const attacker = dpopKey();
const BILLING = 'spiffe://example.org/ns/bots/sa/billing';
const AUDIT = 'spiffe://example.org/ns/bots/sa/audit';

/** The bot's proof for `GET htu` at NOW carrying `ath` of `token`; `changes` as makeProof takes them. */
const proofFor = ({ htu, token, ...changes }) => makeProof({ key: bot.privateKey, htm: 'GET', htu, token, iat: NOW, ...changes });

let dir;
let tls;
const certs = {};
const servers = [];

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'edgeward-pop-'));
  tls = makeCertificates(dir);
  certs.a = makeClientCertificate(dir, tls, { name: 'billing-bot', uriSans: [BILLING] });
  certs.b = makeClientCertificate(dir, tls, { name: 'other-bot', uriSans: [BILLING] });
  // The same subject and SAN as a, another key: another certificate.
  certs.sameSubject = makeClientCertificate(dir, tls, { name: 'billing-bot', uriSans: [BILLING] });
  certs.audit = makeClientCertificate(dir, tls, { name: 'audit-bot', uriSans: [AUDIT] });
  // Names the billing bot, signed by a CA the server does not trust.
  certs.rogue = makeClientCertificate(dir, makeCa(dir, { name: 'rogue CA', file: 'rogue-ca' }), { name: 'billing-bot', uriSans: [BILLING] });
});

after(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// A bot API behind the middleware: 200 with who called (as the middleware left req.auth).
function handler(mw) {
  return (req, res) => {
    mw(req, res, (error) => {
      if (error) {
        res.statusCode = 500;
        res.end('handler error');
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ sub: req.auth?.claims.sub ?? null }));
    });
  };
}

// An HTTPS server asking for client certificates and accepting unverified ones too
// (rejectUnauthorized: false): bindings work with any certificate, peers only with verified ones.
async function listenTls(mw) {
  const server = https.createServer({ key: tls.key, cert: tls.cert, ca: tls.ca, requestCert: true, rejectUnauthorized: false }, handler(mw));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return `https://127.0.0.1:${server.address().port}`;
}

async function listenPlain(mw) {
  const server = http.createServer(handler(mw));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return `http://127.0.0.1:${server.address().port}`;
}

/** One request on a new connection (a client certificate per connection): status, challenge, code. */
function call(base, path, { method = 'GET', headers = {}, cert } = {}) {
  const url = new URL(path, base);
  const client = url.protocol === 'https:' ? https : http;
  const tlsOptions = url.protocol === 'https:' ? { ca: tls.ca, ...(cert ? { cert: cert.cert, key: cert.key } : {}) } : {};
  return new Promise((resolve, reject) => {
    const request = client.request(url, { method, headers, agent: false, ...tlsOptions }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => {
        const json = text ? JSON.parse(text) : null;
        resolve({
          status: response.statusCode,
          challenge: response.headers['www-authenticate'],
          retryAfter: response.headers['retry-after'],
          code: json?.code,
          sub: json?.sub,
        });
      });
    });
    request.on('error', reject);
    request.end();
  });
}

const scope = { scope: 'read:orders' };
const dpopToken = (extra = {}) => mint(idp, claims({ ...scope, cnf: { jkt: bot.jkt }, ...extra }));
const certToken = (cert, extra = {}) => mint(idp, claims({ ...scope, cnf: { 'x5t#S256': cert.x5tS256 }, ...extra }));
const bearer = (token) => ({ authorization: `Bearer ${token}` });

function verifierFor(provider = {}, rules) {
  const doc = policy([idp.jwk], provider);
  if (rules !== undefined) doc.rules = rules;
  return new Verifier(doc);
}

describe('DPoP through the middleware on node:https', () => {
  let base;
  let htu;
  const decisions = [];
  before(async () => {
    const mw = middleware(verifierFor(), { now: () => NOW, onDecision: (record) => decisions.push(record) });
    base = await listenTls(mw);
    htu = `${base}/orders/1`;
  });
  const withProof = (token, proof) => ({ authorization: `DPoP ${token}`, dpop: proof });

  test('a DPoP-bound token with its proof passes once; the replay is refused', async () => {
    const token = dpopToken();
    const proof = proofFor({ htu, token });
    const first = await call(base, '/orders/1?page=2', { headers: withProof(token, proof) });
    assert.deepEqual([first.status, first.sub], [200, 'bot-7']);
    const again = await call(base, '/orders/1?page=2', { headers: withProof(token, proof) });
    assert.deepEqual([again.status, again.code], [401, 'ERR_DPOP_REPLAYED']);
    assert.equal(again.challenge, 'DPoP realm="edgeward", error="invalid_dpop_proof", algs="ES256"');
    const refused = decisions.at(-1);
    assert.deepEqual([refused.code, refused.status, refused.provider, refused.sub], ['ERR_DPOP_REPLAYED', 401, 'corp-idp', 'bot-7']);
    // Another proof (another jti) of the same key is new.
    const next = await call(base, '/orders/1', { headers: withProof(token, proofFor({ htu, token })) });
    assert.equal(next.status, 200);
  });

  test('every broken proof is refused, ERR_DPOP_PROOF_INVALID', async () => {
    const token = dpopToken();
    const privateJwk = bot.privateKey.export({ format: 'jwk' });
    const cases = [
      ['proof for another method', proofFor({ htu, token, htm: 'POST' })],
      ['proof for another URL', proofFor({ htu: `${base}/orders/2`, token })],
      ['proof for another host', proofFor({ htu: htu.replace('127.0.0.1', 'localhost'), token })],
      ['proof for http://', proofFor({ htu: htu.replace('https:', 'http:'), token })],
      ['private jwk', proofFor({ htu, token, jwk: privateJwk })],
      ['HS256 proof (the bot key in its header)', makeHs256Proof({ htm: 'GET', htu, token, iat: NOW, jwk: bot.jwk })],
      ['iat too old', proofFor({ htu, token, iat: NOW - 331 })],
      ['iat ahead', proofFor({ htu, token, iat: NOW + 31 })],
      ['no ath', proofFor({ htu, token, omit: ['ath'] })],
      ['ath of another token', proofFor({ htu, token: 'another token' })],
      ['a key other than cnf.jkt', proofFor({ htu, token, key: attacker.privateKey })],
      ['two DPoP headers', [proofFor({ htu, token }), proofFor({ htu, token })]],
    ];
    for (const [name, proof] of cases) {
      const r = await call(base, '/orders/1', { headers: withProof(token, proof) });
      assert.deepEqual([r.status, r.code], [401, 'ERR_DPOP_PROOF_INVALID'], name);
      assert.equal(r.challenge, 'DPoP realm="edgeward", error="invalid_dpop_proof", algs="ES256"', name);
    }
  });

  test('two DPoP headers reach the core as two (req.rawHeaders), not joined', () => {
    const v = verifierFor();
    const token = dpopToken();
    const raw = ['Authorization', `DPoP ${token}`, 'DPoP', proofFor({ htu, token }), 'DPoP', proofFor({ htu, token })];
    const connection = { scheme: 'https', authority: new URL(base).host };
    assert.throws(() => v.authorize('GET', '/orders/1', raw, { now: NOW, connection }), /exactly one DPoP header/);
  });

  test('a DPoP-bound token never passes as a bearer token', async () => {
    const token = dpopToken();
    const asBearer = { ...bearer(token), dpop: proofFor({ htu, token }) };
    const r = await call(base, '/orders/1', { headers: asBearer });
    assert.deepEqual([r.status, r.code], [401, 'ERR_POP_MISSING']);
    assert.equal(r.challenge, 'DPoP realm="edgeward", error="invalid_token", algs="ES256"');
    const noProof = await call(base, '/orders/1', { headers: { authorization: `DPoP ${token}` } });
    assert.equal(noProof.code, 'ERR_POP_MISSING');
  });
});

describe('certificate-bound tokens, peers and bind_subject_to_peer', () => {
  test('a certificate-bound token needs that certificate (read only when a token needs it)', async () => {
    const v = verifierFor();
    assert.equal(v.readsPeerCertificates, false);
    const base = await listenTls(middleware(v, { now: () => NOW }));
    const token = bearer(certToken(certs.a));
    assert.equal((await call(base, '/orders/1', { headers: token, cert: certs.a })).status, 200);
    assert.equal((await call(base, '/orders/1', { headers: token, cert: certs.b })).code, 'ERR_MTLS_BINDING_MISMATCH');
    assert.equal((await call(base, '/orders/1', { headers: token, cert: certs.sameSubject })).code, 'ERR_MTLS_BINDING_MISMATCH');
    assert.equal((await call(base, '/orders/1', { headers: token })).code, 'ERR_POP_MISSING');
    // The binding needs no CA: a certificate the server cannot verify, named by the token, is that certificate.
    const rogueBound = bearer(certToken(certs.rogue));
    assert.equal((await call(base, '/orders/1', { headers: rogueBound, cert: certs.rogue })).status, 200);
  });

  test('proof_of_possession "mtls" refuses an unbound token', async () => {
    const v = verifierFor({ proof_of_possession: 'mtls' });
    assert.equal(v.readsPeerCertificates, true);
    const base = await listenTls(middleware(v, { now: () => NOW }));
    const plain = await call(base, '/orders/1', { headers: bearer(mint(idp, claims(scope))), cert: certs.a });
    assert.deepEqual([plain.status, plain.code, plain.challenge], [401, 'ERR_POP_MISSING', 'Bearer realm="edgeward", error="invalid_token"']);
    assert.equal((await call(base, '/orders/1', { headers: bearer(certToken(certs.a)), cert: certs.a })).status, 200);
  });

  test('requires.peers: only a verified certificate names a peer', async () => {
    const rules = [{ match: { prefix: '/orders' }, requires: { provider_name: 'corp-idp', scopes: ['read:orders'], peers: [BILLING] } }];
    const base = await listenTls(middleware(verifierFor({}, rules), { now: () => NOW }));
    const token = bearer(mint(idp, claims(scope)));
    assert.equal((await call(base, '/orders/1', { headers: token, cert: certs.a })).status, 200);
    const cases = [['another peer', certs.audit], ['a certificate of a CA the server does not trust', certs.rogue], ['no certificate', undefined]];
    for (const [name, cert] of cases) {
      const r = await call(base, '/orders/1', { headers: token, cert });
      assert.deepEqual([r.status, r.code], [403, 'ERR_PEER_DENIED'], name);
    }
  });

  test('bind_subject_to_peer: the token\'s sub is the peer\'s ID', async () => {
    const base = await listenTls(middleware(verifierFor({ bind_subject_to_peer: true }), { now: () => NOW }));
    const token = bearer(mint(idp, claims({ ...scope, sub: BILLING })));
    const r = await call(base, '/orders/1', { headers: token, cert: certs.a });
    assert.deepEqual([r.status, r.sub], [200, BILLING]);
    assert.equal((await call(base, '/orders/1', { headers: token, cert: certs.audit })).code, 'ERR_MTLS_BINDING_MISMATCH');
    assert.equal((await call(base, '/orders/1', { headers: token, cert: certs.rogue })).code, 'ERR_POP_MISSING');
    assert.equal((await call(base, '/orders/1', { headers: token })).code, 'ERR_POP_MISSING');
  });
});

describe('the origin of a proof', () => {
  test('plain HTTP: the socket says http; X-Forwarded-* headers are not read', async () => {
    const base = await listenPlain(middleware(verifierFor(), { now: () => NOW }));
    const token = dpopToken();
    const own = await call(base, '/orders/1', { headers: { authorization: `DPoP ${token}`, dpop: proofFor({ htu: `${base}/orders/1`, token }) } });
    assert.equal(own.status, 200);
    const forwarded = {
      authorization: `DPoP ${token}`,
      dpop: proofFor({ htu: 'https://api.example.com/orders/1', token }),
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'api.example.com',
    };
    assert.equal((await call(base, '/orders/1', { headers: forwarded })).code, 'ERR_DPOP_PROOF_INVALID');
  });

  test('HTTP/2: the authority is :authority', async () => {
    const server = http2.createSecureServer({ key: tls.key, cert: tls.cert }, handler(middleware(verifierFor(), { now: () => NOW })));
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `https://127.0.0.1:${server.address().port}`;
    const session = http2.connect(base, { ca: tls.ca });
    try {
      const token = dpopToken();
      const ask = (htu) =>
        new Promise((resolve, reject) => {
          const stream = session.request({ ':path': '/orders/1', authorization: `DPoP ${token}`, dpop: proofFor({ htu, token }) });
          let body = '';
          stream.setEncoding('utf8');
          stream.on('response', (headers) => stream.on('end', () => resolve({ status: headers[':status'], code: body && JSON.parse(body).code })));
          stream.on('data', (chunk) => (body += chunk));
          stream.on('error', reject);
          stream.end();
        });
      assert.equal((await ask(`${base}/orders/1`)).status, 200);
      assert.equal((await ask('https://api.example.com/orders/1')).code, 'ERR_DPOP_PROOF_INVALID');
    } finally {
      session.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('behind a proxy, dpop_origins names the public origin', async () => {
    const base = await listenPlain(middleware(verifierFor({ dpop_origins: ['https://api.example.com'] }), { now: () => NOW }));
    const token = dpopToken();
    const headers = { authorization: `DPoP ${token}`, dpop: proofFor({ htu: 'https://api.example.com/orders/1', token }) };
    assert.equal((await call(base, '/orders/1', { headers })).status, 200);
  });
});

describe('replay stores', () => {
  const proofCall = async (base, token = dpopToken()) => {
    const headers = { authorization: `DPoP ${token}`, dpop: proofFor({ htu: `${base}/orders/1`, token }) };
    return call(base, '/orders/1', { headers });
  };

  test('a store that throws, rejects or answers otherwise refuses with 503, the reason in the cause', async () => {
    const v = verifierFor();
    const decisions = [];
    const stores = [
      ['rejects', { record: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379')) }, /ECONNREFUSED/],
      ['throws', { record: () => { throw new Error('store closed'); } }, /store closed/],
      ['answers full', { record: () => 'full' }, /full/],
      ['answers nonsense', { record: async () => 42 }, /number/],
    ];
    for (const [name, store, reason] of stores) {
      const onDecision = (record, req, error) => decisions.push({ record, error });
      const base = await listenTls(middleware(v, { now: () => NOW, replayStore: store, onDecision }));
      const r = await proofCall(base);
      assert.deepEqual([r.status, r.code, r.retryAfter], [503, 'ERR_REPLAY_STORE_UNAVAILABLE', '5'], name);
      const { record, error } = decisions.at(-1);
      assert.deepEqual([record.code, record.status, error.code], ['ERR_REPLAY_STORE_UNAVAILABLE', 503, 'ERR_REPLAY_STORE_UNAVAILABLE'], name);
      assert.match(String(error.cause?.message), reason, name);
      // The same refusal through authorize and proofRefusal, with the store's error as the cause.
      const token = dpopToken();
      const answer = v.authorize('GET', '/orders/1', { authorization: `DPoP ${token}`, dpop: proofFor({ htu: 'https://api.example.com/orders/1', token }) }, {
        now: NOW,
        connection: { scheme: 'https', authority: 'api.example.com' },
      });
      let cause;
      try {
        const answered = await store.record(answer.proof);
        cause = new Error(`answered ${typeof answered === 'string' ? answered : typeof answered}`);
      } catch (error) {
        cause = error;
      }
      const refusal = v.proofRefusal(answer, 'unavailable', cause);
      assert.equal(refusal.cause, cause, name);
      assert.match(refusal.message, reason, name);
    }
  });

  test('a store answering later (a promise) is awaited; one store per verifier by default', async () => {
    const v = verifierFor();
    const seen = new Set();
    const slow = { record: (proof) => new Promise((resolve) => setTimeout(() => resolve(seen.has(proof.key) ? 'replayed' : (seen.add(proof.key), 'fresh')), 20)) };
    const base = await listenTls(middleware(v, { now: () => NOW, replayStore: slow }));
    const token = dpopToken();
    const headers = { authorization: `DPoP ${token}`, dpop: proofFor({ htu: `${base}/orders/1`, token }) };
    const [one, two] = await Promise.all([call(base, '/orders/1', { headers }), call(base, '/orders/1', { headers })]);
    assert.deepEqual([one.status, two.status].sort(), [200, 401]);
    // Two middlewares over one verifier share its default store: a proof used at one is used at both.
    const first = await listenTls(middleware(v, { now: () => NOW }));
    const second = await listenTls(middleware(v, { now: () => NOW }));
    const proof = proofFor({ htu: `${first}/orders/1`, token });
    assert.equal((await call(first, '/orders/1', { headers: { authorization: `DPoP ${token}`, dpop: proof } })).status, 200);
    assert.equal(v.replayStore.size, 1);
    const elsewhere = await call(second, '/orders/1', { headers: { authorization: `DPoP ${token}`, dpop: proof } });
    // The other server's origin differs (its port): the proof is not for it, whatever the store.
    assert.equal(elsewhere.code, 'ERR_DPOP_PROOF_INVALID');
  });

  test('a store that never answers is refused 503 within replayTimeoutMs, the cause saying it timed out', { timeout: 10_000 }, async () => {
    const v = verifierFor();
    const decisions = [];
    const onDecision = (record, req, error) => decisions.push({ record, error });
    const never = { record: () => new Promise(() => {}) };
    const timed = async (base) => {
      const started = performance.now();
      const r = await proofCall(base);
      return { ...r, waited: performance.now() - started };
    };
    const quick = await timed(await listenTls(middleware(v, { now: () => NOW, replayStore: never, replayTimeoutMs: 200, onDecision })));
    assert.deepEqual([quick.status, quick.code, quick.retryAfter], [503, 'ERR_REPLAY_STORE_UNAVAILABLE', '5']);
    assert.ok(quick.waited >= 190 && quick.waited < 1500, `refused after ${Math.round(quick.waited)} ms`);
    const { record, error } = decisions.at(-1);
    assert.deepEqual([record.code, record.status], ['ERR_REPLAY_STORE_UNAVAILABLE', 503]);
    assert.match(error.cause.message, /timed out: no answer within 200 ms/);
    assert.equal(error.cause.code, 'ETIMEDOUT');
    assert.match(error.message, /timed out/);
    // The default bound: 1000 ms.
    const byDefault = await timed(await listenTls(middleware(v, { now: () => NOW, replayStore: never })));
    assert.equal(byDefault.code, 'ERR_REPLAY_STORE_UNAVAILABLE');
    assert.ok(byDefault.waited >= 990 && byDefault.waited < 2500, `refused after ${Math.round(byDefault.waited)} ms`);
    // A late answer changes nothing (the request was refused), a late rejection is not unhandled.
    for (const late of [(resolve) => setTimeout(() => resolve('fresh'), 150), (_, reject) => setTimeout(() => reject(new Error('late')), 150)]) {
      const base = await listenTls(middleware(v, { now: () => NOW, replayStore: { record: () => new Promise(late) }, replayTimeoutMs: 50 }));
      assert.equal((await proofCall(base)).code, 'ERR_REPLAY_STORE_UNAVAILABLE');
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    // An answer within the bound goes through; a synchronous store is never timed.
    const slow = { record: () => new Promise((resolve) => setTimeout(() => resolve('fresh'), 20)) };
    assert.equal((await proofCall(await listenTls(middleware(v, { now: () => NOW, replayStore: slow, replayTimeoutMs: 500 })))).status, 200);
    for (const bad of [0, -1, Number.NaN, Infinity, 2 ** 31, '1000', null]) {
      assert.throws(() => middleware(v, { replayTimeoutMs: bad }), TypeError, String(bad));
    }
  });

  test('the memory store is bounded: a full bucket refuses (503) rather than forget a proof', async () => {
    const store = memoryReplayStore({ buckets: 1, entriesPerBucket: 2 });
    const base = await listenTls(middleware(verifierFor(), { now: () => NOW, replayStore: store }));
    const token = dpopToken();
    const proofs = [1, 2].map(() => proofFor({ htu: `${base}/orders/1`, token }));
    for (const proof of proofs) {
      assert.equal((await call(base, '/orders/1', { headers: { authorization: `DPoP ${token}`, dpop: proof } })).status, 200);
    }
    assert.equal((await proofCall(base, token)).code, 'ERR_REPLAY_STORE_UNAVAILABLE');
    // Both are still remembered.
    const replay = await call(base, '/orders/1', { headers: { authorization: `DPoP ${token}`, dpop: proofs[0] } });
    assert.equal(replay.code, 'ERR_DPOP_REPLAYED');
    assert.equal(store.size, 2);
    assert.throws(() => memoryReplayStore({ buckets: 0 }), TypeError);
  });

  test('redisReplayStore: SET NX EX for node-redis and ioredis clients; an odd answer fails closed', async () => {
    const calls = [];
    const keys = new Set();
    const setNx = (key) => (keys.has(key) ? null : (keys.add(key), 'OK'));
    const nodeRedis = { isOpen: true, set: async (key, value, options) => (calls.push(['node-redis', key, value, options]), setNx(key)) };
    const ioredis = { defineCommand() {}, set: async (...args) => (calls.push(['ioredis', ...args]), setNx(args[0])) };
    const proof = { key: `dpop:${'ab'.repeat(16)}`, ttlSeconds: 361, expiresAt: NOW + 361 };
    const a = redisReplayStore(nodeRedis);
    assert.equal(await a.record(proof), 'fresh');
    assert.equal(await a.record(proof), 'replayed');
    assert.deepEqual(calls[0], ['node-redis', `edgeward:${proof.key}`, '1', { NX: true, EX: 361 }]);
    const b = redisReplayStore(ioredis, { prefix: 'api:' });
    assert.equal(await b.record(proof), 'fresh');
    assert.deepEqual(calls.at(-1), ['ioredis', `api:${proof.key}`, '1', 'EX', 361, 'NX']);
    // How long a command may go unanswered is the middleware's replayTimeoutMs (one bound for every store).
    assert.throws(() => redisReplayStore(nodeRedis, { timeoutMs: 50 }), /replayTimeoutMs/);
    const odd = redisReplayStore({ set: async () => 'QUEUED' }, { api: 'ioredis' });
    await assert.rejects(odd.record(proof), /answered SET NX with "QUEUED"/);
    assert.throws(() => redisReplayStore({ set() {} }), /pass \{ api: 'node-redis' \}/);
    assert.throws(() => redisReplayStore(null), TypeError);
  });
});
