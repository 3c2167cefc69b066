// make soak / make soak-short: edgeward under bounded wrk load for SOAK_SECONDS, in Envoy (the
// filter, --concurrency 2, FAIL_CLOSED) and in Node (`middleware` + `createRemoteJwks` on a real
// node:http server, soak/node-server.mjs), both against one loopback IdP that rotates keys every
// 30 s, goes down, comes back, and serves errors, garbage, keyless or private-key documents,
// oversize and huge (64 MiB) ones.
//
// Checks, all automated (exit 1 if any fails):
//   - every forwarded request is verified again by the upstream with node:crypto against the IdP's
//     keys (soak/independent.mjs): violations must be 0;
//   - every response carries the status and code its request deserved (soak/traffic.lua); a 503
//     ERR_JWKS_UNAVAILABLE is right only in the first segment, before any good keys were loaded;
//   - no socket errors or timeouts;
//   - Envoy's RSS, after warm-up, grows less than 10%; the wasm VM never fails or reloads (log and
//     stats); Node's RSS grows less than 10% and its heap (after GC) stays flat.
// Prints a summary (requests, statuses, RSS start/end, p99) and writes it to target/soak/summary-*.json.
//
//   node soak/soak.mjs [--seconds N] [--only envoy|node] [--connections N] [--delay-ms N]

import { spawn, fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  ROOT, envoyConfig, makeKey, metrics, mint, mintNone, nowSeconds, startEchoUpstream, startEnvoy, startJwksServer,
  stopAll, until,
} from '../envoy/tests/lib/harness.mjs';
import { AUDIENCE, ISSUER, IndependentVerifier, Tally } from './independent.mjs';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: process.env.SOAK_SECONDS ?? '600' },
    only: { type: 'string' },
    connections: { type: 'string', default: process.env.SOAK_CONNECTIONS ?? '4' },
    'delay-ms': { type: 'string', default: process.env.SOAK_DELAY_MS ?? '1' },
    faults: { type: 'string', default: 'huge,down,garbage,error,nokeys,oversize,private' },
  },
});
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const DELAY_MS = Number(args['delay-ms']);
if (!(SECONDS >= 30) || !(CONNECTIONS >= 1 && CONNECTIONS <= 64) || !(DELAY_MS >= 0)) {
  console.error('soak: --seconds must be at least 30; --connections 1..64; --delay-ms >= 0');
  process.exit(2);
}
const RUN_ENVOY = args.only !== 'node';
const RUN_NODE = args.only !== 'envoy';

const SEGMENT_SECONDS = 10; // one wrk run; token pools are re-minted between runs
const FIRST_SEGMENT_SECONDS = 6; // the IdP is down for the first 3 s: 503 is right only here
const ROTATE_EVERY_SECONDS = 30;
const FAULT_SECONDS = 5;
// The first fault is the huge document (64 MiB), inside the warm-up: Envoy buffers such a response
// up to its async-client limit before the filter refuses it, and the first one costs Envoy ~30 MiB
// of RSS for good (its allocator keeps it; each further one adds ~0.5 MiB). Later huge documents
// are 4 MiB. The RSS check then measures growth once every kind of traffic has been seen.
const FAULTS = args.faults.split(',');
const WARMUP_SECONDS = Math.max(30, Math.min(60, SECONDS / 4));
const WINDOW_SECONDS = Math.max(5, Math.min(30, SECONDS / 8));
const MAX_GROWTH = 0.10;
const VM_FAILURE = /panicked at|RuntimeError|Wasm VM failed|failed to load|vm_reload/;

const policy = {
  providers: {
    idp: {
      issuer: ISSUER,
      audiences: [AUDIENCE],
      remote_jwks: {
        cluster: 'idp', uri: 'http://idp.soak.test/jwks.json', cache_duration_seconds: 5, timeout_ms: 1000,
        refetch_cooldown_seconds: 2,
      },
      max_lifetime_seconds: 3600,
      token_types: ['at+jwt'],
      forward: true, // the upstream re-verifies the token it receives
      claim_to_headers: [{ claim_name: 'sub', header_name: 'x-bot-id' }],
    },
  },
  rules: [
    { match: { prefix: '/healthz' } },
    { match: { prefix: '/orders', methods: ['GET'] }, requires: { provider_name: 'idp', scopes: ['read:orders'] } },
    { match: { prefix: '/orders', methods: ['POST'] }, requires: { provider_name: 'idp', scopes: ['write:orders'] } },
  ],
  deny_wildcard_scopes: true,
};

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
const elapsed = (start) => (Date.now() - start) / 1000;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
};
const rssOf = (pid) => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]) * 1024;
const mib = (bytes) => `${(bytes / 1048576).toFixed(1)} MiB`;

