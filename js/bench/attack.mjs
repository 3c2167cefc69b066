// make bench-attack-node: what one call may cost the npm package, before and after the "hardening,
// round two" change (26a598b: header, key and signature before the claims; at most 512 JSON
// values; RSA moduli over 4096 bits only with allow_large_rsa_keys; P-256 tables built on first
// use and kept across reloads; a bounded cache of recent signature failures). The same loads as
// envoy/bench/attack.mjs, through Verifier.authorize (as the middleware calls it) in a loop:
// process CPU µs per call (process.cpuUsage), and each call's wall time (how long it holds the
// event loop: the p99 and the longest). Then a 64-key P-256 JWKS reload (setJwks), timed.
//
// "before" is the package's Node glue built at the commit before that change, with that commit's
// own lib/api.js (make bench-attack-node builds it into target/js-attack/pkg-before from a git
// worktree; EDGEWARD_JS_BEFORE=<dir> points elsewhere); "after" is js/pkg (make build-js).
// Writes js/BENCHMARKS-attack.md (notes below the marker are kept). Every loop is bounded by time
// and by iterations.
//
//   node js/bench/attack.mjs [--ms 1000] [--rounds 3] [--out FILE] [--smoke]
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bigValidToken, bogus, claimsFor, esKey, junkToken, mint, rs8192, rsKey } from '../../perf/attack-tokens.mjs';

const require = createRequire(import.meta.url);
const JS = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ROOT = resolve(JS, '..');
const argv = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
};
const SMOKE = argv.includes('--smoke');
const MS = Number(arg('--ms', SMOKE ? '200' : '1000'));
const ROUNDS = Number(arg('--rounds', SMOKE ? '1' : '3'));
const WARMUP_MS = SMOKE ? 50 : 200;
const MAX_CALLS = 2_000_000;
const RELOADS = SMOKE ? 4 : 8; // timed reloads per round
const OUT = arg('--out', join(JS, 'BENCHMARKS-attack.md'));
const BEFORE_DIR = process.env.EDGEWARD_JS_BEFORE ?? join(ROOT, 'target/js-attack/pkg-before');
const BEFORE_REV = process.env.EDGEWARD_BEFORE_REV ?? 'eef8892';
const ISSUER = 'https://idp.attack';
const AUDIENCE = 'orders-api';
const TOKEN_CACHE = 1024;
const BAD_SIGNATURE = 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED';
const NO_KEY = 'ERR_JWKS_NO_MATCHING_KEY';
const TARGET = { bogusRatio: 1.1, junkRatio: 1.0, replayUs: 5, stallMs: 5 };
const started = Date.now();

if (!existsSync(join(JS, 'pkg/edgeward_js.js'))) throw new Error('js/pkg is missing: make build-js');
if (!existsSync(join(BEFORE_DIR, 'api.cjs'))) throw new Error(`${BEFORE_DIR} is missing: make bench-attack-node builds it`);
const wasmId = (dir) => createHash('sha256').update(readFileSync(join(dir, 'edgeward_js_bg.wasm'))).digest('hex');
if (wasmId(BEFORE_DIR) === wasmId(join(JS, 'pkg'))) throw new Error(`${BEFORE_DIR} holds the same wasm as js/pkg: not a before build`);
// Each build is makeApi (its own lib/api.js) over its own wasm-bindgen glue, as index.cjs does.
const load = (dir) => require(join(dir, 'api.cjs'))(require(join(dir, 'edgeward_js.js')));
const builds = [
  { name: 'before', dir: BEFORE_DIR, api: load(BEFORE_DIR) },
  { name: 'after', dir: join(JS, 'pkg'), api: load(join(JS, 'pkg')) },
];

// ---- keys and tokens (node:crypto) ----

const claims = claimsFor(ISSUER, AUDIENCE);

