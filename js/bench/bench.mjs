// make bench-node: edgeward (the built package) against jose, fast-jwt (with and without its
// cache), jsonwebtoken and a node:crypto floor, in one bounded run. Writes js/BENCHMARKS-node.md.
//
// Warm (one token again and again): ES256 and RS256, ops/s (issue 4's bar). Cold (a pool of
// distinct tokens larger than any cache, so every call checks a signature): ES256, RS256, PS256
// and EdDSA, wall-clock ops/s and process CPU time per operation, with "edgeward before issue 5"
// (the same package built with the core's `crate-verify` feature by bench/build-crate-verify.sh)
// beside the current build, and the issue 5 goals computed from the run.
//
// Every library checks the same things: signature, algorithm, issuer, audience, exp; each is
// checked to refuse a bad signature, a wrong issuer or audience and an expired token before it is
// timed. Tokens are minted with node:crypto. Each run is bounded by time and iterations.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { Verifier } from '../index.mjs';
import { AUDIENCE, ISSUER, keys } from './keys.mjs';

const require = createRequire(import.meta.url);
const jose = await import('jose');
const { createVerifier } = require('fast-jwt');
const jsonwebtoken = require('jsonwebtoken');

const js = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// "edgeward before issue 5": the Verifier class built from the crate-verify package the way
// index.cjs builds it from pkg/ (makeApi over the wasm-bindgen glue).
const beforeDir = path.join(js, 'bench/pkg-crate-verify');
if (!fs.existsSync(path.join(beforeDir, 'edgeward_js.js')) || !fs.existsSync(path.join(beforeDir, 'api.cjs'))) {
  throw new Error('js/bench/pkg-crate-verify/ is missing: run `bash bench/build-crate-verify.sh` in js/ (make bench-node does)');
}
const { Verifier: VerifierBefore } = require(path.join(beforeDir, 'api.cjs'))(require(path.join(beforeDir, 'edgeward_js.js')));

const POOL = 2000; // distinct tokens for the cold runs
const CACHE = 1000; // every cache in the cold runs is smaller than the pool, so every call misses
const WARM_MS = Number(process.env.BENCH_WARM_MS ?? 1000);
const COLD_MS = Number(process.env.BENCH_COLD_MS ?? 1500);
const MAX_ITERATIONS = 5_000_000;
// Untimed calls before each cell, so JIT and wasm tier-up (V8 starts wasm on its baseline compiler)
// finish before the clock starts; the first cell to run a code path would be penalised otherwise.
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 200);
const WARM_ALGS = ['ES256', 'RS256'];
const COLD_ALGS = ['ES256', 'RS256', 'PS256', 'EdDSA'];
// Issue 5's goals: edgeward cold ÷ jose (by CPU time per operation) at least this much.
const JOSE_GOAL = { ES256: 1.0, RS256: 0.5, PS256: 0.5, EdDSA: 0.5 };
const FLOOR_GOAL = 2.5; // ES256: edgeward CPU µs/op ÷ node:crypto CPU µs/op at most this

// Tokens every contender must refuse before it is timed.
function badTokens(k, pool) {
  const [h1, p1] = pool[1].split('.');
  return {
    'signature of another token': `${h1}.${p1}.${pool[0].split('.')[2]}`,
    'wrong issuer': k.mint('bad-iss', { iss: 'https://other.example.com' }),
    'wrong audience': k.mint('bad-aud', { aud: 'other-api' }),
    expired: k.mint('expired', { iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 }),
  };
}

async function accepts(verify, token, isAsync) {
  try {
    return Boolean(isAsync ? await verify(token) : verify(token));
  } catch {
    return false;
  }
}

