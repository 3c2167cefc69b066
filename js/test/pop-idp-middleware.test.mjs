// Proof of possession end to end with a real IdP and real clients: oidc-provider (js/test/lib/idp.mjs,
// `dpop`, `mtls`, over TLS) issues DPoP-bound and certificate-bound tokens to openid-client bots
// (js/test/lib/pop-bot.mjs), which call node:https services running the npm middleware; the
// services take the IdP's keys through its discovery document (createRemoteJwks, as
// js/test/idp.test.mjs does). Every DPoP proof here is openid-client's own (fetchProtectedResource);
// a replay is a bot's last request sent again as it was. With Redis: two instances behind a
// TLS-ending load balancer share redisReplayStore against a real redis-server.
// Requests go over loopback; no assertion message carries a token or a proof.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { Verifier, middleware, createRemoteJwks, redisReplayStore } from '../index.mjs';
import { peek } from './lib/bot.mjs';
import { CLIENT_ID, MTLS_CLIENT_ID, MTLS_SAN_URI, startIdp } from './lib/idp.mjs';
import { idpPolicy } from './lib/idp-runs.mjs';
import { createPopBot } from './lib/pop-bot.mjs';
import { startRedis } from './lib/redis.mjs';
import { fetchTrusting, makeCertificates, makeClientCertificate } from './lib/tls.mjs';

const BOUNDED = { timeout: 20_000 };

let dir;
let tls;
let idp;
let redis;
let redisClient;
const closers = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'edgeward-pop-idp-mw-'));
  tls = makeCertificates(dir);
  [idp, redis] = await Promise.all([startIdp({ alg: 'ES256', tls, dpop: true, mtls: true }), startRedis()]);
  redisClient = createClient({ url: redis.url, socket: { connectTimeout: 1000, socketTimeout: 2000, reconnectStrategy: 50 } });
  redisClient.on('error', () => {});
  await redisClient.connect();
});