const es = esKey('es');
const rs = rsKey('rs', 2048);
const rs8k = await rs8192('rs8k', ROOT);
const size = (full, smoke) => (SMOKE ? smoke : full);
console.log('minting tokens…');
const pools = {
  validEs: Array.from({ length: size(4000, 1500) }, (_, i) => mint(es, claims(`bot-${i}`))),
  validRs: Array.from({ length: size(2000, 1100) }, (_, i) => mint(rs, claims(`bot-${i}`))),
  bogusEs: Array.from({ length: size(4000, 1500) }, (_, i) => bogus(es, claims(`bot-${i}`))),
  bogusRs: Array.from({ length: size(2000, 600) }, (_, i) => bogus(rs, claims(`bot-${i}`))),
  bogusRs8k: Array.from({ length: size(600, 300) }, (_, i) => bogus(rs8k, claims(`bot-${i}`))),
  junkUnknown: Array.from({ length: size(100, 20) }, () => junkToken('nope').token),
  bigValid: Array.from({ length: size(100, 20) }, (_, i) => bigValidToken(es, claims, i)),
  junkKnown: Array.from({ length: size(100, 20) }, () => junkToken('es').token),
  replay: [bogus(es, claims('replayed'))],
};
const MEMBERS = junkToken('es').members;

const ROWS = [
  { id: 'valid-es', label: 'valid ES256, cold (distinct tokens)', path: '/es', pool: 'validEs' },
  { id: 'valid-rs', label: 'valid RS256 2048, cold (distinct tokens)', path: '/rs', pool: 'validRs' },
  { id: 'none', label: 'no token', path: '/es', code: 'ERR_JWT_MISSING' },
  { id: 'bogus-es', label: 'bogus ES256, known kid (distinct)', path: '/es', pool: 'bogusEs', code: BAD_SIGNATURE },
  { id: 'bogus-rs', label: 'bogus RS256 2048, known kid (distinct)', path: '/rs', pool: 'bogusRs', code: BAD_SIGNATURE },
  { id: 'bogus-rs8k', label: 'bogus RS256 8192, known kid (distinct)', path: '/rs8k', pool: 'bogusRs8k', code: BAD_SIGNATURE },
  { id: 'junk-unknown', label: `16 KiB token, ${MEMBERS} members, unknown kid`, path: '/es', pool: 'junkUnknown', code: NO_KEY },
  { id: 'big-es', label: '16 KiB ES256 token, valid (padding claim)', path: '/es', pool: 'bigValid' },
  { id: 'junk-known', label: `16 KiB token, ${MEMBERS} members, known kid, bogus signature`, path: '/es', pool: 'junkKnown', code: BAD_SIGNATURE },
  { id: 'replay', label: 'one bogus ES256 token, replayed', path: '/es', pool: 'replay', code: BAD_SIGNATURE },
];

// ---- verifiers ----

function policy(largeRsaFlag) {
  const provider = (key) => ({ issuer: ISSUER, audiences: [AUDIENCE], algorithms: [key.alg], local_jwks: { keys: [key.jwk] } });
  return {
    providers: { es: provider(es), rs: provider(rs), rs8k: { ...provider(rs8k), ...(largeRsaFlag ? { allow_large_rsa_keys: true } : {}) } },
    rules: ['es', 'rs', 'rs8k'].map((name) => ({ match: { path: `/${name}` }, requires: { provider_name: name } })),
    token_cache_size: TOKEN_CACHE,
  };
}
// A build that knows allow_large_rsa_keys refuses the 8192-bit key without it; one that does not
// refuses the field (unknown fields are refused) and loads the key.
let refusedByDefault = null;
for (const build of builds) {
  try {
    build.verifier = new build.api.Verifier(policy(true));
    build.largeRsaFlag = true;
  } catch (e) {
    if (!/allow_large_rsa_keys/.test(e.message)) throw e;
    build.verifier = new build.api.Verifier(policy(false));
    build.largeRsaFlag = false;
  }
  if (build.largeRsaFlag) {
    try {
      new build.api.Verifier(policy(false)).free();
      throw new Error(`${build.name}: an 8192-bit key loaded without allow_large_rsa_keys`);
    } catch (e) {
      if (e.code !== 'ERR_POLICY_INVALID') throw e;
      refusedByDefault ??= e.message;
    }
  }
}

// One call as the middleware makes it; returns the error code ('' for a grant).
const headersOf = (row) => (pools[row.pool] ?? [null]).map((t) => (t === null ? {} : { authorization: `Bearer ${t}` }));
function call(verifier, path, headers) {
  try {
    verifier.authorize('GET', path, headers);
    return '';
  } catch (e) {
    if (e.code === undefined) throw e;
    return e.code;
  }
}
for (const build of builds) {
  for (const row of ROWS) {
    const got = call(build.verifier, row.path, headersOf(row)[0]);
    if (got !== (row.code ?? '')) throw new Error(`${build.name}: ${row.label}: expected ${row.code ?? 'a grant'}, got ${got || 'a grant'}`);
  }
}

