#!/usr/bin/env node
// make bench-attack: what one request may cost the filter, before and after the "hardening, round
// two" change (26a598b: header, key and signature before the claims; at most 512 JSON values;
// RSA moduli over 4096 bits only with allow_large_rsa_keys; P-256 tables built on first use and
// kept across reloads; a bounded cache of recent signature failures).
//
// Two builds of the filter side by side: "before" (EDGEWARD_BEFORE_WASM or --before-wasm, the
// commit before that change, built by `make bench-attack` from a git worktree) and "after"
// (dist/edgeward_filter.wasm, or EDGEWARD_WASM / --after-wasm). Envoy `--concurrency 1` pinned to
// CPU 0, wrk pinned to CPU 1, a direct-response route, Envoy CPU per request from /proc/<pid>/stat
// (utime + stime) around each run, as envoy/bench/bench.mjs. Every load is run for each build in
// interleaved rounds (the order of the builds alternates), each cell the median of the rounds.
// Attack loads also run once more with a legitimate client beside them (a second wrk, its own
// connections, reused valid tokens) whose p99 is reported. Then a 64-key P-256 JWKS reload: a
// paced legitimate stream while the JWKS server swaps between two 64-key documents every fetch
// (cache_duration_seconds 1); the stall is the longest request over the median.
// Writes envoy/BENCHMARKS-attack.md (hand-written notes below the marker are kept).
//
//   node envoy/bench/attack.mjs [--seconds 3] [--rounds 3] [--warmup 1] [--connections 64]
//     [--legit-connections 4] [--reload-seconds 5] [--before-wasm F] [--after-wasm F] [--out F] [--smoke]
//
// --smoke: small token pools, no warm-up, and (only if the before build is missing) the after
// build in both columns; for envoy/tests/attack.test.mjs, which checks the report's shape.

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import {
  ROOT, WASM, request, startEnvoy, staticCluster, stopAll, until, wasmFilter,
} from '../tests/lib/harness.mjs';
import {
  bigValidToken, bogus, claimsFor, esKey, junkToken, mint, rs8192, rsKey,
} from '../../perf/attack-tokens.mjs';

const argv = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
};
const SMOKE = argv.includes('--smoke');
const SECONDS = Number(arg('--seconds', '3'));
const ROUNDS = Number(arg('--rounds', '3'));
const WARMUP_SECONDS = Number(arg('--warmup', SMOKE ? '0' : '1'));
const CONNECTIONS = Number(arg('--connections', '64'));
const LEGIT_CONNECTIONS = Number(arg('--legit-connections', '4'));
const RELOAD_SECONDS = Number(arg('--reload-seconds', SMOKE ? '3' : '5'));
const OUT = arg('--out', join(ROOT, 'envoy/BENCHMARKS-attack.md'));
const AFTER_WASM = arg('--after-wasm', WASM);
const DEFAULT_BEFORE_WASM = join(ROOT, 'target/before-cost/wasm32-wasip1/wasm/edgeward_envoy.wasm');
let BEFORE_WASM = arg('--before-wasm', process.env.EDGEWARD_BEFORE_WASM ?? DEFAULT_BEFORE_WASM);
const BEFORE_REV = process.env.EDGEWARD_BEFORE_REV ?? 'eef8892';
const CLK_TCK = 100; // getconf CLK_TCK on Linux
const ISSUER = 'https://idp.attack';
const AUDIENCE = 'orders-api';
const TOKEN_CACHE = 1024; // every distinct pool below is larger: each request of a cold load misses
const BAD_SIGNATURE = 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED';
const NO_KEY = 'ERR_JWKS_NO_MATCHING_KEY';
const TARGET = { bogusRatio: 1.1, junkRatio: 1.0, replayUs: 5, stallMs: 5 };
const started = Date.now();

for (const [name, value] of Object.entries({ SECONDS, ROUNDS, WARMUP_SECONDS, CONNECTIONS, LEGIT_CONNECTIONS, RELOAD_SECONDS })) {
  if (!Number.isFinite(value) || value < 0 || (name !== 'WARMUP_SECONDS' && value === 0)) throw new Error(`bad --${name.toLowerCase()}: ${value}`);
}
if (!existsSync(AFTER_WASM)) throw new Error(`${AFTER_WASM} is missing: make build-envoy`);
let beforeIsAfter = false;
if (!existsSync(BEFORE_WASM)) {
  if (!SMOKE) throw new Error(`${BEFORE_WASM} is missing: make bench-attack builds it (a worktree of ${BEFORE_REV})`);
  BEFORE_WASM = AFTER_WASM;
  beforeIsAfter = true;
}
if (!beforeIsAfter && readFileSync(BEFORE_WASM).equals(readFileSync(AFTER_WASM))) throw new Error(`${BEFORE_WASM} is the same build as ${AFTER_WASM}`);
if (spawnSync('wrk', ['--version']).error) throw new Error('wrk is not installed: scripts/setup.sh wrk');