// Runs `verify(token)` over `tokens` (cycled) until `ms` or MAX_ITERATIONS. Returns wall-clock
// ops/s and process CPU time (user + system, all threads) per operation in µs.
async function measure(verify, tokens, ms, isAsync, label) {
  // Warm-up, and a check that the library accepts the tokens at all (a refusal throws or is falsy).
  for (let i = 0; i < Math.min(tokens.length, 50); i++) {
    const result = isAsync ? await verify(tokens[i]) : verify(tokens[i]);
    if (!result) throw new Error(`${label}: verification of a good token returned ${result}`);
  }
  let index = 0;
  const warmupEnd = performance.now() + WARMUP_MS;
  for (let calls = 0; calls < MAX_ITERATIONS && performance.now() < warmupEnd; calls += 64) {
    for (let i = 0; i < 64; i++) {
      const token = tokens[index];
      index = index + 1 === tokens.length ? 0 : index + 1;
      if (isAsync) await verify(token);
      else verify(token);
    }
  }
  let done = 0;
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const deadline = start + ms;
  while (done < MAX_ITERATIONS) {
    // Check the clock every 64 calls (cheap calls) to keep timing overhead out of the loop.
    for (let i = 0; i < 64; i++) {
      const token = tokens[index];
      index = index + 1 === tokens.length ? 0 : index + 1;
      if (isAsync) await verify(token);
      else verify(token);
    }
    done += 64;
    if (performance.now() >= deadline) break;
  }
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  return { ops: done / seconds, cpuUs: (cpu.user + cpu.system) / done };
}

// The floor: node:crypto's signature check with a reused KeyObject, JSON.parse of the payload and
// iss/aud/exp by hand. Not a JWT library (no header parsing, no kid or alg checks): a lower bound.
// Throws on any failure, so a refusal is loud inside the timed loop too.
function nodeCryptoVerify(k) {
  const { hash, verifyKey } = k;
  return (token) => {
    const first = token.indexOf('.');
    const last = token.lastIndexOf('.');
    const signature = Buffer.from(token.slice(last + 1), 'base64url');
    if (!crypto.verify(hash, Buffer.from(token.slice(0, last), 'latin1'), verifyKey, signature)) {
      throw new Error('bad signature');
    }
    const claims = JSON.parse(Buffer.from(token.slice(first + 1, last), 'base64url').toString('utf8'));
    if (claims.iss !== ISSUER) throw new Error('issuer');
    if (Array.isArray(claims.aud) ? !claims.aud.includes(AUDIENCE) : claims.aud !== AUDIENCE) throw new Error('audience');
    if (typeof claims.exp !== 'number' || Math.floor(Date.now() / 1000) >= claims.exp) throw new Error('expired');
    return claims;
  };
}

const NAMES = {
  edgeward: 'edgeward',
  memoOff: 'edgeward, memo off (every call crosses into wasm)',
  before: 'edgeward before issue 5 (crate-verify build)',
  fastCache: 'fast-jwt, cache',
  fastNoCache: 'fast-jwt, no cache',
  jsonwebtoken: 'jsonwebtoken',
  jose: 'jose (async)',
  floor: 'node:crypto (signature + JSON.parse + iss/aud/exp by hand; not a JWT library)',
};

function contenders(alg, k, mode) {
  const policy = (cacheSize) => ({
    providers: { idp: { issuer: ISSUER, audiences: [AUDIENCE], algorithms: [alg], local_jwks: { keys: [k.jwk] } } },
    token_cache_size: cacheSize,
  });
  const fastJwt = (cache) =>
    createVerifier({ key: k.pem, algorithms: [alg], allowedIss: ISSUER, allowedAud: AUDIENCE, cache: cache ? CACHE : false });
  const all = [
    {
      name: NAMES.edgeward,
      make: () => {
        const v = new Verifier(policy(CACHE));
        return (token) => v.verify(token);
      },
    },
    {
      name: NAMES.memoOff,
      make: () => {
        const v = new Verifier(policy(CACHE), { memoize: false });
        return (token) => v.verify(token);
      },
    },
    {
      name: NAMES.before,
      cold: true,
      make: () => {
        const v = new VerifierBefore(policy(CACHE));
        return (token) => v.verify(token);
      },
    },
    { name: NAMES.fastCache, make: () => fastJwt(true) },
    { name: NAMES.fastNoCache, make: () => fastJwt(false) },
    {
      name: NAMES.jsonwebtoken,
      // jsonwebtoken 9 has RS/PS/ES but no EdDSA.
      supports: (a) => a !== 'EdDSA',
      make: () => (token) => jsonwebtoken.verify(token, k.pem, { algorithms: [alg], issuer: ISSUER, audience: AUDIENCE }),
    },
    {
      name: NAMES.jose,
      isAsync: true,
      // Resolves to { payload, protectedHeader } or rejects.
      make: () => (token) => jose.jwtVerify(token, k.publicKey, { algorithms: [alg], issuer: ISSUER, audience: AUDIENCE }),
    },
    { name: NAMES.floor, cold: true, make: () => nodeCryptoVerify(k) },
  ];
  return all.filter((c) => (mode === 'cold' || c.cold !== true));
}