// Runs `row` for `ms` (or MAX_CALLS): CPU µs per call, calls/s, and the wall time of single calls.
const times = new Float64Array(MAX_CALLS);
function measure(verifier, row, ms) {
  const headers = headersOf(row);
  let n = 0;
  let i = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + ms;
  let t = t0;
  while (n < MAX_CALLS && t < end) {
    const h = headers[i];
    i = i + 1 === headers.length ? 0 : i + 1;
    call(verifier, row.path, h);
    const t1 = performance.now();
    times[n++] = t1 - t;
    t = t1;
  }
  const cpu = process.cpuUsage(cpu0);
  const sorted = times.subarray(0, n).sort();
  return { calls: n, cpuUs: (cpu.user + cpu.system) / n, rate: n / ((t - t0) / 1000), p99: sorted[Math.floor(n * 0.99)], max: sorted[n - 1] };
}

const samples = new Map();
const add = (key, value) => samples.set(key, [...(samples.get(key) ?? []), value]);
for (let round = 1; round <= ROUNDS; round += 1) {
  for (const row of ROWS) {
    for (const build of round % 2 ? builds : [...builds].reverse()) {
      measure(build.verifier, row, WARMUP_MS);
      const r = measure(build.verifier, row, MS);
      add(`${row.id}|${build.name}`, r);
      console.log(`round ${round}  ${build.name.padEnd(6)} ${row.label.padEnd(58)} ${r.cpuUs.toFixed(1).padStart(8)} µs/call  max ${r.max.toFixed(2)} ms`);
    }
  }
}

// ---- reload: setJwks of a 64-key P-256 document, then the next call with a valid token ----

const others = (tag) => Array.from({ length: 63 }, (_, i) => esKey(`${tag}${i}`).jwk);
const docs = ['a', 'b'].map((tag) => JSON.stringify({ keys: [es.jwk, ...others(tag)] }));
const legit = { authorization: `Bearer ${pools.validEs[0]}` };
const reloads = new Map();
for (const build of builds) {
  const verifier = new build.api.Verifier({
    providers: { idp: { issuer: ISSUER, audiences: [AUDIENCE], local_jwks: { keys: [es.jwk] } } },
    rules: [{ match: { path: '/es' }, requires: { provider_name: 'idp' } }],
    token_cache_size: TOKEN_CACHE,
  });
  build.reloadVerifier = verifier;
  for (let i = 0; i < 2; i += 1) { verifier.setJwks('idp', docs[i % 2]); call(verifier, '/es', legit); }
}
for (let round = 1; round <= ROUNDS; round += 1) {
  for (const build of round % 2 ? builds : [...builds].reverse()) {
    for (let i = 0; i < RELOADS; i += 1) {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const keys = build.reloadVerifier.setJwks('idp', docs[i % 2]);
      const t1 = performance.now();
      const code = call(build.reloadVerifier, '/es', legit);
      const t2 = performance.now();
      const cpu = process.cpuUsage(cpu0);
      if (keys !== 64 || code !== '') throw new Error(`${build.name}: reload loaded ${keys} keys, then ${code || 'a grant'}`);
      reloads.set(build.name, [...(reloads.get(build.name) ?? []), { setJwks: t1 - t0, next: t2 - t1, cpu: (cpu.user + cpu.system) / 1000 }]);
    }
  }
}
for (const build of builds) { build.verifier.free(); build.reloadVerifier.free(); }

// ---- the report ----

function median(values) {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return v.length === 0 ? NaN : v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}
const cell = (id, build) => {
  const runs = samples.get(`${id}|${build}`) ?? [];
  const cpuUs = runs.map((r) => r.cpuUs);
  return { cpuUs: median(cpuUs), lo: Math.min(...cpuUs), hi: Math.max(...cpuUs), rate: median(runs.map((r) => r.rate)), p99: median(runs.map((r) => r.p99)), max: Math.max(...runs.map((r) => r.max)) };
};
const cpu = (id, build) => cell(id, build).cpuUs;
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '—');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '—');
const f3 = (x) => (Number.isFinite(x) ? x.toFixed(3) : '—');
const verdict = (ok) => (ok ? 'met' : '**not met**');
// A ratio over its bar whose rounds still overlap the bar (the numerator's lowest round at most
// the bar times the denominator's highest) is at the bar within this run's spread, not beyond it.
function ratioVerdict(num, den, bar) {
  const a = cell(num, 'after');
  const b = cell(den, 'after');
  if (a.cpuUs / b.cpuUs <= bar) return 'met';
  return a.lo <= b.hi * bar ? 'at the bar within the spread of the rounds' : '**not met**';
}

