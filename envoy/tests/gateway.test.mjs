// `make demo` is the unattended gateway tour: it must pass, and it must not pass when it cannot run.
// `make run` / `make demo` take PORT and ADMIN_PORT; a port that is taken is one clear line and a
// non-zero exit, never an Envoy log. Ports here are picked free (or taken on purpose), never fixed.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { test } from 'node:test';
import { ROOT } from './lib/harness.mjs';

/** Listens on a free 127.0.0.1 port; resolves to { port, close() } (the port stays taken until then). */
function occupy() {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve({
      port: server.address().port,
      close: () => new Promise((done) => server.close(() => done())),
    }));
  });
}

/** Ports that were free a moment ago (distinct). */
async function freePorts(count) {
  const held = [];
  for (let i = 0; i < count; i += 1) held.push(await occupy());
  await Promise.all(held.map((h) => h.close()));
  return held.map((h) => h.port);
}

// spawnSync would block this process, and with it nothing here needs to run meanwhile: the taken
// ports are held by the kernel either way.
function gateway(args, env = {}) {
  return spawnSync(process.execPath, ['envoy/demo/gateway.mjs', ...args], {
    cwd: ROOT, encoding: 'utf8', timeout: 90000, env: { ...process.env, ...env },
  });
}

test('the demo tour passes on the PORT and ADMIN_PORT it is given, and stops everything it started', async () => {
  const [port, adminPort] = await freePorts(2);
  const result = gateway(['--demo'], { PORT: String(port), ADMIN_PORT: String(adminPort) });
  assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
  assert.match(result.stdout, new RegExp(`^edgeward demo: Envoy http://127\\.0\\.0\\.1:${port} \\(admin http://127\\.0\\.0\\.1:${adminPort}\\)$`, 'm'));
  assert.match(result.stdout, /all \d+ answers as expected/);
  assert.doesNotMatch(result.stdout, /^FAIL/m);
  // Stopped: both ports are free again.
  const again = await Promise.all([port, adminPort].map((p) => new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(p, '127.0.0.1', () => probe.close(() => resolve(true)));
  })));
  assert.deepEqual(again, [true, true]);
});

test('the demo exits non-zero when Envoy cannot load the filter', () => {
  const result = gateway(['--demo'], { EDGEWARD_WASM: '/nonexistent/filter.wasm', PORT: '0', ADMIN_PORT: '0' });
  assert.equal(result.status, 1, result.stdout);
});

for (const [name, mode] of [['PORT', '--demo'], ['ADMIN_PORT', '--demo'], ['PORT', 'make run']]) {
  test(`a taken ${name} is one line and a non-zero exit, before Envoy starts (${mode})`, async () => {
    const taken = await occupy();
    try {
      const [other] = await freePorts(1);
      const env = name === 'PORT' ? { PORT: String(taken.port), ADMIN_PORT: String(other) } : { PORT: String(other), ADMIN_PORT: String(taken.port) };
      const result = gateway(mode === '--demo' ? ['--demo'] : [], env);
      assert.notEqual(result.status, 0);
      assert.equal(result.status, 1);
      assert.equal(result.stderr, `gateway: port ${taken.port} is in use (set ${name}=... to use another)\n`);
      assert.equal(result.stdout, '');
    } finally {
      await taken.close();
    }
  });
}

test('both taken ports are reported at once', async () => {
  const [a, b] = [await occupy(), await occupy()];
  try {
    const result = gateway(['--demo'], { PORT: String(a.port), ADMIN_PORT: String(b.port) });
    assert.equal(result.status, 1);
    assert.equal(result.stderr, `gateway: port ${a.port} is in use (set PORT=... to use another)\n`
      + `gateway: port ${b.port} is in use (set ADMIN_PORT=... to use another)\n`);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('Envoy failing to bind (the port taken after the check) is the same one line, without its log', async () => {
  for (const name of ['PORT', 'ADMIN_PORT']) {
    const taken = await occupy();
    try {
      const [other] = await freePorts(1);
      const env = name === 'PORT' ? { PORT: String(taken.port), ADMIN_PORT: String(other) } : { PORT: String(other), ADMIN_PORT: String(taken.port) };
      const result = gateway(['--demo'], { ...env, EDGEWARD_GATEWAY_SKIP_PORT_CHECK: '1' });
      assert.equal(result.status, 1, result.stdout);
      assert.equal(result.stderr, `gateway: port ${taken.port} is in use (set ${name}=... to use another)\n`);
    } finally {
      await taken.close();
    }
  }
});

test('a PORT that is not a port number is refused in one line', () => {
  const result = gateway(['--demo'], { PORT: '10k', ADMIN_PORT: '0' });
  assert.equal(result.status, 2);
  assert.equal(result.stderr, 'gateway: PORT=10k is not a port number (0-65535; 0 picks a free one)\n');
});

test('make run on free PORT/ADMIN_PORT prints curl commands for them, answers, and stops on Ctrl-C', async () => {
  const [port, adminPort] = await freePorts(2);
  const child = spawn(process.execPath, ['envoy/demo/gateway.mjs'], {
    cwd: ROOT, env: { ...process.env, PORT: String(port), ADMIN_PORT: String(adminPort) }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no tour printed in 60 s:\n${out}`)), 60000);
      child.stdout.on('data', () => { if (out.includes('Ctrl-C stops')) { clearTimeout(timer); resolve(); } });
      exited.then(() => { clearTimeout(timer); reject(new Error(`the gateway exited:\n${out}`)); });
    });
    assert.match(out, new RegExp(`^edgeward gateway: Envoy http://127\\.0\\.0\\.1:${port} \\(admin http://127\\.0\\.0\\.1:${adminPort}\\)`, 'm'));
    assert.match(out, new RegExp(`^curl -si http://127\\.0\\.0\\.1:${port}/healthz$`, 'm'));
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${port}/orders`)).status, 401);
  } finally {
    child.kill('SIGINT');
  }
  assert.deepEqual(await exited, { code: 0, signal: null });
});
