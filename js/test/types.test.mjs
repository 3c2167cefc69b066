// The hand-written types: test/types/*.{mts,cts} compile under tsc --strict against the package
// (resolved by its own name), including @ts-expect-error lines that must stay errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const js = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

test('usage compiles with tsc --strict', () => {
  const tsc = path.join(js, 'node_modules/typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'test/types/tsconfig.json'], { cwd: js, encoding: 'utf8', timeout: 120_000 });
  assert.equal(result.status, 0, result.stdout + result.stderr);
});

test('no `any` in the public declarations', () => {
  for (const file of ['index.d.ts', 'web.d.mts']) {
    const code = fs
      .readFileSync(path.join(js, file), 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/\/\/.*$/gm, '')
      // String literal types are values, not the type: proof_of_possession may be 'any'.
      .replace(/'[^'\n]*'/g, "''");
    assert.doesNotMatch(code, /\bany\b/, file);
  }
});