const lines = [];
for (const row of ROWS) {
  for (const build of builds) {
    const c = cell(row.id, build.name);
    const change = build.name === 'after' ? `${f2(c.cpuUs / cpu(row.id, 'before'))}×` : '';
    const note = row.id === 'bogus-rs8k' && build.largeRsaFlag ? ' (with `allow_large_rsa_keys: true`)' : '';
    lines.push(`| ${build.name === 'before' ? row.label : ''} | ${build.name}${note} | ${f1(c.cpuUs)} (${f1(c.lo)}–${f1(c.hi)}) | ${change} | ${c.rate.toFixed(0)} | ${f3(c.p99)} | ${f2(c.max)} | ${row.code ? row.code.replace(/^ERR_/, '') : 'granted'} |`);
    if (row.id === 'bogus-rs8k' && build.largeRsaFlag && refusedByDefault) {
      lines.push(`|  | ${build.name}, default policy | refused: \`${refusedByDefault}\` |  |  |  |  |  |`);
    }
  }
}
const targets = [];
for (const [bogusId, validId, what] of [['bogus-es', 'valid-es', 'ES256'], ['bogus-rs', 'valid-rs', 'RS256 2048']]) {
  const r = (b) => cpu(bogusId, b) / cpu(validId, b);
  targets.push(`| bogus ${what} ÷ cold valid ${what} | ≤ ${TARGET.bogusRatio}× | ${f2(r('after'))}× (${f1(cpu(bogusId, 'after'))} / ${f1(cpu(validId, 'after'))} µs) | ${f2(r('before'))}× | ${ratioVerdict(bogusId, validId, TARGET.bogusRatio)} |`);
}
const afterBuild = builds.find((b) => b.name === 'after');
targets.push(`| 8192-bit RSA key, default policy | refused | ${refusedByDefault && afterBuild.largeRsaFlag ? `refused; allowed: bogus token ${f1(cpu('bogus-rs8k', 'after'))} µs = ${f1(cpu('bogus-rs8k', 'after') / cpu('bogus-rs', 'after'))}× a 2048-bit one` : 'loads'} | loads: ${f1(cpu('bogus-rs8k', 'before'))} µs per bogus token | ${verdict(Boolean(refusedByDefault && afterBuild.largeRsaFlag))} |`);
for (const [id, what] of [['junk-known', 'known kid, bogus signature'], ['junk-unknown', 'unknown kid']]) {
  const r = (b) => cpu(id, b) / cpu('big-es', b);
  targets.push(`| 16 KiB junk (${what}) ÷ 16 KiB valid ES256 (decode, hash, one signature check) | ≤ ${TARGET.junkRatio.toFixed(1)}× | ${f2(r('after'))}× (${f1(cpu(id, 'after'))} / ${f1(cpu('big-es', 'after'))} µs) | ${f2(r('before'))}× | ${ratioVerdict(id, 'big-es', TARGET.junkRatio)} |`);
}
const replayWork = (b) => cpu('replay', b) - cpu('none', b);
targets.push(`| replayed bogus token: work over a no-token refusal | ≤ ${TARGET.replayUs} µs | ${f1(replayWork('after'))} µs (${f1(cpu('replay', 'after'))} − ${f1(cpu('none', 'after'))}) | ${f1(replayWork('before'))} µs | ${verdict(replayWork('after') <= TARGET.replayUs)} |`);
const reloadOf = (b) => reloads.get(b) ?? [];
const stalls = (b) => reloadOf(b).map((r) => r.setJwks + r.next);
const stall = (b) => median(stalls(b));
const stallText = (b) => `${f2(stall(b))} ms (longest ${f2(Math.max(...stalls(b)))}; ${stalls(b).length} reloads)`;
targets.push(`| 64-key P-256 JWKS reload: setJwks + the next call, median | ≤ ${TARGET.stallMs} ms | ${stallText('after')} | ${stallText('before')} | ${verdict(stall('after') <= TARGET.stallMs)} |`);
const reloadLines = builds.map((b) => {
  const r = reloadOf(b.name);
  const set = r.map((x) => x.setJwks);
  const next = r.map((x) => x.next);
  const cpuMs = r.map((x) => x.cpu);
  return `| ${b.name} | ${r.length} | ${f2(median(set))} | ${f2(Math.max(...set))} | ${f3(median(next))} | ${f3(Math.max(...next))} | ${f2(median(cpuMs))} |`;
});