// ---- traffic ----

/** One pool of requests, each with what it deserves (see soak/traffic.lua for the format). */
function pool(signer, stranger) {
  const now = nowSeconds();
  const claims = (extra = {}) => ({ iss: ISSUER, aud: AUDIENCE, sub: 'bot-0', iat: now - 10, exp: now + 600, ...extra });
  const lines = [];
  const add = (count, cls, method, path, status, code, needsKeys, make, spoof = '-', junk = '-') => {
    for (let i = 0; i < count; i += 1) {
      const token = make?.(i);
      const authorization = token === undefined ? '-' : `Bearer ${token}`;
      lines.push([cls, method, path.replace('{i}', String(i)), status, code, needsKeys ? 1 : 0, authorization, spoof, junk]
        .join('\t'));
    }
  };
  const read = (i) => mint(signer, claims({ sub: `bot-${i}`, scope: 'read:orders', jti: `r${now}-${i}` }));
  const tampered = () => {
    const [h, , s] = mint(signer, claims({ scope: 'read:orders' })).split('.');
    const forged = Buffer.from(JSON.stringify(claims({ scope: 'read:orders write:orders admin' }))).toString('base64url');
    return `${h}.${forged}.${s}`;
  };
  // Many distinct valid tokens per run: the bounded caches (the core's, the npm glue's 1024
  // remembered tokens and results) fill within the warm-up, and most verifications are misses.
  add(400, 'valid', 'GET', '/orders/{i}', 200, '-', true, read);
  add(40, 'valid-write', 'POST', '/orders', 200, '-', true, (i) => mint(signer, claims({ sub: `w-${i}`, scope: 'write:orders' })));
  add(4, 'valid-spoofed-id', 'GET', '/orders/{i}', 200, '-', true, read, 'admin');
  add(6, 'expired', 'GET', '/orders/{i}', 401, 'ERR_JWT_EXPIRED', true,
    () => mint(signer, claims({ scope: 'read:orders', iat: now - 1000, exp: now - 120 })));
  add(6, 'tampered', 'GET', '/orders/{i}', 401, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', true, tampered);
  add(6, 'wrong-scope', 'GET', '/orders/{i}', 403, 'ERR_SCOPE_INSUFFICIENT', true,
    () => mint(signer, claims({ scope: 'write:orders' })));
  add(4, 'wildcard', 'GET', '/orders/{i}', 401, 'ERR_SCOPE_WILDCARD', true,
    () => mint(signer, claims({ scope: 'read:orders orders:*' })));
  add(2, 'lifetime', 'GET', '/orders/{i}', 401, 'ERR_JWT_LIFETIME_EXCEEDED', true,
    () => mint(signer, claims({ scope: 'read:orders', exp: now + 7200 })));
  add(3, 'unknown-kid', 'GET', '/orders/{i}', 401, 'ERR_JWKS_NO_MATCHING_KEY', true,
    () => mint(stranger, claims({ scope: 'read:orders' })));
  add(3, 'alg-none', 'GET', '/orders/{i}', 401, 'ERR_JOSE_ALG_NOT_ALLOWED', false, () => mintNone(claims({ scope: 'read:orders' })));
  const garbage = ['abc.def', 'a.b.c', 'e30.e30.', '....', 'eyJhbGciOiJFUzI1NiJ9.%%%.x', 'x'.repeat(300)];
  add(garbage.length, 'garbage', 'GET', '/orders/{i}', 401, 'ERR_JWT_INVALID', false, (i) => garbage[i]);
  add(2, 'oversized', 'GET', '/orders/{i}', 401, 'ERR_JWT_INVALID', false,
    () => mint(signer, claims({ scope: 'read:orders', pad: 'p'.repeat(20 * 1024) })));
  add(4, 'no-token', 'GET', '/orders/{i}', 401, 'ERR_JWT_MISSING', false);
  add(4, 'public', 'GET', '/healthz', 200, '-', false);
  add(2, 'public-spoofed-id', 'GET', '/healthz', 200, '-', false, undefined, 'admin');
  add(3, 'no-rule', 'GET', '/admin/{i}', 403, 'ERR_ROUTE_DENIED', false);
  // Header values that are not UTF-8 (the pool is written as latin1: one byte per character).
  add(2, 'non-utf8-public', 'GET', '/healthz', 200, '-', false, undefined, '-', '\xff\xfe');
  add(2, 'non-utf8-valid', 'GET', '/orders/{i}', 200, '-', true, read, 'adm\xefn', 'caf\xe9');
  add(2, 'non-utf8-token', 'GET', '/orders/{i}', 401, 'ERR_JWT_INVALID', false, (i) => `${read(i)}\xff`);
  return `${lines.join('\n')}\n`;
}

function runWrk(url, poolPath, seconds, allow503) {
  const wrkArgs = ['-t', String(CONNECTIONS), '-c', String(CONNECTIONS), '-d', `${seconds}s`, '--timeout', '5s',
    '-s', join(ROOT, 'soak/traffic.lua'), url];
  const env = { ...process.env, SOAK_POOL: poolPath, SOAK_ALLOW_503: allow503 ? '1' : '0', SOAK_DELAY_MS: String(DELAY_MS) };
  const child = spawn('wrk', wrkArgs, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  return new Promise((ok, fail) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), (seconds + 30) * 1000);
    child.once('exit', (code, signal) => {
      clearTimeout(killer);
      children.delete(child);
      const line = out.split('\n').find((l) => l.startsWith('SOAK_RESULT '));
      if (code !== 0 || !line) return fail(new Error(`wrk exited ${code ?? signal}: ${out.slice(-2000)}`));
      ok(JSON.parse(line.slice('SOAK_RESULT '.length)));
    });
  });
}

