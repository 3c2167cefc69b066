// make bench-envoy in miniature: the three setups enforce the same policy (the bench refuses to
// measure otherwise) and the report is written. Skipped where wrk is not installed.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from './lib/harness.mjs';

const haveWrk = spawnSync('wrk', ['--version']).error === undefined;

test('bench-envoy runs and reports every setup', { skip: !haveWrk && 'wrk is not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeward-bench-test-'));
  try {
    const out = join(dir, 'BENCH.md');
    const result = spawnSync(process.execPath,
      ['envoy/bench/bench.mjs', '--seconds', '1', '--warmup', '0', '--rounds', '1', '--tokens', '200', '--out', out],
      { cwd: ROOT, encoding: 'utf8', timeout: 120000 });
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
    const report = readFileSync(out, 'utf8');
    for (const setup of ['no filter', 'jwt_authn + RBAC', 'edgeward']) {
      assert.match(report, new RegExp(`\\| ${setup.replace(/[+]/g, '\\+')} \\| reused token \\| \\d+`));
    }
    assert.match(report, /edgeward \| 0.2k distinct tokens .*×/);
    assert.doesNotMatch(report, /\| [1-9]\d* \|$/m, 'no non-2xx answers during the runs');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