const fileId = (path) => createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 12);
const commandLine = `node js/bench/attack.mjs${argv.length ? ` ${argv.join(' ')}` : ''}`;
const minutes = ((Date.now() - started) / 60000).toFixed(1);
const md = `# What one call may cost (make bench-attack-node)

Node ${process.version}, the npm package's \`Verifier.authorize('GET', path, { authorization })\` in a
loop, as the middleware calls it: ${MS} ms per cell after ${WARMUP_MS} ms untimed, ${ROUNDS} interleaved rounds (the order
of the builds alternates), each cell the median (range in brackets). "CPU" is process.cpuUsage
(user + system) over the loop divided by the calls; "p99 / longest call" is the wall time of one
call, i.e. how long it holds the event loop. A refusal includes building its EdgewardError.
**before** is the package at ${BEFORE_REV} (the commit before 26a598b; its Node glue and its own
lib/api.js), **after** the current js/pkg. Both have the same policy: providers \`es\` (ES256), \`rs\`
(RS256, 2048-bit key), \`rs8k\` (RS256, 8192-bit key; after: \`allow_large_rsa_keys: true\`), one key each
in \`local_jwks\`, \`token_cache_size\` ${TOKEN_CACHE}. Distinct loads cycle through more tokens than the caches hold
(valid ES256 ${pools.validEs.length}, valid RS256 ${pools.validRs.length}, bogus ES256 ${pools.bogusEs.length}, bogus RS256 ${pools.bogusRs.length} / ${pools.bogusRs8k.length}; the failure cache holds
256; tokens over 8 KiB are never cached). Bogus tokens: ordinary claims, a fresh random signature of
the right length (RSA: below the modulus). 16 KiB junk: ${MEMBERS} members \`"m0001":12\`. Machine: ${cpus().length} ×
${cpus()[0]?.model ?? 'CPU'}, shared with other work — compare rows of one run.

| load | build | CPU µs/call (range) | after ÷ before | calls/s | p99 call ms | longest call ms | answer |
| --- | --- | --- | --- | --- | --- | --- | --- |
${lines.join('\n')}

## Targets (computed from this run)

| target | bar | after | before | verdict |
| --- | --- | --- | --- | --- |
${targets.join('\n')}

A ratio over its bar is "at the bar within the spread of the rounds" when the numerator's cheapest
round is still within the bar of the denominator's dearest one: the run cannot tell it from the bar.

## 64-key P-256 JWKS reload

\`setJwks\` with the other of two 64-key documents (the signing key and 63 others that differ between
them) ${RELOADS} times per round, each followed by one \`authorize\` with a valid token (the first use of the
signing key after the reload); wall time, ms. In Node the call blocks the event loop for its whole length.
The longest of any cell says more about the shared machine and the garbage collector than about the
call (compare the longest calls of the loads above with their p99).

| build | reloads | setJwks median | setJwks longest | next call median | next call longest | CPU of both, median |
| --- | --- | --- | --- | --- | --- | --- |
${reloadLines.join('\n')}

Builds: before \`${relative(ROOT, BEFORE_DIR)}\` (wasm sha256 ${fileId(join(BEFORE_DIR, 'edgeward_js_bg.wasm'))}), after \`js/pkg\` (wasm sha256 ${fileId(join(JS, 'pkg/edgeward_js_bg.wasm'))}).
Generated ${new Date().toISOString().slice(0, 10)} in ${minutes} min by \`make bench-attack-node\` (\`${commandLine}\`).
`;
const MARKER = '<!-- notes: kept by make bench-attack-node -->';
let notes = '';
try { const old = readFileSync(OUT, 'utf8'); if (old.includes(MARKER)) notes = old.slice(old.indexOf(MARKER)); } catch { /* first run */ }
writeFileSync(OUT, notes ? `${md}\n${notes}` : md);
console.log(`\nwrote ${OUT} (${minutes} min)`);
