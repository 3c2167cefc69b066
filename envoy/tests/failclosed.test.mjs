// Fail closed: a wasm panic (a trap: the filter is built with panic = "abort") must never let a
// request through. The filter is built a second time with the test-only Cargo feature
// `danger-test-trap` (make build-envoy-trap, under target/, never in dist/): a request carrying
// `x-edgeward-danger-trap` makes it panic. The upstream counts every request that reaches it.
//
// What Envoy 1.40 does after the trap, by `failure_policy` (shown below, documented in SECURITY.md):
//   unset / FAIL_CLOSED  the request gets 503; that worker's VM is dead: every later request on it
//                        gets 503 (public routes too) until Envoy restarts or the listener reloads.
//   FAIL_RELOAD          503 while Envoy backs off, then a fresh VM decides requests again.
//   FAIL_OPEN            503 for the trapping request, then EVERY request goes to the upstream
//                        unchecked: never use it (nor Istio `failStrategy: FAIL_OPEN`).

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  ROOT, WASM, envoyConfig, makeKey, mint, nowSeconds, request, startEchoUpstream, startEnvoy, stopAll, until,
} from './lib/harness.mjs';

const TRAP_WASM = process.env.EDGEWARD_TRAP_WASM
  ?? join(ROOT, 'target/danger-test-trap/wasm32-wasip1/wasm/edgeward_envoy.wasm');
const TRAP_HEADER = 'x-edgeward-danger-trap';
const ISSUER = 'https://idp.test';
const key = makeKey('k1');

const policy = {
  providers: { idp: { issuer: ISSUER, audiences: ['api'], local_jwks: { keys: [key.jwk] } } },
  rules: [
    { match: { prefix: '/public' } },
    { match: { prefix: '/' }, requires: { provider_name: 'idp', scopes: ['read'] } },
  ],
};
const bearer = () => ({
  authorization: `Bearer ${mint(key, { iss: ISSUER, aud: 'api', sub: 'b', scope: 'read', iat: nowSeconds() - 5, exp: nowSeconds() + 300 })}`,
});
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

/** Envoy (one worker, so every request meets the same VM) with the trap build and `failurePolicy`. */
async function setup(failurePolicy) {
  const seen = [];
  const upstream = await startEchoUpstream({ onRequest: (req) => seen.push({ url: req.url, headers: req.headers }) });
  const config = envoyConfig({ upstreamPort: upstream.port, policy, wasm: TRAP_WASM });
  const wasmFilter = config.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0];
  if (failurePolicy) wasmFilter.typed_config.config.failure_policy = failurePolicy;
  const envoy = await startEnvoy(config, { concurrency: 1 });
  return { seen, upstream, envoy };
}

/** Sends the trapping request (to a public route, which would be forwarded if the filter let it). */
async function trap(env) {
  const before = env.seen.length;
  const res = await request(env.envoy, '/public/trap', { headers: { [TRAP_HEADER]: '1', ...bearer() } });
  assert.equal(res.status, 503, 'the trapping request is refused');
  assert.equal(env.seen.length, before, 'the upstream never saw it');
  assert.ok(!env.seen.some((r) => r.headers[TRAP_HEADER] !== undefined));
  await until(() => /panicked at/.test(env.envoy.log) && /RuntimeError: unreachable/.test(env.envoy.log),
    { what: 'the panic and the trap in the log', timeoutMs: 5000 });
  return res;
}

test('the trap exists only in the test build, never in the shipped .wasm', () => {
  assert.ok(existsSync(TRAP_WASM), `${TRAP_WASM} (make build-envoy-trap)`);
  // The header's name is compiled into comparisons; the panic message is a plain string.
  const marker = Buffer.from('danger-test-trap');
  assert.ok(readFileSync(TRAP_WASM).includes(marker), 'the test build has the trap');
  assert.ok(!readFileSync(WASM).includes(marker), `${WASM} must not contain the trap`);
});

for (const failurePolicy of [undefined, 'FAIL_CLOSED']) {
  describe(`failure_policy ${failurePolicy ?? 'unset (the default)'}: a trap kills the VM, requests are refused`, () => {
    let env;
    before(async () => { env = await setup(failurePolicy); });
    after(() => stopAll([env?.upstream, env?.envoy]));

    test('before the trap the filter decides as usual', async () => {
      assert.equal((await request(env.envoy, '/public')).status, 200);
      assert.equal((await request(env.envoy, '/orders')).status, 401);
      assert.equal((await request(env.envoy, '/orders', { headers: bearer() })).status, 200);
    });

    test('the trapping request is not forwarded, and neither is any later one', async () => {
      await trap(env);
      const forwarded = env.seen.length;
      // For 3 s: public routes, protected routes without a token, and with a valid one: all 503.
      const deadline = Date.now() + 3000;
      let sent = 0;
      while (Date.now() < deadline) {
        for (const [path, headers] of [['/public', {}], ['/orders', {}], ['/orders', bearer()]]) {
          const res = await request(env.envoy, path, { headers });
          assert.equal(res.status, 503, `${path} after the trap`);
          sent += 1;
        }
        await sleep(200);
      }
      assert.ok(sent >= 9);
      assert.equal(env.seen.length, forwarded, 'nothing reached the upstream after the trap');
    });
  });
}