// This process (the JWKS server and the paced client of the reload test) and both wrk runs share
// CPU 1; Envoy has CPU 0.
spawnSync('taskset', ['-a', '-pc', '1', String(process.pid)]);

const fileId = (path) => createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 12);
const claims = claimsFor(ISSUER, AUDIENCE);

const es = esKey('es');
const rs = rsKey('rs', 2048);
const rs8k = await rs8192('rs8k', ROOT);
const size = (full, smoke) => (SMOKE ? smoke : full);
console.log('minting tokens…');
const pools = {
  validEs: Array.from({ length: size(20000, 2000) }, (_, i) => mint(es, claims(`bot-${i}`))),
  validRs: Array.from({ length: size(3000, 1200) }, (_, i) => mint(rs, claims(`bot-${i}`))),
  bogusEs: Array.from({ length: size(20000, 2000) }, (_, i) => bogus(es, claims(`bot-${i}`))),
  bogusRs: Array.from({ length: size(5000, 1200) }, (_, i) => bogus(rs, claims(`bot-${i}`))),
  bogusRs8k: Array.from({ length: size(2000, 600) }, (_, i) => bogus(rs8k, claims(`bot-${i}`))),
  junkUnknown: Array.from({ length: size(300, 50) }, () => junkToken('nope').token),
  bigValid: Array.from({ length: size(300, 50) }, (_, i) => bigValidToken(es, claims, i)),
  junkKnown: Array.from({ length: size(300, 50) }, () => junkToken('es').token),
  legit: Array.from({ length: 64 }, (_, i) => mint(es, claims(`legit-${i}`))),
};
const MEMBERS = junkToken('es').members;
const replayed = bogus(es, claims('replayed'));

const ROWS = [
  { id: 'valid-es', label: 'valid ES256, cold (distinct tokens)', path: '/es', pool: 'validEs', status: 200 },
  { id: 'valid-rs', label: 'valid RS256 2048, cold (distinct tokens)', path: '/rs', pool: 'validRs', status: 200 },
  { id: 'none', label: 'no token (401)', path: '/es', status: 401, code: 'ERR_JWT_MISSING', attack: true },
  { id: 'bogus-es', label: 'bogus ES256, known kid (distinct)', path: '/es', pool: 'bogusEs', status: 401, code: BAD_SIGNATURE, attack: true },
  { id: 'bogus-rs', label: 'bogus RS256 2048, known kid (distinct)', path: '/rs', pool: 'bogusRs', status: 401, code: BAD_SIGNATURE, attack: true },
  { id: 'bogus-rs8k', label: 'bogus RS256 8192, known kid (distinct)', path: '/rs8k', pool: 'bogusRs8k', status: 401, code: BAD_SIGNATURE, attack: true },
  { id: 'junk-unknown', label: `16 KiB token, ${MEMBERS} members, unknown kid`, path: '/es', pool: 'junkUnknown', status: 401, code: NO_KEY, attack: true },
  { id: 'big-es', label: '16 KiB ES256 token, valid (padding claim)', path: '/es', pool: 'bigValid', status: 200 },
  { id: 'junk-known', label: `16 KiB token, ${MEMBERS} members, known kid, bogus signature`, path: '/es', pool: 'junkKnown', status: 401, code: BAD_SIGNATURE, attack: true },
  { id: 'replay', label: 'one bogus ES256 token, replayed', path: '/es', header: `authorization: Bearer ${replayed}`, status: 401, code: BAD_SIGNATURE, attack: true },
];
const LEGIT_ROW = { id: 'legit', label: `legitimate client alone (-c${LEGIT_CONNECTIONS}, 64 reused valid ES256 tokens)`, path: '/es', pool: 'legit', status: 200, connections: LEGIT_CONNECTIONS };
const NO_FILTER_ROWS = [
  { id: 'no-filter', label: 'Envoy without the filter (the replayed token)', path: '/es', header: `authorization: Bearer ${replayed}`, status: 200 },
  { id: 'no-filter-16k', label: 'Envoy without the filter (the 16 KiB junk tokens)', path: '/es', pool: 'junkKnown', status: 200 },
];

// ---- Envoy ----

const router = { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } };

function envoyConfig(filters, clusters = []) {
  return {
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
    static_resources: {
      listeners: [{
        name: 'attack',
        address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
        filter_chains: [{ filters: [{
          name: 'envoy.filters.network.http_connection_manager',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
            stat_prefix: 'attack',
            route_config: { virtual_hosts: [{ name: 'all', domains: ['*'], routes: [
              { match: { prefix: '/' }, direct_response: { status: 200, body: { inline_string: 'ok' } } },
            ] }] },
            http_filters: [...filters, router],
          },
        }] }],
      }],
      clusters,
    },
  };
}