after(async () => {
  for (const close of closers.reverse()) await close();
  redisClient?.destroy();
  await Promise.all([idp?.stop(), redis?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function listen(server) {
  closers.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

/**
 * One service instance: its own Verifier over the IdP (discovery, ES256, `provider` added to the
 * provider's policy), its own RemoteJwks (trusting the test CA), the middleware with `options`.
 * Over https asking for client certificates (any CA: a certificate-bound token needs none), or
 * plain http behind the load balancer. 200 answers say who called and with which binding.
 */
async function service({ name = 'a', provider = {}, options = {}, plain = false } = {}) {
  const verifier = new Verifier(idpPolicy(idp, ['ES256'], provider));
  const remote = createRemoteJwks(verifier, 'idp', undefined, { fetch: fetchTrusting(tls) });
  closers.push(async () => remote.close());
  const decisions = [];
  const guard = middleware(verifier, { onDecision: (record) => decisions.push(record), ...options });
  const handler = (req, res) => {
    res.setHeader('x-instance', name);
    guard(req, res, (error) => {
      if (error) {
        res.statusCode = 500;
        res.end('handler error');
        return;
      }
      res.setHeader('content-type', 'application/json');
      const { claims } = req.auth;
      res.end(JSON.stringify({ client_id: claims.client_id, cnf: claims.cnf ?? null, scopes: req.auth.scopes }));
    });
  };
  const server = plain
    ? http.createServer(handler)
    : https.createServer({ key: tls.key, cert: tls.cert, ca: tls.ca, requestCert: true, rejectUnauthorized: false }, handler);
  const port = await listen(server);
  assert.equal(await remote.ready, 1, 'the IdP key through discovery');
  return { base: `${plain ? 'http' : 'https'}://127.0.0.1:${port}`, verifier, decisions };
}

/** A request as given (a replay: `bot.lastRequest`'s url, method and headers), with a client certificate or none. */
async function send({ url, method = 'GET', headers }, cert = undefined) {
  const response = url.startsWith('https:') ? await fetchTrusting(tls, cert)(url, { method, headers }) : await fetch(url, { method, headers });
  return answerOf(response);
}

async function answerOf(response) {
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  return { status: response.status, code: json?.code, json, challenge: response.headers.get('www-authenticate'), instance: response.headers.get('x-instance') };
}

/** A bot's request through openid-client, as status, code and body. */
async function botCall(bot, url, init) {
  const { status, json, headers } = await bot.request(url, init);
  return { status, code: json?.code, json, challenge: headers.get('www-authenticate'), instance: headers.get('x-instance') };
}

test('DPoP: openid-client proofs pass one after another; its last request sent again is ERR_DPOP_REPLAYED; the token as Bearer, or a bearer client, is ERR_POP_MISSING', BOUNDED, async () => {
  const { base, decisions } = await service({ provider: { proof_of_possession: 'dpop' } });
  const bot = await createPopBot({ idp, dpop: true, scope: 'read:orders write:orders' });
  const token = await bot.token();
  assert.deepEqual(peek(token).claims.cnf, { jkt: bot.dpop.thumbprint });

  // Several requests, a new proof each (GET and POST: htm and htu differ, jti always).
  const proofs = new Set();
  for (const [method, path] of [['GET', '/orders/1'], ['GET', '/orders/2?page=3'], ['POST', '/orders'], ['GET', '/orders/1'], ['GET', '/orders/1']]) {
    const body = method === 'POST' ? '{}' : undefined;
    const r = await botCall(bot, `${base}${path}`, { method, body, headers: body ? { 'content-type': 'application/json' } : {} });
    assert.equal(r.status, 200, `${method} ${path}: ${r.code}`);
    assert.deepEqual([r.json.client_id, r.json.cnf], [CLIENT_ID, { jkt: bot.dpop.thumbprint }]);
    assert.ok(bot.lastRequest.headers.authorization.startsWith('DPoP '), 'authorization: DPoP');
    proofs.add(bot.lastRequest.headers.dpop);
  }
  assert.equal(proofs.size, 5, 'a new proof per request');

  // The last request again, byte for byte: the proof is used.
  const replay = await send(bot.lastRequest);
  assert.deepEqual([replay.status, replay.code], [401, 'ERR_DPOP_REPLAYED']);
  assert.match(replay.challenge, /^DPoP realm="edgeward", error="invalid_dpop_proof"/);
  // openid-client's next proof still passes.
  assert.equal((await botCall(bot, `${base}/orders/1`)).status, 200);

  // The DPoP-bound token as a bearer token (no proof): a bound token is never a bearer token.
  const asBearer = await send({ url: `${base}/orders/1`, headers: { authorization: `Bearer ${token}` } });
  assert.deepEqual([asBearer.status, asBearer.code], [401, 'ERR_POP_MISSING']);
  // The DPoP scheme without its proof header.
  const noProof = await send({ url: `${base}/orders/1`, headers: { authorization: `DPoP ${token}` } });
  assert.deepEqual([noProof.status, noProof.code], [401, 'ERR_POP_MISSING']);

  // A client that never asked for DPoP gets a plain bearer token: refused where DPoP is required.
  const plain = await createPopBot({ idp });
  assert.equal((await plain.grant()).token_type.toLowerCase(), 'bearer');
  assert.equal((await plain.peek()).claims.cnf, undefined);
  const unbound = await botCall(plain, `${base}/orders/1`);
  assert.deepEqual([unbound.status, unbound.code], [401, 'ERR_POP_MISSING']);
  assert.match(unbound.challenge, /^DPoP /);

  assert.deepEqual(
    decisions.map((d) => d.code ?? d.status),
    [200, 200, 200, 200, 200, 'ERR_DPOP_REPLAYED', 200, 'ERR_POP_MISSING', 'ERR_POP_MISSING', 'ERR_POP_MISSING'],
  );
});

test('mTLS: a certificate-bound token passes with its client certificate; with another, ERR_MTLS_BINDING_MISMATCH; with none, ERR_POP_MISSING', BOUNDED, async () => {
  const { base } = await service({ provider: { proof_of_possession: 'mtls' } });
  const cert = makeClientCertificate(dir, tls, { name: 'billing', uriSans: [MTLS_SAN_URI] });
  const bot = await createPopBot({ idp, clientCert: cert });
  assert.deepEqual((await bot.peek()).claims.cnf, { 'x5t#S256': cert.x5tS256 });

  for (const path of ['/orders/1', '/orders/2']) {
    const r = await botCall(bot, `${base}${path}`);
    assert.equal(r.status, 200, `${path}: ${r.code}`);
    assert.deepEqual([r.json.client_id, r.json.cnf], [MTLS_CLIENT_ID, { 'x5t#S256': cert.x5tS256 }]);
  }
  assert.ok(bot.lastRequest.headers.authorization.startsWith('Bearer '), 'an mTLS-bound token travels as Bearer');

  // The same request from a client holding another certificate: the same subject and SAN, another key.
  const other = makeClientCertificate(dir, tls, { name: 'billing', uriSans: [MTLS_SAN_URI] });
  const stolen = await send(bot.lastRequest, other);
  assert.deepEqual([stolen.status, stolen.code], [401, 'ERR_MTLS_BINDING_MISMATCH']);
  const without = await send(bot.lastRequest);
  assert.deepEqual([without.status, without.code], [401, 'ERR_POP_MISSING']);
  // The rightful client again.
  assert.equal((await send(bot.lastRequest, cert)).status, 200);
});

test('Redis: two instances behind one load balancer share redisReplayStore; a proof used at one is refused at the other', BOUNDED, async () => {
  // The public origin is the load balancer's (it ends TLS): the proofs name it, dpop_origins says so.
  const lb = https.createServer({ key: tls.key, cert: tls.cert });
  const lbPort = await listen(lb);
  const origin = `https://127.0.0.1:${lbPort}`;
  const store = redisReplayStore(redisClient, { prefix: 'pop-idp-mw:' });
  const provider = { proof_of_possession: 'dpop', dpop_origins: [origin] };
  const instances = await Promise.all(['a', 'b'].map((name) => service({ name, provider, options: { replayStore: store }, plain: true })));
  // Round robin, one request at a time.
  let turn = 0;
  lb.on('request', (req, res) => {
    const target = new URL(instances[turn++ % instances.length].base);
    const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      res.statusCode = 502;
      res.end();
    });
    req.pipe(upstream);
  });

  const bot = await createPopBot({ idp, dpop: true });
  const first = await botCall(bot, `${origin}/orders/1`);
  assert.deepEqual([first.status, first.instance], [200, 'a']);
  const replay = await send(bot.lastRequest);
  assert.deepEqual([replay.status, replay.code, replay.instance], [401, 'ERR_DPOP_REPLAYED', 'b']);
  // Straight to instance b as well, not through the balancer: the same refusal.
  const direct = await send({ ...bot.lastRequest, url: `${instances[1].base}/orders/1` });
  assert.deepEqual([direct.status, direct.code], [401, 'ERR_DPOP_REPLAYED']);
  // New proofs pass at either instance (turn: a, then b).
  const next = [await botCall(bot, `${origin}/orders/1`), await botCall(bot, `${origin}/orders/2`)];
  assert.deepEqual(next.map((r) => [r.status, r.instance]), [[200, 'a'], [200, 'b']]);
  // Each accepted proof is one key in Redis (three), none for the refused.
  assert.equal((await redisClient.keys('pop-idp-mw:dpop:*')).length, 3);
  // Each instance remembers nothing itself: its own memory store stayed empty.
  for (const { verifier } of instances) assert.equal(verifier.replayStore.size, 0);
});