const warm = new Map(); // name -> { ES256: ops, RS256: ops }
const cold = new Map(); // name -> { ES256: { ops, cpuUs } | null (n/a), ... }
const record = (table, name, alg, value) => {
  if (!table.has(name)) table.set(name, {});
  table.get(name)[alg] = value;
};
const line = (cell, name, text) => process.stdout.write(`${cell.padEnd(11)} ${name.padEnd(80)} ${text}\n`);
const fmt = (ops) => Math.round(ops).toLocaleString('en-US');
const fmtUs = (us) => (us >= 100 ? us.toFixed(0) : us >= 10 ? us.toFixed(1) : us.toFixed(2));

const keyring = new Map();
for (const alg of COLD_ALGS) {
  const k = keys(alg);
  keyring.set(alg, { k, pool: Array.from({ length: POOL }, (_, i) => k.mint(i)) });
}

for (const mode of ['warm', 'cold']) {
  for (const alg of mode === 'warm' ? WARM_ALGS : COLD_ALGS) {
    const { k, pool } = keyring.get(alg);
    const bad = badTokens(k, pool);
    for (const c of contenders(alg, k, mode)) {
      const cell = `${alg} ${mode}`;
      if (c.supports && !c.supports(alg)) {
        record(mode === 'warm' ? warm : cold, c.name, alg, null);
        line(cell, c.name, 'n/a (algorithm not supported)');
        continue;
      }
      const verify = c.make();
      const isAsync = c.isAsync === true;
      for (const [what, token] of Object.entries(bad)) {
        if (await accepts(verify, token, isAsync)) throw new Error(`${c.name} accepted a token with ${what} (${alg})`);
      }
      const tokens = mode === 'warm' ? [pool[0]] : pool;
      const m = await measure(verify, tokens, mode === 'warm' ? WARM_MS : COLD_MS, isAsync, `${c.name} ${cell}`);
      if (mode === 'warm') record(warm, c.name, alg, m.ops);
      else record(cold, c.name, alg, m);
      line(cell, c.name, `${fmt(m.ops).padStart(12)} ops/s ${fmtUs(m.cpuUs).padStart(8)} µs CPU/op`);
    }
  }
}

const ratio = (a, b) => (a / b >= 10 ? (a / b).toFixed(0) : (a / b).toFixed(a / b >= 1 ? 1 : 2));
const x2 = (r) => `${r.toFixed(2)}×`;
const wasm = fs.readFileSync(path.join(js, 'pkg/edgeward_js_bg.wasm'));
const gzipped = zlib.gzipSync(wasm, { level: 9 }).length;
const warmBar = (alg) => warm.get(NAMES.edgeward)[alg] / warm.get(NAMES.fastCache)[alg];
const coldOf = (name, alg) => cold.get(name)[alg];
// Wall: edgeward ops/s ÷ peer ops/s. CPU: peer CPU µs/op ÷ edgeward CPU µs/op. >1: edgeward ahead.
const wallRatio = (alg, peer, own = NAMES.edgeward) => coldOf(own, alg).ops / coldOf(peer, alg).ops;
const cpuRatio = (alg, peer, own = NAMES.edgeward) => coldOf(peer, alg).cpuUs / coldOf(own, alg).cpuUs;
const met = (ok) => (ok ? 'met' : '**NOT met**');

