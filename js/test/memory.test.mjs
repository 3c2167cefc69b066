// Wasm memory is managed for the user: a million verifications leave the wasm heap and the
// process where they were after a warm-up. wasm memory never shrinks, so any per-call leak in
// the glue (strings passed in, JSON handed back, error values) would show as growth.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Verifier, wasmMemoryBytes } from '../index.mjs';
import { NOW, keyPair, mint, claims, policy } from './helpers.mjs';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

const MiB = 1024 * 1024;
const key = keyPair('ES256', 'k1');

function settle() {
  for (let i = 0; i < 3; i++) gc();
  return { wasm: wasmMemoryBytes(), rss: process.memoryUsage().rss };
}

test('a million cached verifications do not grow wasm memory or RSS', () => {
  const tokens = Array.from({ length: 64 }, (_, i) => mint(key, claims({ jti: `m${i}` })));
  for (const memoize of [true, false]) {
    const v = new Verifier(policy([key.jwk]), { memoize });
    // `now` moves every call so each one crosses into wasm (a memo hit would not).
    const round = (count) => {
      let granted = 0;
      for (let i = 0; i < count; i++) {
        if (v.verify(tokens[i & 63], { now: NOW + (i % 500), scopes: ['read:orders'] }).provider === 'corp-idp') granted++;
      }
      return granted;
    };
    assert.equal(round(50_000), 50_000);
    const before = settle();
    assert.equal(round(memoize ? 1_000_000 : 300_000), memoize ? 1_000_000 : 300_000);
    // Refusals allocate an error in wasm and a JS EdgewardError each time (a cached token,
    // refused for its time, so no signature check is needed).
    for (let i = 0; i < 50_000; i++) {
      try {
        v.verify(tokens[i & 63], { now: NOW + 3600 + i });
        assert.fail('expired token accepted');
      } catch (error) {
        assert.equal(error.code, 'ERR_JWT_EXPIRED');
      }
    }
    const after = settle();
    assert.equal(v.cachedTokens, 64);
    assert.ok(after.wasm - before.wasm <= 1 * MiB, `wasm memory grew by ${after.wasm - before.wasm} bytes`);
    assert.ok(after.rss - before.rss <= 48 * MiB, `RSS grew by ${(after.rss - before.rss) / MiB} MiB`);
    v.free();
  }
});

test('verifiers that are freed (or collected) give their memory back', () => {
  const settleWasm = () => settle().wasm;
  const tokens = Array.from({ length: 5 }, (_, i) => mint(key, claims({ jti: `f${i}` })));
  const make = () => {
    const v = new Verifier(policy([key.jwk]));
    for (const token of tokens) v.verify(token, { now: NOW });
    return v;
  };
  for (let i = 0; i < 20; i++) make().free();
  const before = settleWasm();
  for (let i = 0; i < 100; i++) make().free();
  assert.ok(settleWasm() - before <= 1 * MiB, 'freed verifiers leaked wasm memory');
});

test('verifiers dropped without free() are released by the garbage collector', async () => {
  const tokens = [mint(key, claims({ jti: 'g' }))];
  const round = () => {
    for (let i = 0; i < 50; i++) {
      const v = new Verifier(policy([key.jwk]));
      for (const token of tokens) v.verify(token, { now: NOW });
    }
  };
  const collect = async () => {
    for (let i = 0; i < 5; i++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return wasmMemoryBytes();
  };
  for (let i = 0; i < 4; i++) round();
  const before = await collect();
  for (let i = 0; i < 40; i++) {
    round();
    if (i % 4 === 3) await collect();
  }
  // 2,000 verifiers with their caches and key sets would need several MiB if none were released.
  assert.ok((await collect()) - before <= 1 * MiB, 'collected verifiers leaked wasm memory');
});
