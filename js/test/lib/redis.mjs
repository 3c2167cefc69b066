// A throwaway Redis for tests (the DPoP replay cache): `redis-server` (scripts/setup.sh redis, the
// Debian package) on 127.0.0.1, nothing persisted (`--save ''`, `--appendonly no`, its own
// temporary `--dir`), stopped by `stop()` (and killed if the test process exits first).
//
// redis-server has no `--port 0`: a free port is found by listening on port 0 and closing that
// socket, then Redis is started on it; if another process took the port meanwhile, Redis exits
// ("Could not create server TCP listening socket") and another port is tried.
//
// An outage is `pause()`: SIGSTOP freezes the server. Its sockets stay open and the kernel still
// completes new TCP connections (the listen backlog), but no command is ever answered, so every
// client command, on an existing connection or a new one, waits until the client's own timeout:
// the slow, silent outage a fail-closed verifier has to time out of (503), and deterministic (no
// race with a restart, no reconnect back-off to wait out). `resume()` (SIGCONT) answers the
// queued commands and everything works again at once, with the data kept. A command that timed
// out at the client during the pause may still be carried out on resume (its bytes were already
// in the server's socket): a replay check that timed out can have recorded its jti.
//
// node-redis: the per-command `timeout` option only bounds the wait to be written, not the reply;
// `socket.socketTimeout` bounds the reply (and closes the connection), with a `reconnectStrategy`
// (the default gives up for good after a socket timeout). js/test/redis-lib.test.mjs shows it.
//
// Plain node:net (a RESP PING to tell when it is ready): no Redis client needed here.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

function freePort() {
  return new Promise((ok, fail) => {
    const server = net.createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

/** Whether a Redis on `port` answers PING with +PONG within `timeoutMs`. */
export function ping(port, { timeoutMs = 500 } = {}) {
  return new Promise((ok) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (answer) => {
      socket.destroy();
      ok(answer);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk;
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

/** Starts redis-server on one free port: resolves the child once it answers PING, or null if it exited (port taken). */
async function launch(port, dir, timeoutMs) {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  let exited = null;
  const exit = new Promise((ok) => child.once('exit', (code, signal) => ok((exited = { code, signal }))));
  const spawnError = new Promise((_ok, fail) => child.once('error', (error) => fail(
    error.code === 'ENOENT' ? new Error('the `redis-server` command is needed for the Redis tests: scripts/setup.sh redis') : error,
  )));
  spawnError.catch(() => {});
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ready = await Promise.race([ping(port), exit.then(() => 'exited'), spawnError]);
    if (ready === true) return { child, exit, get log() { return log; } };
    if (ready === 'exited' || exited) {
      if (/Address already in use|Could not create server TCP listening socket/.test(log)) return null;
      throw new Error(`redis-server exited (${JSON.stringify(exited)}):\n${log.slice(-2000)}`);
    }
    await sleep(20);
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms:\n${log.slice(-2000)}`);
}

/**
 * Starts a Redis. Resolves `{ port, url, log, paused, stop(), pause(), resume() }`: `url` is
 * `redis://127.0.0.1:PORT`; `pause()` / `resume()` freeze and thaw the server (SIGSTOP / SIGCONT,
 * see the top of this file); `stop()` ends it and removes its directory (idempotent).
 */
export async function startRedis({ attempts = 5, timeoutMs = 5000 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'edgeward-redis-'));
  let running = null;
  let port;
  try {
    for (let attempt = 0; attempt < attempts && running === null; attempt += 1) {
      port = await freePort();
      running = await launch(port, dir, timeoutMs);
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  if (running === null) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`redis-server found no free port in ${attempts} attempts`);
  }
  const { child, exit } = running;
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let paused = false;
  let stopped = false;

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get log() { return running.log; },
    get paused() { return paused; },
    pause() {
      if (stopped) throw new Error('redis is stopped');
      child.kill('SIGSTOP');
      paused = true;
    },
    resume() {
      if (stopped) throw new Error('redis is stopped');
      child.kill('SIGCONT');
      paused = false;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        // A stopped process acts on SIGTERM only once continued.
        if (paused) child.kill('SIGCONT');
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exit;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