const lines = [];
lines.push('# edgeward on Node: benchmarks', '');
lines.push(
  `Generated by \`make bench-node\` (js/bench/bench.mjs) on ${new Date().toISOString().slice(0, 10)}: Node ${process.version}, ` +
    `${os.cpus()[0]?.model ?? 'unknown CPU'} (${os.cpus().length} cores, shared), ${os.platform()}/${os.arch()}.`,
  '',
);
lines.push(
  'Every library checks signature, `alg`, `iss`, `aud` and `exp`, and each is first checked to refuse a bad signature, ' +
    'a wrong issuer, a wrong audience and an expired token. Tokens are minted with node:crypto (RSA 2048, P-256, Ed25519; ' +
    `PS256 with salt length 32). Runs are bounded: ${WARM_MS} ms per warm cell, ${COLD_MS} ms per cold cell, each after ` +
    `${WARMUP_MS} ms of untimed calls, ` +
    `at most ${MAX_ITERATIONS.toLocaleString('en-US')} calls. jose v6 is asynchronous (WebCrypto), so its loop awaits each call.`,
  '',
);

lines.push('## Warm: one token again and again', '');
lines.push('Operations per second (higher is better); "×" is edgeward\'s ops/s divided by that row\'s, in the same column.', '');
lines.push(`| library | ${WARM_ALGS.map((a) => `${a} warm | ×`).join(' | ')} |`);
lines.push(`| --- | ${WARM_ALGS.map(() => '---: | ---:').join(' | ')} |`);
for (const [name, row] of warm) {
  lines.push(`| ${name} | ${WARM_ALGS.map((a) => `${fmt(row[a])} | ${ratio(warm.get(NAMES.edgeward)[a], row[a])}`).join(' | ')} |`);
}
lines.push('');
lines.push(
  `- Bar (issue 4): warm ≥ 10× fast-jwt with its cache. ES256: **${warmBar('ES256').toFixed(1)}×**, ` +
    `RS256: **${warmBar('RS256').toFixed(1)}×** — ${warmBar('ES256') >= 10 && warmBar('RS256') >= 10 ? 'met' : 'NOT met'}.`,
);
lines.push(
  '- Warm, edgeward answers a repeated call (same token, provider, scopes and second) from a small JS memo of ' +
    "the core's answer, without crossing into wasm; the core's own cache is behind it. The \"memo off\" row is every " +
    'call going through wasm-bindgen into the core and its token cache: ' +
    `${(warm.get(NAMES.memoOff).ES256 / warm.get(NAMES.fastCache).ES256).toFixed(1)}× ` +
    `(ES256) and ${(warm.get(NAMES.memoOff).RS256 / warm.get(NAMES.fastCache).RS256).toFixed(1)}× (RS256) fast-jwt's cache — ` +
    `a call through wasm takes about ${(1e6 / warm.get(NAMES.memoOff).ES256).toFixed(1)} µs ` +
    '(copying the token into wasm memory, hashing it for the core cache, checking time and scopes).',
);
lines.push('');

lines.push('## Cold: every call checks a signature', '');
lines.push(
  `A pool of ${POOL.toLocaleString('en-US')} distinct tokens, cycled, with every cache sized ${CACHE.toLocaleString('en-US')} ` +
    '(edgeward `token_cache_size`, fast-jwt `cache`), so every call misses. For each algorithm: wall-clock operations per ' +
    'second (higher is better) and process CPU time per operation in µs (user + system over all threads, ' +
    '`process.cpuUsage()` across the timed loop ÷ calls; lower is better). CPU time counts the work jose hands to ' +
    "WebCrypto on libuv's threads, which wall-clock ops/s hides. " +
    '"edgeward before issue 5" is the same package built with the core\'s `crate-verify` feature (p256\'s own ES256 verify, ' +
    "the rsa crate's RS256/PS256 verify; EdDSA is the same code in both builds), built by `js/bench/build-crate-verify.sh`. " +
    'The node:crypto row is a floor, not a JWT library: OpenSSL\'s signature check with a reused key, `JSON.parse` of the ' +
    'payload and the `iss`/`aud`/`exp` comparisons by hand, without parsing the header.',
  '',
);
lines.push(`| library | ${COLD_ALGS.map((a) => `${a} ops/s | ${a} CPU µs`).join(' | ')} |`);
lines.push(`| --- | ${COLD_ALGS.map(() => '---: | ---:').join(' | ')} |`);
for (const [name, row] of cold) {
  lines.push(`| ${name} | ${COLD_ALGS.map((a) => (row[a] === null ? 'n/a | n/a' : `${fmt(row[a].ops)} | ${fmtUs(row[a].cpuUs)}`)).join(' | ')} |`);
}
lines.push('');
lines.push(
  '- edgeward ÷ jose, by wall-clock ops/s: ' +
    COLD_ALGS.map((a) => `${a} ${x2(wallRatio(a, NAMES.jose))}`).join(', ') +
    '; ÷ fast-jwt without cache: ' +
    COLD_ALGS.map((a) => `${a} ${x2(wallRatio(a, NAMES.fastNoCache))}`).join(', ') +
    '. Reported as measured.',
);
lines.push('');

