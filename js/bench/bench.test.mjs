// make bench-node in miniature (--quick, 50 ms cells, 100 tokens, 500 DPoP proofs, about ten
// seconds): every contender refuses the bad tokens (and the DPoP ones the bad proofs) and accepts
// the good ones for every algorithm (the bench refuses to measure otherwise), and the report holds
// every cell, the ratios and the targets' verdicts, the proof-of-possession table included.
// Run by make test-js beside test/.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ALGORITHMS } from './keys.mjs';

const js = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

test('bench-node runs and reports every algorithm and contender', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgeward-bench-node-test-'));
  try {
    const out = path.join(dir, 'BENCH.md');
    const result = spawnSync(process.execPath,
      ['bench/bench.mjs', '--quick', '--pool', '100', '--proofs', '500', '--cold-ms', '50', '--warm-ms', '50', '--warmup-ms', '10', '--out', out],
      { cwd: js, encoding: 'utf8', timeout: 180000 });
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
    const report = fs.readFileSync(out, 'utf8');
    // The cold CPU table: old, now, pure wasm, jose, fast-jwt, node:crypto, then five ratios.
    assert.match(report, /^\| alg \| key \| edgeward old \([^)]*\) \| edgeward now \| edgeward, pure wasm \| jose \(async\) \| fast-jwt, no cache \| node:crypto \|/m);
    for (const alg of ALGORITHMS) {
      assert.match(report, new RegExp(`^\\| ${alg} \\| [^|]+ \\|( [\\d.]+ \\|){6}( [\\d.]+× \\|){5}$`, 'm'), `${alg} cold CPU row`);
      assert.match(report, new RegExp(`^\\| ${alg} \\|( [\\d,]+ \\|){6}( [\\d.]+× \\|){2}$`, 'm'), `${alg} cold ops/s row`);
    }
    for (const alg of ['RS256', 'PS256']) {
      assert.match(report, new RegExp(`^- ${alg} cold ≥ 2\\.0× cheaper than jose: .*\\*\\*[\\d.]+×\\*\\* — (reached|\\*\\*not reached\\*\\*)\\.$`, 'm'));
    }
    assert.match(report, /^- RS256 pure-wasm path ≥ 1\.5× faster than old .*\*\*[\d.]+×\*\* — (reached|\*\*not reached\*\*)/m);
    assert.match(report, /^\| edgeward now \| [\d,]+ \| 1\.0 \| [\d,]+ \| 1\.0 \|$/m, 'the warm table');
    // Proof of possession (ES256): DPoP against bearer through authorize, and jose's DPoP by hand.
    assert.match(report, /^## Proof of possession: DPoP against bearer \(ES256, through `verifier\.authorize`\)$/m);
    const rows = [
      'edgeward, bearer, cold (distinct tokens)', 'edgeward, bearer, one token again',
      'edgeward, DPoP: one bound token, a new proof each call', 'edgeward, DPoP + memoryReplayStore',
      'jose, bearer, cold (distinct tokens)', 'jose, DPoP by hand: proof (EmbeddedJWK), thumbprint, ath, token',
    ];
    for (const row of rows) {
      const name = row.replace(/[()+.]/g, '\\$&');
      assert.match(report, new RegExp(`^\\| ${name} \\| [\\d.]+ \\| [\\d,]+ \\| [\\d.]+× \\|$`, 'm'), row);
    }
    assert.match(report, /^- DPoP ≤ 1\.3× a cold bearer request's CPU: .*\*\*[\d.]+×\*\* — (reached|\*\*not reached\*\*); with the replay store \*\*[\d.]+×\*\* — (reached|\*\*not reached\*\*)\.$/m);
    assert.match(report, /^- Against jose: edgeward's DPoP request is \*\*[\d.]+×\*\* cheaper \(jose [\d.]+ µs ÷ edgeward [\d.]+ µs\); jose's DPoP costs \*\*[\d.]+×\*\*/m);
    assert.match(report, /Quick run/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// make bench-node's frameworks part in miniature (--quick: one round of 1 s cells, no warm-up, 3,000
// cold tokens, about 20 seconds): every server starts, refuses the bad requests and answers every
// request of every cell with a 200 (the bench fails otherwise), and its section of the report has a
// row per server, both regimes, the server CPU columns and the targets' verdicts, written between
// its markers above the notes, the rest of the file left as it was.
test('bench-node frameworks runs every server and writes its section', async () => {
  const { SERVERS } = await import('./frameworks-servers.mjs');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgeward-bench-frameworks-test-'));
  try {
    const out = path.join(dir, 'BENCH.md');
    const before = '# the report\n\ntext of bench.mjs\n';
    const notes = '<!-- notes: kept by make bench-node -->\nhand-written\n';
    fs.writeFileSync(out, `${before}\n${notes}`);
    const result = spawnSync(process.execPath, ['bench/frameworks.mjs', '--quick', '--out', out], { cwd: js, encoding: 'utf8', timeout: 180000 });
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
    const names = Object.keys(SERVERS);
    for (const regime of ['reused', 'cold']) {
      for (const name of names) {
        assert.match(result.stdout, new RegExp(`^r1 ${regime} +${name} +[\\d,]+ req/s +\\([\\d,]+ × 200 in `, 'm'), `${name} ${regime}`);
      }
    }
    const report = fs.readFileSync(out, 'utf8');
    assert.ok(report.startsWith(`${before}\n<!-- frameworks: written by js/bench/frameworks.mjs -->\n`), 'the section after the text before it');
    assert.ok(report.endsWith(`<!-- frameworks: end -->\n\n${notes}`), 'the section ends above the notes');
    assert.match(report, /^\| server \| guard \| reused token req\/s \| cold RS256 \(distinct tokens\) req\/s \| reused: server CPU µs\/request \| cold: server CPU µs\/request \|$/m);
    const rows = report.split('\n').filter((l) => /^\| (Express 5|Fastify 5|node:http) \| /.test(l));
    assert.equal(rows.length, names.length, 'a row per server');
    for (const row of rows) assert.match(row, /^\| [^|]+ \| [^|]+ \| [\d,]+ \| [\d,]+ \| (\d+|n\/a) \| (\d+|n\/a) \|$/, row);
    assert.match(report, /^\| Express 5 \| express-oauth2-jwt-bearer /m);
    assert.match(report, /^- reused token ≥ 1\.5×: [\d,]+ ÷ [\d,]+ req\/s = \*\*[\d.]+×\*\* — (reached|\*\*not reached\*\*)\.$/m);
    assert.match(report, /^- cold RS256 \(distinct tokens\) ≥ 2\.0×: [\d,]+ ÷ [\d,]+ req\/s = \*\*[\d.]+×\*\* — (reached|\*\*not reached\*\*)\.$/m);
    assert.match(report, /Every answer of every cell was a 200\./);
    assert.match(report, /Quick run/);
    assert.ok(!/eyJ[\w-]+\.eyJ/.test(report + result.stdout + result.stderr), 'no token printed');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
