// `make demo` is the unattended gateway tour: it must pass, and it must not pass when it cannot run.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { ROOT } from './lib/harness.mjs';

test('the demo tour passes against the built filter and stops everything it started', () => {
  const result = spawnSync(process.execPath, ['envoy/demo/gateway.mjs', '--demo'], { cwd: ROOT, encoding: 'utf8', timeout: 90000 });
  assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
  assert.match(result.stdout, /all \d+ answers as expected/);
  assert.doesNotMatch(result.stdout, /^FAIL/m);
});

test('the demo exits non-zero when Envoy cannot load the filter', () => {
  const result = spawnSync(process.execPath, ['envoy/demo/gateway.mjs', '--demo'], {
    cwd: ROOT, encoding: 'utf8', timeout: 90000, env: { ...process.env, EDGEWARD_WASM: '/nonexistent/filter.wasm' },
  });
  assert.equal(result.status, 1, result.stdout);
});
