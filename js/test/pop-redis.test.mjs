// redisReplayStore against a real redis-server (js/test/lib/redis.mjs) with node-redis, the client
// a user passes in: two gateway instances share one store (a proof used at one is a replay at the
// other), the key and its expiry are what the core said, and an outage (the server frozen) fails
// closed within the middleware's replayTimeoutMs, then recovers. Requests over loopback; tokens never printed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createClient } from 'redis';
import { Verifier, middleware, redisReplayStore } from '../index.mjs';
import { NOW, keyPair, mint, claims, policy } from './helpers.mjs';
import { startRedis } from './lib/redis.mjs';
import { dpopKey, makeProof } from '../../tests/fixtures/dpop.mjs';

const idp = keyPair('ES256', 'k1');
const bot = dpopKey();
// Both instances sit behind one public origin (a load balancer): the proofs name it.
const PUBLIC_HTU = 'https://api.example.com/orders/1';

let redis;
let client;
const servers = [];

before(async () => {
  redis = await startRedis();
  // socketTimeout bounds a reply (node-redis's per-command timeout only bounds the write).
  client = createClient({ url: redis.url, socket: { connectTimeout: 1000, socketTimeout: 2000, reconnectStrategy: 50 } });
  client.on('error', () => {}); // the outage's socket errors; the store reports its own
  await client.connect();
});

after(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  client?.destroy();
  await redis?.stop();
});

// One gateway instance: its own Verifier (its own memory), the shared Redis store.
async function instance(store, options = {}) {
  const verifier = new Verifier(policy([idp.jwk], { dpop_origins: ['https://api.example.com'] }));
  const mw = middleware(verifier, { now: () => NOW, replayStore: store, ...options });
  const server = http.createServer((req, res) => mw(req, res, () => res.end('ok')));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return `http://127.0.0.1:${server.address().port}`;
}

const token = mint(idp, claims({ cnf: { jkt: bot.jkt } }));
const freshProof = () => makeProof({ key: bot.privateKey, htm: 'GET', htu: PUBLIC_HTU, token, iat: NOW });

async function call(base, proof) {
  const response = await fetch(`${base}/orders/1`, { headers: { authorization: `DPoP ${token}`, dpop: proof } });
  const text = await response.text();
  return { status: response.status, code: response.status === 200 ? undefined : JSON.parse(text).code, retryAfter: response.headers.get('retry-after') };
}

test('two instances share one Redis store: a proof used at one is a replay at the other', async () => {
  const store = redisReplayStore(client, { prefix: 'orders-api:' });
  const [a, b] = await Promise.all([instance(store), instance(store)]);
  const proof = freshProof();
  assert.equal((await call(a, proof)).status, 200);
  const replay = await call(b, proof);
  assert.deepEqual([replay.status, replay.code], [401, 'ERR_DPOP_REPLAYED']);
  assert.equal((await call(b, freshProof())).status, 200);
  // One key per proof, kept as long as the core said (dpop_max_age_seconds + 2 × skew + 1).
  const keys = await client.keys('orders-api:dpop:*');
  assert.equal(keys.length, 2);
  for (const key of keys) {
    assert.match(key, /^orders-api:dpop:[0-9a-f]{32}$/);
    const ttl = await client.ttl(key);
    assert.ok(ttl > 300 && ttl <= 361, `ttl ${ttl}`);
  }
});

test("a Redis outage fails closed within the middleware's replayTimeoutMs (503), and the store recovers after it", async () => {
  const store = redisReplayStore(client);
  const base = await instance(store, { replayTimeoutMs: 300 });
  redis.pause();
  try {
    const started = Date.now();
    const refused = await call(base, freshProof());
    const waited = Date.now() - started;
    assert.deepEqual([refused.status, refused.code, refused.retryAfter], [503, 'ERR_REPLAY_STORE_UNAVAILABLE', '5']);
    assert.ok(waited >= 250 && waited < 1500, `refused after ${waited} ms`);
  } finally {
    redis.resume();
  }
  assert.equal((await call(base, freshProof())).status, 200);
});