lines.push('## Goals (issue 5)', '');
lines.push(
  'Computed from the cold table above. "CPU" ratios are the peer\'s CPU µs/op ÷ edgeward\'s (above 1: edgeward is ' +
    'cheaper per operation); "wall" ratios are edgeward\'s ops/s ÷ the peer\'s. The jose goals are judged on CPU.',
  '',
);
for (const a of COLD_ALGS) {
  const cpu = cpuRatio(a, NAMES.jose);
  const goal = JOSE_GOAL[a];
  const bar = goal >= 1 ? `≥ ${goal.toFixed(1)}× jose` : `within ${(1 / goal).toFixed(0)}× of jose (≥ ${goal.toFixed(1)}×)`;
  lines.push(
    `- ${a} cold vs jose, goal ${bar}: CPU **${x2(cpu)}** (jose ${fmtUs(coldOf(NAMES.jose, a).cpuUs)} µs, ` +
      `edgeward ${fmtUs(coldOf(NAMES.edgeward, a).cpuUs)} µs per op); wall ${x2(wallRatio(a, NAMES.jose))} — ${met(cpu >= goal)}.`,
  );
}
const floor = coldOf(NAMES.edgeward, 'ES256').cpuUs / coldOf(NAMES.floor, 'ES256').cpuUs;
lines.push(
  `- ES256 cold vs node:crypto, goal ≤ ${FLOOR_GOAL}× its CPU time per op: edgeward ${fmtUs(coldOf(NAMES.edgeward, 'ES256').cpuUs)} µs ÷ ` +
    `node:crypto ${fmtUs(coldOf(NAMES.floor, 'ES256').cpuUs)} µs = **${x2(floor)}**; ` +
    `wall ${x2(1 / wallRatio('ES256', NAMES.floor))} — ${met(floor <= FLOOR_GOAL)}.`,
);
lines.push(
  '- Speed-up over edgeward before issue 5 (edgeward ÷ the crate-verify build; no goal, reported as measured): ' +
    COLD_ALGS.map((a) => `${a} CPU ${x2(cpuRatio(a, NAMES.before))}, wall ${x2(wallRatio(a, NAMES.before))}`).join('; ') +
    '.',
);
lines.push('');
lines.push(
  `- Package size: \`pkg/edgeward_js_bg.wasm\` is ${wasm.length.toLocaleString('en-US')} bytes, ` +
    `**${gzipped.toLocaleString('en-US')} bytes gzipped** (-9); the Node and web builds hold the same module.`,
);
lines.push('');
fs.writeFileSync(path.join(js, 'BENCHMARKS-node.md'), lines.join('\n'));
console.log(
  `\nwrote js/BENCHMARKS-node.md (warm vs fast-jwt cache: ES256 ${warmBar('ES256').toFixed(1)}x, RS256 ${warmBar('RS256').toFixed(1)}x; ` +
    `cold vs jose by CPU: ${COLD_ALGS.map((a) => `${a} ${cpuRatio(a, NAMES.jose).toFixed(2)}x`).join(', ')}; ` +
    `ES256 vs node:crypto CPU ${floor.toFixed(2)}x)`,
);