// ---- the run ----

const children = new Set();
const things = [];
let nodeServer;

function nodeRequest(type) {
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`node server did not answer ${type}`)), 10_000);
    const listener = (message) => {
      if (message.type !== type && !(type === 'start' && message.type === 'listening')) return;
      clearTimeout(timer);
      nodeServer.off('message', listener);
      ok(message);
    };
    nodeServer.on('message', listener);
  });
}

async function startNodeServer(uri) {
  nodeServer = fork(join(ROOT, 'soak/node-server.mjs'), [], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(nodeServer);
  const listening = nodeRequest('start');
  nodeServer.send({
    type: 'start', policy, uri, options: { cooldownDuration: 2000, cacheMaxAge: 5000, timeoutDuration: 1000 },
  });
  const { port } = await listening;
  return `http://127.0.0.1:${port}`;
}

async function nodeStats() {
  const reply = nodeRequest('stats');
  nodeServer.send({ type: 'stats' });
  return reply;
}

async function main() {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'edgeward-soak-'));
  things.push({ stop: () => rmSync(dir, { recursive: true, force: true }) });

  // The IdP (harness JWKS server: modes ok/down/error/garbage/oversize/huge) and its keys.
  const independent = new IndependentVerifier();
  let signer = makeKey('k0');
  const stranger = makeKey('never-published');
  const idp = await startJwksServer([signer]);
  things.push(idp);
  idp.state.mode = 'down';
  const published = [signer];
  const publish = (keys) => {
    idp.state.keys = keys;
    independent.learn(keys.map((k) => k.jwk));
    nodeServer?.send({ type: 'keys', jwks: keys.map((k) => k.jwk) });
  };
  const idpUri = `http://127.0.0.1:${idp.port}/jwks.json`;

  // Envoy with its re-verifying upstream.
  const envoyTally = new Tally();
  let envoy;
  if (RUN_ENVOY) {
    const upstream = await startEchoUpstream({
      onRequest: (req) => envoyTally.record(independent.judge(req.method, req.url, req.headers.authorization, req.headers['x-bot-id'])),
    });
    things.push(upstream);
    const config = envoyConfig({ upstreamPort: upstream.port, jwksPort: idp.port, policy });
    config.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0]
      .typed_config.config.failure_policy = 'FAIL_CLOSED';
    envoy = await startEnvoy(config, { concurrency: 2, logLevel: 'warning' });
    things.push(envoy);
  }
  let nodeUrl;
  if (RUN_NODE) {
    nodeUrl = await startNodeServer(idpUri);
    things.push({ stop: () => nodeServer.connected && nodeServer.disconnect() });
  }
  publish([signer]);
  const targets = [];
  if (envoy) targets.push({ name: 'envoy', url: envoy.url, pid: envoy.child.pid, results: [], rss: [] });
  if (nodeUrl) targets.push({ name: 'node', url: nodeUrl, pid: nodeServer.pid, results: [], rss: [], heap: [], wasm: [] });
  const vmStats = async () => {
    const text = await (await fetch(`${envoy.adminUrl}/stats?filter=wasm`)).text();
    return Object.fromEntries(text.split('\n').filter((l) => l.includes(': ')).map((l) => l.split(': ')).map(([k, v]) => [k, Number(v)]));
  };
  const vmAtStart = envoy ? await vmStats() : null;

  const t0 = Date.now();
  const events = { rotations: 0, confirmed: 0, faults: {} };
  let stopping = false;

  /** Whether both gateways accept a fresh token signed by `key` (the probe itself asks for a refetch). */
  const accepts = async (key) => {
    const token = mint(key, { iss: ISSUER, aud: AUDIENCE, sub: 'probe', iat: nowSeconds(), exp: nowSeconds() + 60, scope: 'read:orders' });
    for (const target of targets) {
      const res = await fetch(`${target.url}/orders/probe`, { headers: { authorization: `Bearer ${token}` } });
      await res.arrayBuffer();
      if (res.status !== 200) return false;
    }
    return true;
  };

  // The IdP's timeline: down for 3 s; then every 30 s a new key is published beside the signing
  // key, and signing moves to it once both gateways accept it; two 5 s faults per 30 s.
  const timeline = (async () => {
    let rotation = 0;
    let mode = 'down';
    while (!stopping) {
      const t = elapsed(t0);
      const phase = t % ROTATE_EVERY_SECONDS;
      let want = 'ok';
      if (t < 3) want = 'down';
      else if ((phase >= 12 && phase < 12 + FAULT_SECONDS) || (phase >= 21 && phase < 21 + FAULT_SECONDS)) {
        const window = Math.floor(t / ROTATE_EVERY_SECONDS) * 2 + (phase >= 21 ? 1 : 0);
        want = FAULTS[window % FAULTS.length];
      }
      if (want !== mode) {
        // The first huge document (64 MiB) overflows Envoy's async-client buffer: the call is reset
        // (this once killed the VM). Later ones are 4 MiB: read by Envoy, refused by the filter on
        // their size alone. Envoy keeps memory after buffering 64 MiB (see README), which would
        // otherwise be measured as the filter's.
        if (want === 'huge') idp.state.hugeBytes = events.faults.huge ? 4 * 1048576 : 64 * 1048576;
        if (want !== 'ok') events.faults[want] = (events.faults[want] ?? 0) + 1;
        if (want === 'nokeys') idp.state.keys = [];
        else if (want === 'private') idp.state.keys = [{ jwk: { ...signer.privateKey.export({ format: 'jwk' }), kid: signer.kid } }];
        else idp.state.keys = published.slice();
        idp.state.mode = want === 'nokeys' || want === 'private' ? 'ok' : want;
        mode = want;
      }
      if (t >= (rotation + 1) * ROTATE_EVERY_SECONDS && mode === 'ok') {
        rotation += 1;
        events.rotations += 1;
        const next = makeKey(`k${rotation}`);
        published.splice(0, published.length, signer, next);
        publish(published.slice());
        const deadline = Date.now() + 8000;
        while (!stopping && Date.now() < deadline) {
          if (await accepts(next)) {
            signer = next;
            events.confirmed += 1;
            break;
          }
          await sleep(500);
        }
      }
      await sleep(200);
    }
  })();

  // Resource samples, once a second.
  const sampler = (async () => {
    let tick = 0;
    while (!stopping) {
      const t = elapsed(t0);
      for (const target of targets) target.rss.push([t, rssOf(target.pid)]);
      if (nodeServer && tick % 5 === 0) {
        const { memory } = await nodeStats();
        const node = targets.find((x) => x.name === 'node');
        node.heap.push([t, memory.heapUsed]);
        node.wasm.push([t, memory.wasm]);
      }
      tick += 1;
      await sleep(1000);
    }
  })();

  // Load, segment by segment.
  let segment = 0;
  try {
    while (elapsed(t0) < SECONDS - 1) {
      const first = segment === 0;
      const seconds = first ? FIRST_SEGMENT_SECONDS : Math.max(1, Math.min(SEGMENT_SECONDS, Math.floor(SECONDS - elapsed(t0))));
      const poolPath = join(dir, `pool-${segment}.tsv`);
      writeFileSync(poolPath, pool(signer, stranger), 'latin1');
      const runs = targets.map((target) => runWrk(`${target.url}`, poolPath, seconds, first));
      const results = await Promise.all(runs);
      results.forEach((result, i) => targets[i].results.push({ segment, at: elapsed(t0), ...result }));
      rmSync(poolPath, { force: true });
      if (first) await until(() => accepts(signer), { timeoutMs: 30_000, what: 'both gateways to load the first keys' });
      segment += 1;
      const wrong = results.reduce((n, r) => n + Object.keys(r.wrong).length, 0);
      console.log(`soak: ${elapsed(t0).toFixed(0)} s, segment ${segment}: ${targets.map((t, i) =>
        `${t.name} ${results[i].requests} req, p99 ${(results[i].p99_us / 1000).toFixed(1)} ms`).join('; ')}${wrong ? ' — WRONG ANSWERS' : ''}`);
    }
  } finally {
    stopping = true;
    await Promise.allSettled([timeline, sampler]);
  }

  // ---- checks ----
  const failures = [];
  const summary = { seconds: elapsed(t0), connections: CONNECTIONS, delay_ms: DELAY_MS, events, targets: {} };
  for (const target of targets) {
    const totals = { requests: 0, socket_errors: 0, timeouts: 0, counts: {}, wrong: {} };
    for (const r of target.results) {
      totals.requests += r.requests;
      totals.socket_errors += r.socket_errors;
      totals.timeouts += r.timeouts;
      for (const [k, v] of Object.entries(r.counts)) totals.counts[k] = (totals.counts[k] ?? 0) + v;
      for (const [k, v] of Object.entries(r.wrong)) totals.wrong[`segment ${r.segment}: ${k}`] = v;
    }
    const statuses = {};
    for (const [k, v] of Object.entries(totals.counts)) {
      const status = k.split('|')[1];
      statuses[status] = (statuses[status] ?? 0) + v;
    }
    const p99s = target.results.filter((r) => r.segment > 0).map((r) => r.p99_us);
    const window = (samples, from, to) => samples.filter(([t]) => t >= from && t < to).map(([, v]) => v);
    const end = elapsed(t0);
    const rssStart = median(window(target.rss, WARMUP_SECONDS, WARMUP_SECONDS + WINDOW_SECONDS));
    const rssEnd = median(window(target.rss, end - WINDOW_SECONDS, end + 1));
    const out = {
      requests: totals.requests, statuses, by_class: totals.counts, wrong: totals.wrong,
      socket_errors: totals.socket_errors, timeouts: totals.timeouts,
      p99_ms: { worst_segment: Math.max(...p99s) / 1000, median_segment: median(p99s) / 1000 },
      p999_ms_worst_segment: Math.max(...target.results.filter((r) => r.segment > 0).map((r) => r.p999_us)) / 1000,
      rss: { after_warmup: rssStart, end: rssEnd, max: Math.max(...target.rss.map(([, v]) => v)), growth: rssEnd / rssStart - 1 },
      // Every 10 s: [seconds, MiB].
      series: Object.fromEntries(['rss', 'heap', 'wasm'].filter((k) => target[k]).map((k) => [k,
        target[k].filter((_, i, all) => i % (k === 'rss' ? 10 : 2) === 0 || i === all.length - 1)
          .map(([t, v]) => [Math.round(t), Number((v / 1048576).toFixed(2))])])),
    };
    if (Object.keys(totals.wrong).length) failures.push(`${target.name}: responses that did not match what the request deserved: ${JSON.stringify(totals.wrong)}`);
    if (totals.socket_errors) failures.push(`${target.name}: ${totals.socket_errors} socket errors (${totals.timeouts} timeouts)`);
    if (!(out.rss.growth < MAX_GROWTH)) failures.push(`${target.name}: RSS grew ${(out.rss.growth * 100).toFixed(1)}% after warm-up (${mib(rssStart)} -> ${mib(rssEnd)})`);
    if (target.name === 'envoy') {
      out.upstream = envoyTally.snapshot();
      out.metrics = await metrics(envoy);
      const vmEnd = await vmStats();
      out.vm = { created_at_start: vmAtStart['wasm.envoy.wasm.runtime.v8.created'], created_at_end: vmEnd['wasm.envoy.wasm.runtime.v8.created'],
        active_at_end: vmEnd['wasm.envoy.wasm.runtime.v8.active'],
        reloads: Object.entries(vmEnd).filter(([k, v]) => k.includes('vm_reload') && v > 0) };
      const logFailure = envoy.log.split('\n').find((l) => VM_FAILURE.test(l));
      if (logFailure) failures.push(`envoy: the wasm VM failed: ${logFailure.slice(0, 300)}`);
      if (out.vm.created_at_end !== out.vm.created_at_start || out.vm.reloads.length) {
        failures.push(`envoy: wasm VMs were created or reloaded during the run: ${JSON.stringify(out.vm)}`);
      }
      if (!(out.metrics.edgeward_jwks_fetch_failed > 0)) failures.push('envoy: no failed JWKS fetch: the IdP faults were not exercised');
    } else {
      const stats = await nodeStats();
      out.upstream = stats.tally;
      out.last_jwks_error = stats.lastError;
      const heapStart = median(window(target.heap, WARMUP_SECONDS, WARMUP_SECONDS + WINDOW_SECONDS + 5));
      const heapEnd = median(window(target.heap, end - WINDOW_SECONDS - 5, end + 1));
      out.heap = { after_warmup: heapStart, end: heapEnd, growth: heapEnd / heapStart - 1 };
      // Heap after GC: flat within 10%, or within 2 MiB for a heap this small.
      if (!(heapEnd - heapStart < Math.max(MAX_GROWTH * heapStart, 2 * 1048576))) {
        failures.push(`node: heap grew from ${mib(heapStart)} to ${mib(heapEnd)}`);
      }
    }
    if (out.upstream.violations) failures.push(`${target.name}: ${out.upstream.violations} forwarded requests did not deserve it: ${JSON.stringify(out.upstream.reasons)}`);
    if (!(out.upstream.forwarded > 0)) failures.push(`${target.name}: nothing was forwarded`);
    summary.targets[target.name] = out;
  }
  if (SECONDS >= 60 && events.confirmed < 1) failures.push('no key rotation was completed');

  // ---- report ----
  mkdirSync(join(ROOT, 'target/soak'), { recursive: true });
  const file = join(ROOT, `target/soak/summary-${Math.round(SECONDS)}s.json`);
  writeFileSync(file, `${JSON.stringify({ ...summary, failures }, null, 2)}\n`);
  console.log(`\nsoak: ${summary.seconds.toFixed(0)} s, ${CONNECTIONS} connections per target (pause ${DELAY_MS} ms), ` +
    `${events.rotations} rotations (${events.confirmed} completed), faults ${JSON.stringify(events.faults)}`);
  for (const [name, t] of Object.entries(summary.targets)) {
    console.log(`${name}: ${t.requests} requests, statuses ${JSON.stringify(t.statuses)}, forwarded ${t.upstream.forwarded}, ` +
      `violations ${t.upstream.violations}, wrong answers ${Object.keys(t.wrong).length}, socket errors ${t.socket_errors}`);
    console.log(`${' '.repeat(name.length)}  p99 ${t.p99_ms.median_segment.toFixed(2)} ms (median segment), ${t.p99_ms.worst_segment.toFixed(2)} ms (worst); ` +
      `RSS ${mib(t.rss.after_warmup)} after warm-up -> ${mib(t.rss.end)} at the end (${(t.rss.growth * 100).toFixed(1)}%, max ${mib(t.rss.max)})` +
      (t.heap ? `; heap ${mib(t.heap.after_warmup)} -> ${mib(t.heap.end)}` : ''));
    if (t.metrics) {
      const m = t.metrics;
      console.log(`${' '.repeat(name.length)}  filter: allowed ${m.edgeward_requests_allowed}, denied ${m.edgeward_requests_denied}, ` +
        `JWKS fetches ok ${m.edgeward_jwks_fetch_ok} failed ${m.edgeward_jwks_fetch_failed}; VMs created ${t.vm.created_at_start} -> ${t.vm.created_at_end}`);
    }
  }
  console.log(`summary: ${file}`);
  if (failures.length) {
    console.error(`\nsoak FAILED:\n- ${failures.join('\n- ')}`);
    return 1;
  }
  console.log(`soak passed (${(elapsed(started)).toFixed(0)} s in all)`);
  return 0;
}

async function cleanUp() {
  for (const child of children) child.kill('SIGKILL');
  await stopAll(things);
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => { cleanUp().finally(() => process.exit(130)); });
}

main().then(
  async (code) => { await cleanUp(); process.exit(code); },
  async (error) => { console.error(`soak: ${error.stack ?? error}`); await cleanUp(); process.exit(1); },
);
