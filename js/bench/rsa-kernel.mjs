// The pure-wasm RSA kernel (issue 11): cold RS256 and PS256 verification (2048-bit key, distinct
// tokens, every cache missed) of two builds of the Node package in one process, by CPU time per
// verification (process.cpuUsage), in interleaved rounds; medians and their ratio.
//
//   node bench/rsa-kernel.mjs <old pkg dir> [new pkg dir, default js/pkg]
//
// A pkg dir is what js/build.sh writes (edgeward_js.js + api.cjs), e.g. a variant built from an
// older commit: `EDGEWARD_JS_VARIANT=<dir> bash js/build.sh` in a worktree of that commit.
// RSA_KERNEL_ROUNDS (default 15) rounds of RSA_KERNEL_MS (default 400) ms per build and algorithm,
// the order of the two builds alternating round by round.
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { AUDIENCE, ISSUER, keys } from './keys.mjs';

const require = createRequire(import.meta.url);
const js = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [oldDir, newDir = path.join(js, 'pkg')] = process.argv.slice(2);
if (!oldDir) {
  console.error('usage: node bench/rsa-kernel.mjs <old pkg dir> [new pkg dir]');
  process.exit(2);
}
const ROUNDS = Number(process.env.RSA_KERNEL_ROUNDS ?? 15);
const MS = Number(process.env.RSA_KERNEL_MS ?? 400);
const POOL = 2000; // distinct tokens, cycled
const CACHE = 1000; // the core's token cache, smaller than the pool: every call misses

const load = (dir) => {
  const resolved = path.resolve(dir);
  return require(path.join(resolved, 'api.cjs'))(require(path.join(resolved, 'edgeward_js.js'))).Verifier;
};
const builds = [
  { name: 'old', dir: oldDir, Verifier: load(oldDir) },
  { name: 'new', dir: newDir, Verifier: load(newDir) },
];

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

// CPU µs per verification over `ms` of calls, cycling the pool from `state.index`.
function round(verify, tokens, state, ms) {
  const start = process.cpuUsage();
  const end = performance.now() + ms;
  let count = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 20; i++) {
      if (!verify(tokens[state.index])) throw new Error('refused a good token');
      state.index = (state.index + 1) % tokens.length;
    }
    count += 20;
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / count;
}

console.log(`node ${process.version}, ${ROUNDS} rounds × ${MS} ms per build and algorithm`);
for (const build of builds) console.log(`  ${build.name}: ${build.dir}`);
const results = [];
for (const alg of ['RS256', 'PS256']) {
  const k = keys(alg);
  const tokens = Array.from({ length: POOL }, (_, i) => k.mint(i));
  const bad = `${tokens[0].split('.').slice(0, 2).join('.')}.${tokens[1].split('.')[2]}`;
  const policy = {
    providers: { idp: { issuer: ISSUER, audiences: [AUDIENCE], algorithms: [alg], local_jwks: { keys: [k.jwk] } } },
    token_cache_size: CACHE,
  };
  const runs = builds.map((build) => {
    const verifier = new build.Verifier(policy, { memoize: false });
    const verify = (token) => verifier.verify(token);
    let refused = false;
    try {
      verify(bad);
    } catch {
      refused = true;
    }
    if (!refused) throw new Error(`${build.name}: accepted a token with another token's signature`);
    const state = { index: 0 };
    round(verify, tokens, state, 300); // tier-up (V8 starts wasm on its baseline compiler)
    return { build, verify, state, samples: [] };
  });
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 ? [...runs].reverse() : runs;
    for (const run of order) run.samples.push(round(run.verify, tokens, run.state, MS));
  }
  const [oldRun, newRun] = runs;
  const perRound = oldRun.samples.map((old, i) => old / newRun.samples[i]);
  const result = {
    alg,
    old: median(oldRun.samples),
    new: median(newRun.samples),
    ratioOfMedians: median(oldRun.samples) / median(newRun.samples),
    medianRatio: median(perRound),
    minRatio: Math.min(...perRound),
    maxRatio: Math.max(...perRound),
  };
  results.push(result);
  console.log(
    `${alg}: old ${result.old.toFixed(1)} µs, new ${result.new.toFixed(1)} µs CPU per verification (medians); ` +
      `old ÷ new ${result.ratioOfMedians.toFixed(2)}× (per-round ratios: median ${result.medianRatio.toFixed(2)}×, ` +
      `${result.minRatio.toFixed(2)}–${result.maxRatio.toFixed(2)}×)`,
  );
}