// Whether a build knows the provider field `allow_large_rsa_keys` (serde keeps field names in the binary).
const knowsLargeRsaFlag = (wasm) => readFileSync(wasm).includes('allow_large_rsa_keys');

function policy({ largeRsaFlag }) {
  const provider = (key, algorithms) => ({ issuer: ISSUER, audiences: [AUDIENCE], algorithms, local_jwks: { keys: [key.jwk] } });
  return {
    providers: {
      es: provider(es, ['ES256']),
      rs: provider(rs, ['RS256']),
      rs8k: { ...provider(rs8k, ['RS256']), ...(largeRsaFlag ? { allow_large_rsa_keys: true } : {}) },
    },
    rules: ['es', 'rs', 'rs8k'].map((name) => ({ match: { path: `/${name}` }, requires: { provider_name: name } })),
    token_cache_size: TOKEN_CACHE,
  };
}

async function startPinned(config, options = {}) {
  const envoy = await startEnvoy(config, { concurrency: 1, logLevel: 'warn', ...options });
  spawnSync('taskset', ['-a', '-pc', '0', String(envoy.child.pid)]);
  return envoy;
}

function cpuTicks(pid) {
  // Fields after the parenthesised command: utime is field 14, stime 15 (1-based).
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

// ---- wrk ----

const dir = mkdtempSync(join(tmpdir(), 'edgeward-attack-'));
function loadFor(row) {
  if (row.header) return { header: row.header };
  if (!row.pool) return {};
  const tokens = join(dir, `${row.pool}.txt`);
  const script = join(dir, `${row.pool}${row.path.replace(/\W/g, '_')}.lua`);
  if (!existsSync(script)) {
    writeFileSync(tokens, `${pools[row.pool].join('\n')}\n`);
    writeFileSync(script, `
local tokens = {}
for line in io.lines("${tokens}") do tokens[#tokens + 1] = line end
local i = 0
request = function()
  i = i % #tokens + 1
  return wrk.format("GET", "${row.path}", { ["authorization"] = "Bearer " .. tokens[i] })
end
`);
  }
  return { script };
}

const toMs = (value, unit) => Number(value) * { us: 1e-3, ms: 1, s: 1000 }[unit];

function parseWrk(out) {
  const requests = Number(out.match(/(\d+) requests in/)?.[1] ?? NaN);
  const rps = Number(out.match(/Requests\/sec:\s+([\d.]+)/)?.[1] ?? NaN);
  const p = (q) => { const m = out.match(new RegExp(`\\s${q}%\\s+([\\d.]+)(us|ms|s)`)); return m ? toMs(m[1], m[2]) : NaN; };
  const max = out.match(/Latency\s+[\d.]+\w+\s+[\d.]+\w+\s+([\d.]+)(us|ms|s)/);
  const non2xx = Number(out.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0);
  const errors = out.match(/Socket errors: (.*)/)?.[1] ?? '';
  if (!Number.isFinite(requests) || requests === 0) throw new Error(`wrk served nothing:\n${out}`);
  return { requests, rps, p50: p(50), p99: p(99), max: max ? toMs(max[1], max[2]) : NaN, non2xx, errors };
}

function wrk(url, seconds, connections, load) {
  const args = ['-c', '1', 'wrk', '-t', '1', '-c', String(connections), '-d', `${seconds}s`, '--timeout', '5s', '--latency'];
  if (load.header) args.push('-H', load.header);
  if (load.script) args.push('-s', load.script);
  args.push(url);
  return new Promise((ok, fail) => {
    const child = spawn('taskset', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 30) * 1000);
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return fail(new Error(`wrk exited ${code}: ${err}${out}`));
      try { ok(parseWrk(out)); } catch (e) { fail(e); }
    });
  });
}

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

// One measured run of `row` against `envoy`, with the legitimate client beside it if `legit`.
async function measure(envoy, row, { legit = false, seconds = SECONDS } = {}) {
  const before = cpuTicks(envoy.child.pid);
  // The legitimate client starts a second after the attack (whose wrk first reads its token file
  // and opens its connections) and stops before it: it only ever sees the attack at full load.
  const [main, good] = await Promise.all([
    wrk(`${envoy.url}${row.path}`, legit ? seconds + 2 : seconds, row.connections ?? CONNECTIONS, loadFor(row)),
    legit ? sleep(1000).then(() => wrk(`${envoy.url}${LEGIT_ROW.path}`, seconds, LEGIT_CONNECTIONS, loadFor(LEGIT_ROW))) : null,
  ]);
  const ticks = cpuTicks(envoy.child.pid) - before;
  const served = main.requests + (good?.requests ?? 0);
  return { ...main, cpuUs: (ticks / CLK_TCK) * 1e6 / served, legit: good };
}

// ---- the runs ----

