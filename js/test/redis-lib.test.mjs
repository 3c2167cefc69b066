// js/test/lib/redis.mjs: a real redis-server on a free loopback port, driven with node-redis (the
// client a user of the DPoP replay cache would pass in): SET NX EX is the replay check, pause() an
// outage that times commands out, resume() the end of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from 'redis';
import { ping, startRedis } from './lib/redis.mjs';

test('startRedis: SET NX EX once per key, pause() times commands out, resume() recovers, stop() ends it', async () => {
  const redis = await startRedis();
  // node-redis's per-command `timeout` only bounds the wait to be WRITTEN: a written command waits
  // for its reply for ever. `socketTimeout` (no data for that long while connected) bounds it, and
  // needs a reconnectStrategy: the default one gives up for good after a socket timeout.
  const client = createClient({ url: redis.url, socket: { connectTimeout: 1000, socketTimeout: 300, reconnectStrategy: 50 } });
  client.on('error', () => {}); // the socket timeouts of the pause
  try {
    assert.match(redis.url, /^redis:\/\/127\.0\.0\.1:\d+$/);
    await client.connect();
    assert.equal(await client.set('jti:1', 'seen', { condition: 'NX', expiration: { type: 'EX', value: 5 } }), 'OK');
    assert.equal(await client.set('jti:1', 'seen', { condition: 'NX', expiration: { type: 'EX', value: 5 } }), null, 'a replay');
    const ttl = await client.ttl('jti:1');
    assert.ok(ttl > 0 && ttl <= 5, `ttl ${ttl}`);

    redis.pause();
    assert.equal(redis.paused, true);
    const started = Date.now();
    await assert.rejects(
      client.set('jti:2', 'seen', { condition: 'NX', expiration: { type: 'EX', value: 5 } }),
      (error) => /timeout/i.test(error.message),
    );
    const waited = Date.now() - started;
    assert.ok(waited >= 290 && waited < 2000, `timed out after ${waited} ms`);
    assert.equal(await ping(redis.port, { timeoutMs: 200 }), false, 'a new connection gets no answer either');

    redis.resume();
    assert.equal(await ping(redis.port), true);
    // The client may have dropped its connection on the timeout: it reconnects.
    const after = await client.set('jti:3', 'seen', { condition: 'NX', expiration: { type: 'EX', value: 5 } });
    assert.equal(after, 'OK');
    assert.equal(await client.get('jti:1'), 'seen', 'the data survived the pause');
  } finally {
    client.destroy();
    await redis.stop();
  }
  assert.equal(await ping(redis.port, { timeoutMs: 200 }), false, 'stopped');
  await redis.stop(); // idempotent
});

test('startRedis: two at once get their own ports; stop() while paused still ends it', async () => {
  const [a, b] = await Promise.all([startRedis(), startRedis()]);
  try {
    assert.notEqual(a.port, b.port);
    b.pause();
  } finally {
    await a.stop();
    await b.stop();
  }
  assert.equal(await ping(b.port, { timeoutMs: 200 }), false);
});
