// make bench-node, frameworks (issue 15): requests per second through a real HTTP server, GET
// /orders requiring the scope read:orders, for every server of bench/frameworks-servers.mjs
// (Express 5 and Fastify 5, each with edgeward's rule-driven middleware or plugin, edgeward's
// per-route guards, its framework's peer — express-oauth2-jwt-bearer, @fastify/jwt — and no guard;
// node:http + edgeward), with autocannon, one RS256 key and one key set for all of them, in one run. Writes its section of js/BENCHMARKS-node.md (or --out) between its two marker lines,
// leaving the rest of the file as it is (bench/bench.mjs keeps the section when it rewrites the
// file).
//
// Each cell is one server × one token regime × one round, in a fresh server process (empty
// caches), pinned to CPU 0 while this process (autocannon) runs on CPU 1 (taskset, as the Envoy
// benches do; without taskset, unpinned and the report says so):
//   - reused: one valid token on every request;
//   - cold: distinct RS256 tokens, pre-minted (--pool, jti distinct), each sent once in the whole
//     cell: autocannon's setupRequest hands every request the next one, and the cell stops at
//     --duration or when the pool would run out (the report says if one did).
// Before timing, every guarded server process answers: no token 401, another token's signature
// 401, wrong issuer 401, wrong audience 401, expired 401, the wrong scope 403, a good token 200
// (the server without a guard: the good token 200). Each timed cell first runs --warmup seconds (reused: the token; cold: a separate pool of warm-up tokens),
// then --duration seconds; every answer of both must be a 200 (no error, no timeout), or the
// bench fails. A cell's figure is autocannon's average requests/s; the table the median of rounds,
// the rounds interleaved with a rotating server order.
//
//   node bench/frameworks.mjs [--rounds 3] [--duration 5] [--warmup 1] [--connections 10]
//     [--pool 100000] [--out FILE] [--quick]
// --quick (or BENCH_QUICK=1): one round of 1 s cells, no warm-up, a small pool (a shape check).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { AUDIENCE, ISSUER, keys } from './keys.mjs';
import { mintMany } from './mint.mjs';
import { SERVERS } from './frameworks-servers.mjs';
import { QUICK, arg, setting } from './settings.mjs';

const require = createRequire(import.meta.url);
const autocannon = require('autocannon');
const here = path.dirname(fileURLToPath(import.meta.url));
const js = path.resolve(here, '..');
const root = path.resolve(js, '..');
const started = Date.now();

const ROUNDS = setting('--rounds', 'BENCH_FW_ROUNDS', 3, 1);
const DURATION = setting('--duration', 'BENCH_FW_SECONDS', 5, 1); // seconds per timed cell
const WARMUP = setting('--warmup', 'BENCH_FW_WARMUP', 1, 0, { zero: true }); // seconds before each
const CONNECTIONS = setting('--connections', 'BENCH_FW_CONNECTIONS', 10, 4);
const POOL = setting('--pool', 'BENCH_FW_POOL', 100000, 3000); // distinct tokens for the cold cells
const WARM_POOL = WARMUP > 0 ? Math.max(CONNECTIONS * 4, Math.min(POOL, 5000)) : 0;
const OUT = path.resolve(arg('--out', path.join(js, 'BENCHMARKS-node.md')));
for (const n of [ROUNDS, CONNECTIONS]) if (!Number.isInteger(n)) throw new Error('--rounds and --connections are whole numbers');
if (POOL < CONNECTIONS * 4) throw new Error(`--pool ${POOL}: at least ${CONNECTIONS * 4}`);

const SCOPE = 'read:orders';
// Issue 15's targets: Express + edgeward against Express + express-oauth2-jwt-bearer, this run.
const TARGETS = { reused: 1.5, cold: 2.0 };
const REGIMES = ['reused', 'cold'];
const REGIME_NAMES = { reused: 'reused token', cold: 'cold RS256 (distinct tokens)' };
const NAMES = Object.keys(SERVERS);
const PEER = NAMES.find((n) => SERVERS[n].peer);
const OURS = 'express-edgeward';

// ---- CPUs: the servers on CPU 0, this process (autocannon, the checks) on CPU 1 ----

