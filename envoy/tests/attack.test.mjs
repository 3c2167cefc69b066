// make bench-attack in miniature: `envoy/bench/attack.mjs --smoke` runs end to end and writes a
// report with every load for both builds, the targets and the reload runs. Shape only: no figure
// is judged (a smoke run of one second says nothing about cost). Uses the before build of
// make bench-attack if it is there, else the current build in both columns. Skipped where wrk is
// not installed or the filter is not built.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT, WASM } from './lib/harness.mjs';

const haveWrk = spawnSync('wrk', ['--version']).error === undefined;
const skip = !haveWrk ? 'wrk is not installed' : !existsSync(WASM) ? `${WASM} is not built` : false;

const LOADS = [
  'valid ES256, cold (distinct tokens)',
  'valid RS256 2048, cold (distinct tokens)',
  'no token (401)',
  'bogus ES256, known kid (distinct)',
  'bogus RS256 2048, known kid (distinct)',
  'bogus RS256 8192, known kid (distinct)',
  /16 KiB token, \d+ members, unknown kid/,
  '16 KiB ES256 token, valid (padding claim)',
  /16 KiB token, \d+ members, known kid, bogus signature/,
  'one bogus ES256 token, replayed',
  /legitimate client alone \([^|]*\)/,
];
const ATTACKS = [2, 3, 4, 5, 6, 8, 9]; // indexes into LOADS run with the legitimate client beside them
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const cell = '[^|]*';

test('bench-attack runs and reports every load, before and after', { skip, timeout: 600000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeward-attack-test-'));
  try {
    const out = join(dir, 'ATTACK.md');
    const result = spawnSync(process.execPath,
      ['envoy/bench/attack.mjs', '--seconds', '1', '--rounds', '1', '--smoke', '--out', out],
      { cwd: ROOT, encoding: 'utf8', timeout: 540000 });
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
    const report = readFileSync(out, 'utf8');
    const lines = report.split('\n');
    for (const [index, load] of LOADS.entries()) {
      const name = typeof load === 'string' ? escape(load) : load.source;
      const at = lines.findIndex((l) => new RegExp(`^\\| ${name} \\| before `).test(l));
      assert.ok(at >= 0, `a before row for ${name}`);
      const before = lines[at];
      const after = lines.slice(at + 1).find((l) => /^\| {2}\| after /.test(l));
      assert.ok(after, `an after row for ${name}`);
      for (const row of [before, after]) {
        // CPU µs/req (range), req/s and p99 are numbers; the answers column says what was expected.
        assert.match(row, new RegExp(`^\\|${cell}\\|${cell}\\| \\d+\\.\\d \\(\\d+\\.\\d–\\d+\\.\\d\\) \\|${cell}\\| \\d+ \\| [\\d.]+ \\|`), row);
        assert.doesNotMatch(row, /non-2xx|socket errors/, `every answer as expected: ${row}`);
        if (ATTACKS.includes(index)) assert.match(row, /\| [\d.]+ \([\d.]+; \d+\/s\) \|/, `legit p99 beside the attack: ${row}`);
      }
      assert.match(after, /\| \d+\.\d\d× \|/, `after ÷ before: ${after}`);
    }
    assert.match(report, /\| {2}\| after, default policy \| refused at load: `[^`]*RSA modulus is longer than 4096 bits/);
    assert.match(report, /^\| Envoy without the filter \(the replayed token\) \| — \| \d+\.\d/m);
    assert.match(report, /^\| Envoy without the filter \(the 16 KiB junk tokens\) \| — \| \d+\.\d/m);
    const targets = report.slice(report.indexOf('## Targets'));
    for (const target of ['bogus ES256 ÷ cold valid ES256', 'bogus RS256 2048 ÷ cold valid RS256 2048', '8192-bit RSA key, default policy',
      '16 KiB junk (known kid, bogus signature)', '16 KiB junk (unknown kid)', 'replayed bogus token', '64-key P-256 JWKS reload: Envoy CPU', '64-key P-256 JWKS reload: longest request']) {
      assert.match(targets, new RegExp(`^\\| ${escape(target)}[^\\n]*\\| (met|at the bar within the spread of the rounds|\\*\\*not met\\*\\*) \\|$`, 'm'), target);
    }
    for (const build of ['before', 'after']) {
      assert.match(report, new RegExp(`^\\| ${build} \\| 1 \\| \\d+ / \\d+ \\| \\d+ \\| [\\d.]+ \\| [\\d.]+ \\| ([\\d.]+(, [\\d.]+)*|—) \\| [\\d.]+ \\(\\d+\\) \\| (-?[\\d.]+(, -?[\\d.]+)*|—) \\(stream [\\d.]+\\) \\|$`, 'm'), `a reload run of ${build}`);
    }
    assert.match(report, /`node envoy\/bench\/attack\.mjs --seconds 1 --rounds 1 --smoke --out /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
