// make bench-envoy in miniature (--quick, 1 s runs, 200 tokens, about a minute): for ES256, RS256
// and PS256 every setup (no filter, native jwt_authn + RBAC, edgeward old, now and pure wasm with
// the VM configuration {"host_crypto": false}) enforces the same policy (the bench refuses to
// measure otherwise: a valid token passes, no token, a bad signature and a token without the scope
// are refused), the report holds every cell, the ratios and the targets' verdicts, and the ES256
// DPoP section (fresh proofs, none refused) with its ratio to the bearer runs. Skipped where wrk is
// not installed.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from './lib/harness.mjs';

const haveWrk = spawnSync('wrk', ['--version']).error === undefined;
const ALGS = ['ES256', 'RS256', 'PS256'];
const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('bench-envoy runs and reports every algorithm, load and setup', { skip: !haveWrk && 'wrk is not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeward-bench-test-'));
  try {
    const out = join(dir, 'BENCH.md');
    const result = spawnSync(process.execPath,
      ['envoy/bench/bench.mjs', '--quick', '--seconds', '1', '--warmup', '0', '--rounds', '1', '--tokens', '200', '--out', out],
      { cwd: ROOT, encoding: 'utf8', timeout: 300000 });
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
    const report = readFileSync(out, 'utf8');
    const old = report.match(/\| (edgeward old \([^)]*\)) \|/)?.[1];
    assert.ok(old, 'an old edgeward column');
    const setups = ['no filter', 'jwt_authn + RBAC', old, 'edgeward now', 'edgeward, pure wasm'];
    for (const alg of ALGS) {
      for (const tokens of ['reused token', '0.2k distinct tokens']) {
        // The summary: five CPU figures, then old, now and pure wasm ÷ native and old ÷ now.
        assert.match(report, new RegExp(`^\\| ${alg} \\| ${tokens} \\|( [\\d.]+ \\|){5}( [\\d.]+× \\|){4}$`, 'm'), `${alg} ${tokens} summary`);
        for (const setup of setups) {
          assert.match(report, new RegExp(`^\\| ${alg} \\| ${tokens} \\| ${escape(setup)} \\| \\d+ \\|`, 'm'), `${alg} ${tokens} ${setup}`);
        }
      }
      assert.match(report, new RegExp(`^- ${alg}, reused token: edgeward now ≤ 1\\.05× native: .* — (reached|\\*\\*not reached\\*\\*)\\.$`, 'm'));
    }
    assert.match(report, /^- RS256, 0\.2k distinct tokens: edgeward now ≤ 1\.00× native: .*\*\*[\d.]+×\*\* — (reached|\*\*not reached\*\*)\.$/m);
    assert.match(report, /^- RS256, 0\.2k distinct tokens: the pure-wasm path ≥ 1\.5× faster than old .*\*\*[\d.]+×\*\*/m);
    assert.match(report, /fit in both caches/, 'a smoke run says its distinct tokens are cache hits');
    // ES256 DPoP: a bound token with a fresh proof per request, against the cold and reused bearer runs.
    assert.match(report, /^## DPoP \(ES256\)$/m);
    for (const load of ['DPoP: reused bound token, fresh proof', 'bearer: 0\\.2k distinct tokens \\(cold\\)', 'bearer: reused token']) {
      assert.match(report, new RegExp(`^\\| ${load} \\| [\\d.]+ \\([\\d–]+\\) \\| \\d+ \\| [\\d.]+ \\| [\\d.]+ \\| (—|[\\d.]+×) \\| 0 \\|$`, 'm'), load);
    }
    assert.match(report, /^- DPoP ÷ cold bearer ≤ 1\.3×: .*\*\*[\d.]+×\*\* — (reached|\*\*not reached\*\*)\./m);
    assert.doesNotMatch(report, /\| [1-9]\d* \|$/m, 'no non-2xx answers during the runs');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