describe('failure_policy FAIL_RELOAD: refused while the VM is down, then a new VM decides again', () => {
  let env;
  before(async () => { env = await setup('FAIL_RELOAD'); });
  after(() => stopAll([env?.upstream, env?.envoy]));

  test('no request without a token reaches the upstream, before or after the reload', async () => {
    await trap(env);
    const statuses = new Set();
    await until(async () => {
      const res = await request(env.envoy, '/orders');
      statuses.add(res.status);
      return res.status === 401;
    }, { what: 'a reloaded VM answering 401', timeoutMs: 20000, intervalMs: 200 });
    assert.deepEqual([...statuses].filter((s) => s !== 401 && s !== 503), [], 'only 503 while down');
    assert.ok(!env.seen.some((r) => r.url.startsWith('/orders')), 'no request without a token was forwarded');
    assert.equal((await request(env.envoy, '/orders', { headers: bearer() })).status, 200, 'valid tokens pass again');
    const stats = await (await fetch(`${env.envoy.adminUrl}/stats?filter=vm_reload_success`)).text();
    assert.match(stats, /vm_reload_success: [1-9]/);
  });
});

describe('failure_policy FAIL_OPEN (never use it): after a trap, requests bypass the filter', () => {
  let env;
  before(async () => { env = await setup('FAIL_OPEN'); });
  after(() => stopAll([env?.upstream, env?.envoy]));

  test('a protected route without a token reaches the upstream: this is why SECURITY.md forbids FAIL_OPEN', async () => {
    await trap(env);
    const res = await request(env.envoy, '/orders/secret');
    assert.equal(res.status, 200);
    assert.ok(env.seen.some((r) => r.url === '/orders/secret' && r.headers.authorization === undefined));
  });
});

// Inputs that once trapped the shipped filter (and so, failing closed, made its worker refuse
// every later request). A header value may hold any obs-text byte; the SDK's String accessor
// panicked on one that is not UTF-8.
describe('the shipped filter survives what once trapped it', () => {
  let env;
  before(async () => {
    const seen = [];
    const upstream = await startEchoUpstream({ onRequest: (req) => seen.push({ url: req.url, headers: req.headers }) });
    const config = envoyConfig({ upstreamPort: upstream.port, policy: { ...policy, providers: { idp: {
      ...policy.providers.idp, claim_to_headers: [{ claim_name: 'sub', header_name: 'x-bot-id' }] } } } });
    env = { seen, upstream, envoy: await startEnvoy(config, { concurrency: 1 }) };
  });
  after(() => stopAll([env?.upstream, env?.envoy]));

  /** One raw HTTP/1.1 request (fetch cannot send non-UTF-8 bytes); resolves with the status. */
  const raw = (path, headerBytes) => new Promise((ok, fail) => {
    const socket = net.connect(Number(new URL(env.envoy.url).port), '127.0.0.1', () => {
      socket.write(Buffer.concat([Buffer.from(`GET ${path} HTTP/1.1\r\nhost: t\r\nconnection: close\r\n`), headerBytes,
        Buffer.from('\r\n\r\n')]));
    });
    let reply = '';
    socket.on('data', (chunk) => { reply += chunk.toString('latin1'); });
    socket.on('end', () => ok(Number(reply.split(' ')[1])));
    socket.on('error', fail);
  });
  const latin1 = (text) => Buffer.from(text, 'latin1');

  test('header values that are not UTF-8: decided like any other, and the VM lives on', async () => {
    assert.equal(await raw('/public', latin1('x-junk: \xff\xfe')), 200);
    assert.equal(await raw('/orders', latin1(`authorization: Bearer ${bearer().authorization.slice(7)}\xff`)), 401);
    assert.equal(await raw('/public', latin1('x-bot-id: adm\xefn')), 200);
    const spoofed = env.seen.filter((r) => r.url === '/public' && r.headers['x-bot-id'] !== undefined);
    assert.deepEqual(spoofed, [], 'a claim header with odd bytes is still removed');
    assert.equal((await request(env.envoy, '/orders', { headers: bearer() })).status, 200, 'still deciding');
    assert.doesNotMatch(env.envoy.log, /panicked at|RuntimeError/);
  });
});

test('the example envoy/envoy.yaml and the Istio example fail closed', () => {
  const yaml = readFileSync(join(ROOT, 'envoy/envoy.yaml'), 'utf8');
  assert.match(yaml, /^\s*failure_policy: FAIL_CLOSED\b/m);
  assert.doesNotMatch(yaml, /fail_open:\s*true|FAIL_OPEN/);
  const istio = readFileSync(join(ROOT, 'envoy/istio/wasmplugin.yaml'), 'utf8');
  assert.match(istio, /^\s*failStrategy: FAIL_CLOSE\b/m);
});