const cpus = os.availableParallelism?.() ?? os.cpus().length;
const hasTaskset = cpus >= 2 && !spawnSync('taskset', ['--version']).error;
const pinning = hasTaskset
  ? 'each server process pinned to CPU 0 (`taskset -c 0`), autocannon (this process) to CPU 1'
  : `**not pinned** (${cpus < 2 ? 'one CPU' : 'no taskset'}): server and autocannon share the CPUs`;

// ---- keys, tokens ----

const k = keys('RS256');
const jwks = { keys: [k.jwk] };
const now = Math.floor(Date.now() / 1000);
const other = keys('RS256'); // a second key, not in the key set
const good = k.mint('reused');
const bad = {
  'no token': { status: 401, headers: {} },
  'the signature of another token': { status: 401, token: `${good.split('.').slice(0, 2).join('.')}.${other.mint('x').split('.')[2]}` },
  'a wrong issuer': { status: 401, token: k.mint('iss', { iss: 'https://other.example.com' }) },
  'a wrong audience': { status: 401, token: k.mint('aud', { aud: 'other-api' }) },
  'an expired token': { status: 401, token: k.mint('exp', { iat: now - 7200, exp: now - 3600 }) },
  'the wrong scope': { status: 403, token: k.mint('scope', { scope: 'write:orders' }) },
};

const cells = NAMES.length * REGIMES.length * ROUNDS;
console.log(
  `bench-node frameworks: ${NAMES.length} servers × ${REGIMES.length} regimes × ${ROUNDS} round(s) of ${DURATION} s (+ ${WARMUP} s warm-up): ` +
    `about ${Math.ceil((cells * (DURATION + WARMUP + 1)) / 60)} min after minting ${POOL + WARM_POOL} RS256 tokens; ${pinning}`,
);
const pool = await mintMany(k, POOL, 'c');
const warmPool = WARM_POOL ? await mintMany(k, WARM_POOL, 'w') : [];
if (new Set([...pool, ...warmPool]).size !== POOL + WARM_POOL) throw new Error('the token pools are not distinct');
console.log(`minted in ${((Date.now() - started) / 1000).toFixed(0)} s`);
// Pinned once the minting threads are done (new threads inherit the mask).
if (hasTaskset) spawnSync('taskset', ['-a', '-pc', '1', String(process.pid)]);
const loadBefore = os.loadavg();

// ---- a server process ----