const builds = [
  { name: 'before', wasm: BEFORE_WASM, label: beforeIsAfter ? 'before (= after build: no before build given)' : `before (${BEFORE_REV})` },
  { name: 'after', wasm: AFTER_WASM, label: 'after' },
];
const samples = new Map(); // `${row}|${build}|solo|mixed` → runs
const add = (key, value) => samples.set(key, [...(samples.get(key) ?? []), value]);
const stalls = new Map(); // build → reload runs
let refusedByDefault = null;
const running = [];

// One request per row: every build answers as the row says (else the figures would measure something else).
async function check(envoy, build, row) {
  const token = row.header ? row.header.slice('authorization: Bearer '.length) : row.pool ? pools[row.pool][0] : null;
  const res = await request(envoy, row.path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const code = res.json?.code;
  if (res.status !== row.status || (row.code && code !== row.code)) {
    throw new Error(`${build.name}: ${row.label}: expected ${row.status} ${row.code ?? ''}, got ${res.status} ${code ?? res.text.slice(0, 200)}`);
  }
}

// After a fetch is answered, the fetching VM checks and loads the document at once and the other
// VM at its next tick (≤ 500 ms): a reload's stall is the longest request overlapping this window.
const RELOAD_WINDOW_MS = 700;

// CPU time Envoy's threads have run, in ms, from the scheduler's own account (nanoseconds; the
// ticks of /proc/<pid>/stat are 10 ms).
function runMs(pid) {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try { ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]); } catch { /* thread gone */ }
  }
  return ns / 1e6;
}

async function reloadRun(build, jwksDocs) {
  const fetchedAt = [];
  const server = http.createServer((req, res) => {
    req.resume();
    const doc = jwksDocs[server.fetches % jwksDocs.length];
    server.fetches += 1;
    res.setHeader('content-type', 'application/json');
    res.end(doc);
    fetchedAt.push(performance.now());
  });
  server.fetches = 0;
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const port = server.address().port;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let envoy;
  try {
    const reloadPolicy = {
      providers: { idp: {
        issuer: ISSUER, audiences: [AUDIENCE], algorithms: ['ES256'],
        remote_jwks: { cluster: 'idp', uri: `http://127.0.0.1:${port}/jwks`, cache_duration_seconds: 1, timeout_ms: 1000 },
      } },
      rules: [{ match: { path: '/es' }, requires: { provider_name: 'idp' } }],
      token_cache_size: TOKEN_CACHE,
    };
    envoy = await startPinned(envoyConfig([wasmFilter(reloadPolicy, build.wasm, `reload-${build.name}`)], [staticCluster('idp', port)]), { logLevel: 'info' });
    const token = pools.legit[0];
    const get = () => new Promise((ok, fail) => {
      const t0 = performance.now();
      const req = http.get(`${envoy.url}/es`, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
        res.resume();
        res.on('end', () => ok({ status: res.statusCode, start: t0, ms: performance.now() - t0 }));
      });
      req.setTimeout(5000, () => req.destroy(new Error('timeout')));
      req.on('error', fail);
    });
    await until(async () => (await get()).status === 200, { timeoutMs: 15000, what: `${build.name}: keys from the JWKS server` });
    // Past the first load (and its one-off work, e.g. the generator table) before the window opens.
    await until(() => server.fetches >= 2, { timeoutMs: 10000, what: 'a second JWKS fetch' });
    const logBefore = envoy.log.length;
    const runs = [];
    const cpuAt = []; // [time, Envoy CPU ms] every 20 ms
    const sample = () => cpuAt.push([performance.now(), runMs(envoy.child.pid)]);
    const begin = performance.now();
    const end = begin + RELOAD_SECONDS * 1000;
    sample();
    const sampler = setInterval(sample, 20);
    try {
      while (performance.now() < end && runs.length < 100000) {
        const run = await get();
        if (run.status !== 200) throw new Error(`${build.name}: reload stream got ${run.status}`);
        runs.push(run);
        await sleep(1);
      }
    } finally {
      clearInterval(sampler);
    }
    sample();
    const loads = (envoy.log.slice(logBefore).match(/64 keys loaded/g) ?? []).length;
    const latencies = runs.map((r) => r.ms).sort((a, b) => a - b);
    const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))];
    const p50 = q(0.5);
    // Reloads whose whole window lies inside the stream; the requests overlapping each window.
    const windows = fetchedAt.filter((t) => t >= begin && t + RELOAD_WINDOW_MS <= runs.at(-1).start);
    const overlaps = (r, t) => r.start < t + RELOAD_WINDOW_MS && r.start + r.ms > t;
    const stallsOf = windows.map((t) => Math.max(0, ...runs.filter((r) => overlaps(r, t)).map((r) => r.ms - p50)));
    const quiet = runs.filter((r) => !fetchedAt.some((t) => overlaps(r, t)));
    // Envoy's CPU in each reload window, less what the stream's requests in it cost (the CPU per
    // request over the sampling intervals clear of every reload): the work a reload adds, which
    // no preemption by other work on the machine inflates.
    const cpuAtTime = (t) => {
      const i = cpuAt.findIndex(([at]) => at >= t);
      if (i <= 0) return i === 0 ? cpuAt[0][1] : cpuAt.at(-1)[1];
      const [t0, c0] = cpuAt[i - 1];
      const [t1, c1] = cpuAt[i];
      return c0 + ((c1 - c0) * (t - t0)) / (t1 - t0);
    };
    const served = (t0, t1) => runs.filter((r) => r.start + r.ms >= t0 && r.start + r.ms < t1).length;
    let quietCpu = 0;
    let quietRequests = 0;
    for (let i = 1; i < cpuAt.length; i += 1) {
      const [t0, c0] = cpuAt[i - 1];
      const [t1, c1] = cpuAt[i];
      if (fetchedAt.some((t) => t0 < t + RELOAD_WINDOW_MS && t1 > t)) continue;
      quietCpu += c1 - c0;
      quietRequests += served(t0, t1);
    }
    const perRequest = quietRequests > 0 ? quietCpu / quietRequests : 0;
    const streamCpu = windows.map((t) => served(t, t + RELOAD_WINDOW_MS) * perRequest);
    const work = windows.map((t, i) => cpuAtTime(t + RELOAD_WINDOW_MS) - cpuAtTime(t) - streamCpu[i]);
    return {
      work, streamCpuPerWindow: median(streamCpu),
      reloads: windows.length, loads, requests: runs.length, p50, p99: q(0.99), max: latencies.at(-1),
      stalls: stallsOf, quietMax: Math.max(0, ...quiet.map((r) => r.ms - p50)), quietRequests: quiet.length,
    };
  } finally {
    agent.destroy();
    await envoy?.stop();
    server.closeAllConnections?.();
    await new Promise((ok) => server.close(ok));
  }
}

try {
  // The after build refuses the 8192-bit key unless the provider allows large keys.
  for (const build of builds) build.largeRsaFlag = knowsLargeRsaFlag(build.wasm);
  const flagged = builds.find((b) => b.largeRsaFlag);
  if (flagged) {
    const attempt = await startEnvoy(envoyConfig([wasmFilter(policy({ largeRsaFlag: false }), flagged.wasm)]), { concurrency: 1, logLevel: 'warn' })
      .then(async (envoy) => { await envoy.stop(); return null; }, (e) => e.message);
    refusedByDefault = attempt === null ? null : (attempt.match(/plugin configuration refused: ([^\n]*)/)?.[1] ?? attempt.split('\n')[0]);
    if (!refusedByDefault) throw new Error(`${flagged.name}: an 8192-bit key in local_jwks loaded without allow_large_rsa_keys`);
    console.log(`${flagged.name}, default policy: ${refusedByDefault}`);
  }

  const noFilter = await startPinned(envoyConfig([]));
  running.push(noFilter);
  for (const row of NO_FILTER_ROWS) await check(noFilter, { name: 'no filter' }, row);
  for (const build of builds) {
    build.envoy = await startPinned(envoyConfig([wasmFilter(policy({ largeRsaFlag: build.largeRsaFlag }), build.wasm, `attack-${build.name}`)]));
    running.push(build.envoy);
    for (const row of [...ROWS, LEGIT_ROW]) await check(build.envoy, build, row);
  }
  if (WARMUP_SECONDS > 0) {
    for (const row of ROWS) for (const build of builds) await measure(build.envoy, row, { seconds: WARMUP_SECONDS });
  }

  // 64-key documents: the signing key and 63 others, a different 63 in each document, so that every
  // fetch changes the key set (the before build builds tables for each key of each document read).
  const others = (tag) => Array.from({ length: 63 }, (_, i) => esKey(`${tag}${i}`).jwk);
  const jwksDocs = ['a', 'b'].map((tag) => JSON.stringify({ keys: [es.jwk, ...others(tag)] }));

  for (let round = 1; round <= ROUNDS; round += 1) {
    const order = round % 2 ? builds : [...builds].reverse();
    for (const row of NO_FILTER_ROWS) {
      const nf = await measure(noFilter, row);
      add(`${row.id}|-|solo`, nf);
      console.log(`round ${round}  -      ${row.label.padEnd(58)} ${nf.cpuUs.toFixed(1).padStart(7)} µs/req`);
    }
    for (const row of [LEGIT_ROW, ...ROWS]) {
      for (const build of order) {
        const solo = await measure(build.envoy, row);
        add(`${row.id}|${build.name}|solo`, solo);
        let line = `round ${round}  ${build.name.padEnd(6)} ${row.label.padEnd(58)} ${solo.cpuUs.toFixed(1).padStart(7)} µs/req ${solo.rps.toFixed(0).padStart(6)} req/s  p99 ${solo.p99.toFixed(1)} ms`;
        if (row.attack) {
          const mixed = await measure(build.envoy, row, { legit: true });
          add(`${row.id}|${build.name}|mixed`, mixed);
          line += `  legit p99 ${mixed.legit.p99.toFixed(1)} ms (${mixed.legit.rps.toFixed(0)} req/s)`;
        }
        console.log(line);
      }
    }
  }
  // The reload runs last: a fetching Envoy must not run beside the other measurements.
  for (let round = 1; round <= ROUNDS; round += 1) {
    for (const build of round % 2 ? builds : [...builds].reverse()) {
      const r = await reloadRun(build, jwksDocs);
      stalls.set(build.name, [...(stalls.get(build.name) ?? []), r]);
      console.log(`reload ${round}  ${build.name.padEnd(6)} ${r.reloads} reloads (${r.loads} loads logged), ${r.requests} requests: p50 ${r.p50.toFixed(2)} ms, stalls ${r.stalls.map((x) => x.toFixed(1)).join(' ')} ms, quiet max ${r.quietMax.toFixed(2)} ms, work ${r.work.map((x) => x.toFixed(1)).join(' ')} ms CPU`);
    }
  }
} finally {
  await stopAll(running);
  rmSync(dir, { recursive: true, force: true });
}