async function startServer(name) {
  const config = { server: name, issuer: ISSUER, audience: AUDIENCE, scope: SCOPE, jwks };
  const script = path.join(here, 'frameworks-servers.mjs');
  const [command, args] = hasTaskset ? ['taskset', ['-c', '0', process.execPath, script]] : [process.execPath, [script]];
  const child = spawn(command, args, {
    cwd: js,
    env: { ...process.env, EDGEWARD_FRAMEWORKS_SERVER: JSON.stringify(config), NODE_ENV: 'production' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const first = await Promise.race([
    new Promise((resolve) => readline.createInterface({ input: child.stdout }).once('line', resolve)),
    exited.then((code) => { throw new Error(`${name} exited (${code}) before listening: ${stderr}`); }),
    new Promise((_, reject) => setTimeout(() => reject(new Error(`${name} did not listen within 30 s`)), 30000).unref()),
  ]);
  const { port } = JSON.parse(first);
  return {
    url: `http://127.0.0.1:${port}/orders`,
    cpuSeconds: () => cpuSeconds(child.pid),
    async stop() {
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
    stderr: () => stderr,
  };
}

// A process's CPU time so far (user + system, every thread), from /proc; null where there is none.
const TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;
function cpuSeconds(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return null;
  }
}

// Every refusal answered as it should be, and the good token admitted (a server without a guard:
// the good token only).
async function check(name, url) {
  if (SERVERS[name].open) {
    const response = await fetch(url, { headers: { authorization: `Bearer ${good}` } });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`${name}: answered ${response.status}`);
    return;
  }
  for (const [what, { status, token }] of [...Object.entries(bad), ['a good token', { status: 200, token: good }]]) {
    const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    await response.arrayBuffer();
    if (response.status !== status) throw new Error(`${name}: ${what} answered ${response.status}, not ${status}`);
  }
}

// ---- a load ----

// One autocannon run against `url`: `seconds` long, or until `tokens` (each sent once) would run
// out. Throws unless every answer was a 200. Returns autocannon's average requests/s and more.
async function load(url, seconds, tokens) {
  const options = { url, connections: CONNECTIONS, pipelining: 1, timeout: 10 };
  let next = 0;
  let cap = Infinity;
  if (tokens.length === 1) {
    options.duration = seconds;
    options.headers = { authorization: `Bearer ${tokens[0]}` };
  } else {
    // Every request (re)built takes the next token: at most `amount` responses, and a connection
    // builds one request more than it sends (its first, when it is set up), so the pool holds
    // every request built. Past it, setupRequest fails the run rather than send a token twice.
    cap = tokens.length - CONNECTIONS;
    options.amount = cap;
    options.requests = [{
      method: 'GET',
      setupRequest: (request) => {
        if (next === tokens.length) throw new Error('the token pool ran out: a token would be sent twice');
        request.headers = { ...request.headers, authorization: `Bearer ${tokens[next++]}` };
        return request;
      },
    }];
  }
  const start = performance.now();
  let last = start;
  const instance = autocannon(options);
  instance.on('response', () => { last = performance.now(); });
  // The cold cells run by amount (autocannon then ignores duration): the clock stops them.
  const timer = tokens.length === 1 ? undefined : setTimeout(() => instance.stop(), seconds * 1000);
  let result;
  try {
    result = await instance;
  } finally {
    clearTimeout(timer);
  }
  const ok = result['2xx'];
  const answers = result.requests.total;
  if (result.errors || result.timeouts || result.non2xx || ok !== answers || !answers) {
    throw new Error(`${url}: ${answers} answers, ${ok} 2xx, ${result.non2xx} other, ${result.errors} errors, ${result.timeouts} timeouts`);
  }
  const codes = Object.keys(result.statusCodeStats ?? {});
  if (codes.some((code) => code !== '200')) throw new Error(`${url}: status codes ${codes.join(', ')}`);
  if (tokens.length > 1 && next > tokens.length) throw new Error('a token was sent twice');
  // autocannon's average of its per-second samples; a cold cell whose pool ran out stopped at the
  // next sample, after an idle part of a second: its answers over the time to its last answer.
  const out = answers >= cap;
  const rps = out ? answers / ((last - start) / 1000) : result.requests.average;
  return { rps, answers, seconds: out ? Number(((last - start) / 1000).toFixed(2)) : result.duration, ranOut: out, p99: result.latency.p99 };
}

// ---- the run ----

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const samples = new Map(); // `${name} ${regime}` -> [{ rps, … }]
const ranOut = new Set();
for (let round = 0; round < ROUNDS; round++) {
  for (const regime of REGIMES) {
    const order = NAMES.map((_, i) => NAMES[(i + round) % NAMES.length]);
    for (const name of order) {
      const server = await startServer(name);
      try {
        await check(name, server.url);
        if (WARMUP > 0) await load(server.url, WARMUP, regime === 'reused' ? [good] : warmPool);
        const cpuBefore = server.cpuSeconds();
        const m = await load(server.url, DURATION, regime === 'reused' ? [good] : pool);
        const cpuAfter = server.cpuSeconds();
        m.cpuUs = cpuBefore === null || cpuAfter === null ? null : ((cpuAfter - cpuBefore) * 1e6) / m.answers;
        if (m.ranOut) ranOut.add(`${name} ${regime}`);
        const key = `${name} ${regime}`;
        samples.set(key, [...(samples.get(key) ?? []), m]);
        console.log(
          `r${round + 1} ${regime.padEnd(6)} ${name.padEnd(28)} ${fmt(m.rps).padStart(8)} req/s  ` +
            `(${fmt(m.answers)} × 200 in ${m.seconds} s, p99 ${m.p99} ms, server ${m.cpuUs === null ? 'n/a' : m.cpuUs.toFixed(0)} µs CPU/request` +
            `${m.ranOut ? ', pool ran out' : ''})`,
        );
      } catch (error) {
        error.message += `\n${server.stderr()}`;
        throw error;
      } finally {
        await server.stop();
      }
    }
  }
}
const elapsed = (Date.now() - started) / 1000;

// ---- the report section ----

const median = (values) => { const v = [...values].sort((a, b) => a - b); return v[Math.floor(v.length / 2)]; };
const rps = (name, regime) => median(samples.get(`${name} ${regime}`).map((s) => s.rps));
const cpuUs = (name, regime) => {
  const values = samples.get(`${name} ${regime}`).map((s) => s.cpuUs);
  return values.includes(null) ? 'n/a' : median(values).toFixed(0);
};
const ratio = (regime) => rps(OURS, regime) / rps(PEER, regime);
const x2 = (r) => `${r.toFixed(2)}×`;
const verdict = (ok) => (ok ? 'reached' : '**not reached**');
const versions = Object.fromEntries(['express', 'fastify', 'express-oauth2-jwt-bearer', '@fastify/jwt', 'fast-jwt', 'autocannon']
  .map((p) => [p, JSON.parse(fs.readFileSync(require.resolve(`${p}/package.json`), 'utf8')).version]));
const loadText = (l) => l.map((v) => v.toFixed(2)).join(', ');
const loadAfter = os.loadavg();

const BEGIN = '<!-- frameworks: written by js/bench/frameworks.mjs -->';
const END = '<!-- frameworks: end -->';
const lines = [BEGIN, '## Through a framework: requests/s with each guard (issue 15)', ''];
lines.push(
  `Generated by \`make bench-node\` (js/bench/frameworks.mjs) on ${new Date().toISOString().slice(0, 10)}: Node ${process.version}, ` +
    `Express ${versions.express}, Fastify ${versions.fastify}, express-oauth2-jwt-bearer ${versions['express-oauth2-jwt-bearer']}, ` +
    `@fastify/jwt ${versions['@fastify/jwt']} (fast-jwt ${versions['fast-jwt']}), ` +
    `autocannon ${versions.autocannon} (${CONNECTIONS} connections, no pipelining, in this process), ${os.cpus()[0]?.model ?? 'unknown CPU'} ` +
    `(${cpus} cores, shared); ${pinning}. Each cell a fresh server process on 127.0.0.1, ${WARMUP} s warm-up then ${DURATION} s; ` +
    `${ROUNDS} interleaved round(s), each figure the median of its rounds (autocannon's average requests/s); load average (1, 5, 15 min) ` +
    `${loadText(loadBefore)} before the first cell, ${loadText(loadAfter)} after the last; the run took ${(elapsed / 60).toFixed(1)} min.${QUICK ? ' **Quick run (--quick): a shape check, not figures to quote.**' : ''}`,
  '',
  `Every guarded server answers \`GET /orders\` (\`{"orders":[]}\`) to a bearer token with the scope \`${SCOPE}\`, RS256, one RSA-2048 key: ` +
    'edgeward\'s policy has one provider with that key set as `local_jwks` (issuer, audience, `algorithms: ["RS256"]`) and one rule ' +
    `(\`/orders\` needs the provider and \`${SCOPE}\`); express-oauth2-jwt-bearer gets the same issuer, audience and key set ` +
    '(`auth({ issuer, audience, publicKey: jwks, tokenSigningAlg: \'RS256\' })`, then `requiredScopes(\'read:orders\')`); ' +
    '@fastify/jwt gets the key as PEM and `verify: { algorithms: [\'RS256\'], allowedIss, allowedAud, requiredClaims: [\'exp\'] }` ' +
    '(fast-jwt\'s defaults otherwise: no token cache), then a preHandler checking the `scope` claim. Before ' +
    'timing, each guarded server process refuses no token, another token\'s signature, a wrong issuer, a wrong audience and an expired token ' +
    '(401) and the wrong scope (403). **Reused**: one token on every request. **Cold**: ' +
    `${fmt(POOL)} pre-minted RS256 tokens (distinct \`jti\`), each sent at most once per cell (autocannon's \`setupRequest\` hands each ` +
    'request the next; the warm-up has its own tokens), so every request verifies a signature in every guard. Every answer of every ' +
    'cell was a 200. Server CPU: the server process\'s user + system time over the timed part (every thread, /proc), divided by ' +
    'its answers: what one request costs the server, whatever else shares the machine.',
  '',
);
lines.push(`| server | guard | ${REGIMES.map((r) => `${REGIME_NAMES[r]} req/s`).join(' | ')} | ${REGIMES.map((r) => `${r}: server CPU µs/request`).join(' | ')} |`);
lines.push(`| --- | --- | ${REGIMES.map(() => '---:').join(' | ')} | ${REGIMES.map(() => '---:').join(' | ')} |`);
for (const name of NAMES) {
  lines.push(
    `| ${SERVERS[name].framework} | ${SERVERS[name].guard} | ${REGIMES.map((r) => fmt(rps(name, r))).join(' | ')} | ` +
      `${REGIMES.map((r) => cpuUs(name, r)).join(' | ')} |`,
  );
}
lines.push('');
lines.push(`Targets (issue 15), Express + edgeward ÷ Express + express-oauth2-jwt-bearer, this run:`, '');
for (const regime of REGIMES) {
  const r = ratio(regime);
  lines.push(
    `- ${REGIME_NAMES[regime]} ≥ ${TARGETS[regime].toFixed(1)}×: ${fmt(rps(OURS, regime))} ÷ ${fmt(rps(PEER, regime))} req/s = ` +
      `**${x2(r)}** — ${verdict(r >= TARGETS[regime])}.`,
  );
}
// The other edgeward rows of the peer's framework (the per-route guards), against the same peer.
for (const name of NAMES.filter((n) => n !== OURS && n.includes('edgeward') && SERVERS[n].framework === SERVERS[PEER].framework)) {
  lines.push(`- ${name} ÷ ${PEER}: ${REGIMES.map((r) => `${r} ${x2(rps(name, r) / rps(PEER, r))}`).join(', ')}.`);
}
// A guard's share: its server's CPU per request less the framework's alone (the open server).
const cpu = (name, regime) => Number(cpuUs(name, regime));
for (const open of NAMES.filter((n) => SERVERS[n].open)) {
  const { framework } = SERVERS[open];
  const guarded = NAMES.filter((n) => SERVERS[n].framework === framework && !SERVERS[n].open);
  if (guarded.length === 0 || Number.isNaN(cpu(open, 'reused'))) continue;
  const bound = framework !== SERVERS[PEER].framework ? '' :
    ` Were edgeward free, ${framework} + edgeward could reach at most ${REGIMES.map((r) => x2(cpu(PEER, r) / cpu(open, r))).join(' / ')} ` +
      `${PEER}'s throughput (its CPU per request ÷ ${framework} alone's).`;
  lines.push(
    `- What the guard adds to ${framework}'s own ${REGIMES.map((r) => `${cpuUs(open, r)} µs`).join(' / ')} of server CPU per request ` +
      `(${REGIMES.join(' / ')}; ${open}): ` +
      guarded.map((n) => `${n} ${REGIMES.map((r) => `${(cpu(n, r) - cpu(open, r)).toFixed(0)}`).join(' / ')} µs`).join(', ') + `.${bound}`,
  );
}
// Rows measured against their own framework's peer (Fastify: @fastify/jwt).
for (const name of NAMES.filter((n) => SERVERS[n].comparedTo)) {
  const against = SERVERS[name].comparedTo;
  lines.push(`- ${SERVERS[name].framework}, ${name} ÷ ${against}: ${REGIMES.map((r) => `${r} ${x2(rps(name, r) / rps(against, r))}`).join(', ')}.`);
}
if (ranOut.size) {
  lines.push(`- The cold pool ran out before ${DURATION} s in: ${[...ranOut].join(', ')} (those cells ran shorter; a larger --pool avoids it).`);
}
lines.push('', END);
const section = lines.join('\n');

let report = '';
try { report = fs.readFileSync(OUT, 'utf8'); } catch { /* a new file */ }
const NOTES = '<!-- notes: kept by make bench-node -->';
if (report.includes(BEGIN) && report.includes(END)) {
  report = `${report.slice(0, report.indexOf(BEGIN))}${section}${report.slice(report.indexOf(END) + END.length)}`;
} else if (report.includes(NOTES)) {
  report = `${report.slice(0, report.indexOf(NOTES))}${section}\n\n${report.slice(report.indexOf(NOTES))}`;
} else {
  report = `${report}${report && !report.endsWith('\n') ? '\n' : ''}${report ? '\n' : ''}${section}\n`;
}
fs.writeFileSync(OUT, report);
const relative = (p) => (p.startsWith(`${root}${path.sep}`) ? path.relative(root, p) : p);
console.log(
  `\nwrote the frameworks section of ${relative(OUT)} in ${(elapsed / 60).toFixed(1)} min ` +
    `(Express, edgeward ÷ express-oauth2-jwt-bearer: ${REGIMES.map((r) => `${r} ${x2(ratio(r))}`).join(', ')})`,
);