// ---- the report ----

function median(values) {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return v.length === 0 ? NaN : v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}
function cell(rowId, build, kind = 'solo') {
  const runs = samples.get(`${rowId}|${build}|${kind}`) ?? [];
  const pick = (f) => median(runs.map(f));
  return {
    runs,
    cpuUs: pick((r) => r.cpuUs),
    lo: Math.min(...runs.map((r) => r.cpuUs)),
    hi: Math.max(...runs.map((r) => r.cpuUs)),
    rps: pick((r) => r.rps),
    p99: pick((r) => r.p99),
    p50: pick((r) => r.p50),
    legitP99: pick((r) => r.legit?.p99),
    legitP50: pick((r) => r.legit?.p50),
    legitRps: pick((r) => r.legit?.rps),
    requests: runs.reduce((n, r) => n + r.requests, 0),
    non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
    errors: runs.map((r) => r.errors).filter(Boolean),
  };
}
const cpu = (rowId, build) => cell(rowId, build).cpuUs;
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '—');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '—');
const ms = (x) => (Number.isFinite(x) ? (x >= 100 ? x.toFixed(0) : x.toFixed(1)) : '—');
const answers = (c, row) => {
  const want = row.status === 200 ? 0 : c.requests;
  const ok = c.non2xx === want && c.errors.length === 0;
  return `${row.status}${row.code ? ` ${row.code.replace(/^ERR_/, '')}` : ''}${ok ? '' : ` — ${c.non2xx}/${c.requests} non-2xx${c.errors.length ? `, socket errors: ${c.errors.join('; ')}` : ''}`}`;
};

const legitAlone = Object.fromEntries(builds.map((b) => [b.name, cell('legit', b.name)]));
const tableLines = [];
for (const row of [...ROWS, LEGIT_ROW]) {
  for (const build of builds) {
    const c = cell(row.id, build.name);
    const mixed = row.attack ? cell(row.id, build.name, 'mixed') : null;
    const change = build.name === 'after' ? `${f2(c.cpuUs / cpu(row.id, 'before'))}×` : '';
    const note = row.id === 'bogus-rs8k' && build.largeRsaFlag ? ' (with `allow_large_rsa_keys: true`)' : '';
    const legit = mixed ? `${ms(mixed.legitP99)} (${ms(mixed.legitP50)}; ${mixed.legitRps.toFixed(0)}/s)` : row.id === 'legit' ? `${ms(c.p99)} (${ms(c.p50)}; alone)` : '';
    tableLines.push(`| ${build.name === builds[0].name ? row.label : ''} | ${build.name}${note} | ${f1(c.cpuUs)} (${f1(c.lo)}–${f1(c.hi)}) | ${change} | ${c.rps.toFixed(0)} | ${ms(c.p99)} | ${legit} | ${answers(c, row)} |`);
    if (row.id === 'bogus-rs8k' && build.largeRsaFlag && refusedByDefault) {
      tableLines.push(`|  | ${build.name}, default policy | refused at load: \`${refusedByDefault}\` |  |  |  |  |  |`);
    }
  }
}
const nf = cell('no-filter', '-');
const noFilterLines = NO_FILTER_ROWS.map((row) => {
  const c = cell(row.id, '-');
  return `| ${row.label} | — | ${f1(c.cpuUs)} (${f1(c.lo)}–${f1(c.hi)}) |  | ${c.rps.toFixed(0)} | ${ms(c.p99)} |  | ${answers(c, row)} |`;
});

// Targets, from this run.
const verdict = (ok) => (ok ? 'met' : '**not met**');
// A ratio over its bar whose rounds still overlap the bar (the numerator's lowest round at most
// the bar times the denominator's highest) is at the bar within this run's spread, not beyond it.
function ratioVerdict(num, den, bar) {
  const a = cell(num, 'after');
  const b = cell(den, 'after');
  if (a.cpuUs / b.cpuUs <= bar) return 'met';
  return a.lo <= b.hi * bar ? 'at the bar within the spread of the rounds' : '**not met**';
}
const targets = [];
for (const [bogusId, validId, what] of [['bogus-es', 'valid-es', 'ES256'], ['bogus-rs', 'valid-rs', 'RS256 2048']]) {
  const r = (b) => cpu(bogusId, b) / cpu(validId, b);
  targets.push(`| bogus ${what} ÷ cold valid ${what} | ≤ ${TARGET.bogusRatio}× | ${f2(r('after'))}× (${f1(cpu(bogusId, 'after'))} / ${f1(cpu(validId, 'after'))} µs) | ${f2(r('before'))}× | ${ratioVerdict(bogusId, validId, TARGET.bogusRatio)} |`);
}
const after8k = builds.find((b) => b.name === 'after');
targets.push(`| 8192-bit RSA key, default policy | refused | ${refusedByDefault && after8k.largeRsaFlag ? `refused (\`${refusedByDefault}\`); allowed: bogus token ${f1(cpu('bogus-rs8k', 'after'))} µs = ${f1(cpu('bogus-rs8k', 'after') / cpu('bogus-rs', 'after'))}× a 2048-bit one` : 'loads'} | loads: ${f1(cpu('bogus-rs8k', 'before'))} µs per bogus token | ${verdict(Boolean(refusedByDefault && after8k.largeRsaFlag))} |`);
for (const [id, what] of [['junk-known', 'known kid, bogus signature'], ['junk-unknown', 'unknown kid']]) {
  const r = (b) => cpu(id, b) / cpu('big-es', b);
  targets.push(`| 16 KiB junk (${what}) ÷ 16 KiB valid ES256 (decode, hash, one signature check) | ≤ ${TARGET.junkRatio.toFixed(1)}× | ${f2(r('after'))}× (${f1(cpu(id, 'after'))} / ${f1(cpu('big-es', 'after'))} µs) | ${f2(r('before'))}× | ${ratioVerdict(id, 'big-es', TARGET.junkRatio)} |`);
}
const replayWork = (b) => cpu('replay', b) - cpu('none', b);
targets.push(`| replayed bogus token: filter work over a no-token refusal | ≤ ${TARGET.replayUs} µs | ${f1(replayWork('after'))} µs (${f1(cpu('replay', 'after'))} − ${f1(cpu('none', 'after'))}; ${f1(cpu('replay', 'after') - nf.cpuUs)} µs over Envoy without the filter) | ${f1(replayWork('before'))} µs | ${verdict(replayWork('after') <= TARGET.replayUs)} |`);
const allOf = (b, field) => (stalls.get(b) ?? []).flatMap((r) => r[field]);
const reloadText = (b, field) => `${f2(median(allOf(b, field)))} ms (longest ${f2(Math.max(...allOf(b, field)))}; ${allOf(b, field).length} reloads)`;
const quietText = (b) => f2(median((stalls.get(b) ?? []).map((r) => r.quietMax)));
targets.push(`| 64-key P-256 JWKS reload: Envoy CPU a reload adds (both VMs), median | ≤ ${TARGET.stallMs} ms | ${reloadText('after', 'work')} | ${reloadText('before', 'work')} | ${verdict(median(allOf('after', 'work')) <= TARGET.stallMs)} |`);
targets.push(`| 64-key P-256 JWKS reload: longest request per reload over the median, median | ≤ ${TARGET.stallMs} ms | ${reloadText('after', 'stalls')}; without a reload ${quietText('after')} ms | ${reloadText('before', 'stalls')} | ${verdict(median(allOf('after', 'stalls')) <= TARGET.stallMs)} |`);

const reloadLines = builds.flatMap((b) => (stalls.get(b.name) ?? []).map((r, i) =>
  `| ${b.name} | ${i + 1} | ${r.reloads} / ${r.loads} | ${r.requests} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.stalls.map(f1).join(', ') || '—'} | ${f2(r.quietMax)} (${r.quietRequests}) | ${r.work.map(f1).join(', ') || '—'} (stream ${f1(r.streamCpuPerWindow)}) |`));

const commandLine = `node envoy/bench/attack.mjs${argv.length ? ` ${argv.join(' ')}` : ''}`;
const minutes = ((Date.now() - started) / 60000).toFixed(1);
const md = `# What one request may cost (make bench-attack)

Envoy 1.40 (\`--concurrency 1\`, all threads pinned to CPU 0), wrk (\`-t1 -c${CONNECTIONS}\`, pinned to CPU 1),
HTTP/1.1, a direct-response route; ${SECONDS} s per run${WARMUP_SECONDS ? ` after a ${WARMUP_SECONDS} s warm-up of every load` : ''}, ${ROUNDS} interleaved rounds (the
order of the builds alternates), each cell the median (range of the rounds in brackets). "Envoy CPU"
is utime + stime of the Envoy process over the run divided by the requests served.
**before** is the filter at ${BEFORE_REV} (the commit before 26a598b), **after** the current
\`dist/edgeward_filter.wasm\`${beforeIsAfter ? ' — **this run had no before build: both columns are the after build**' : ''}.
Both run the same policy: providers \`es\` (ES256), \`rs\` (RS256, 2048-bit key) and \`rs8k\` (RS256,
8192-bit key; after: with \`allow_large_rsa_keys: true\`), one key each in \`local_jwks\`, \`token_cache_size\`
${TOKEN_CACHE}. Distinct loads cycle through more tokens than the caches hold (valid ES256 ${pools.validEs.length}, valid RS256
${pools.validRs.length}, bogus ES256 ${pools.bogusEs.length}, bogus RS256 ${pools.bogusRs.length} / ${pools.bogusRs8k.length}; the failure cache holds 256; tokens over 8 KiB are
never cached): every request does the work. Bogus tokens carry ordinary claims and a fresh random
signature of the right length (RSA: below the modulus). The 16 KiB junk tokens are ${MEMBERS} members
\`"m0001":12\` (${MEMBERS + 1} JSON values); the 16 KiB valid token is ordinary claims plus one padding string.
"Legit p99 beside it": the same attack run again, ${SECONDS + 2} s, with a second wrk (\`-c${LEGIT_CONNECTIONS}\`, 64 reused valid ES256
tokens, cached after their first use) for the middle ${SECONDS} s; its p99, p50 and rate. Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, shared with other work — compare rows of one run.

| load | build | Envoy CPU µs/req (range) | after ÷ before | req/s | p99 ms | legit p99 ms beside it (p50; legit req/s) | answers |
| --- | --- | --- | --- | --- | --- | --- | --- |
${tableLines.join('\n')}
${noFilterLines.join('\n')}

## Targets (computed from this run)

| target | bar | after | before | verdict |
| --- | --- | --- | --- | --- |
${targets.join('\n')}

A ratio over its bar is "at the bar within the spread of the rounds" when the numerator's cheapest
round is still within the bar of the denominator's dearest one: the run cannot tell it from the bar.

The 16 KiB valid ES256 token is the yardstick for "decoding and hashing its bytes plus one signature
check": it costs exactly that plus reading a handful of claims (one of them a long string).
"Filter work" of a replay is its Envoy CPU over the no-token refusal (the same local 401 reply and
header read, no token to look up).

## 64-key P-256 JWKS reload

\`remote_jwks\` with \`cache_duration_seconds: 1\`; the JWKS server answers each fetch with the other of two
64-key documents (the signing key and 63 others that differ between them), so every fetch changes
the key set. A paced legitimate client (one keep-alive connection, a reused valid token, about one
request per millisecond) runs for ${RELOAD_SECONDS} s after the second fetch. Main thread and worker share CPU 0, so work
on either stalls the worker's requests. A reload's stall: the longest request overlapping the
${RELOAD_WINDOW_MS} ms after the JWKS server answered (the fetching VM loads the document at once, the other
at its next tick), less the median request. "Quiet": the same for the requests outside every
reload's window (what the shared machine alone does to the stream). "Work": Envoy's CPU time
(all threads, from /proc/<pid>/task/*/schedstat, sampled every 20 ms) in each reload's window, less
what the stream's requests answered in that window cost at the CPU per request of the intervals
clear of every reload (median per window in brackets): what a reload makes CPU 0 do, which bounds
the stall it can cause and which preemption by other work does not inflate; it can come out a
little below zero.

| build | run | reloads / key loads logged (each VM logs its own) | requests | p50 ms | p99 ms | stall of each reload, ms | quiet: longest − median, ms (requests) | work of each reload, ms CPU (stream per window) |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
${reloadLines.join('\n')}

Builds: before \`${relative(ROOT, BEFORE_WASM)}\` (sha256 ${fileId(BEFORE_WASM)}), after \`${relative(ROOT, AFTER_WASM)}\` (sha256 ${fileId(AFTER_WASM)}).
Generated ${new Date().toISOString().slice(0, 10)} in ${minutes} min by \`make bench-attack\` (\`${commandLine}\`).
`;
// Hand-written analysis below the marker survives regeneration.
const MARKER = '<!-- notes: kept by make bench-attack -->';
let notes = '';
try { const old = readFileSync(OUT, 'utf8'); if (old.includes(MARKER)) notes = old.slice(old.indexOf(MARKER)); } catch { /* first run */ }
writeFileSync(OUT, notes ? `${md}\n${notes}` : md);
console.log(`\nwrote ${OUT} (${minutes} min)`);
