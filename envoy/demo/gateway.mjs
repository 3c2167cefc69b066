#!/usr/bin/env node
// `make run`: Envoy on 127.0.0.1:10000 (admin 127.0.0.1:9901) with the edgeward filter in front of
// a small "orders" bot, an embedded policy with a freshly generated ES256 key, and ready-to-paste
// curl commands with freshly minted tokens. Ctrl-C stops everything.
//
// `make demo` (--demo): the same tour, unattended, on free ports; exits 1 on any unexpected answer.
//
// PORT and ADMIN_PORT (environment) choose the listener and admin ports (0: any free port). A port
// that is taken is reported in one line before Envoy starts (and if Envoy still cannot bind it).

import http from 'node:http';
import net from 'node:net';
import {
  envoyConfig, makeKey, mint, mintNone, nowSeconds, request, startEnvoy, stopAll,
} from '../tests/lib/harness.mjs';

const demo = process.argv.includes('--demo');

// ---- ports ----

function portFromEnv(name, fallback) {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    console.error(`gateway: ${name}=${text} is not a port number (0-65535; 0 picks a free one)`);
    process.exit(2);
  }
  return Number(text);
}

const ports = {
  PORT: portFromEnv('PORT', demo ? 0 : 10000),
  ADMIN_PORT: portFromEnv('ADMIN_PORT', demo ? 0 : 9901),
};

const portProblem = (name, port, why) => (why === 'EADDRINUSE' || /in use/i.test(why)
  ? `gateway: port ${port} is in use (set ${name}=... to use another)`
  : `gateway: port ${port} cannot be bound: ${why === 'EACCES' ? 'permission denied' : why} (set ${name}=... to use another)`);

// Binds 127.0.0.1:`port` for a moment: resolves to undefined when it is free, else the error code.
function tryBind(port) {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', (error) => resolve(error.code ?? error.message));
    probe.listen({ port, host: '127.0.0.1', exclusive: true }, () => probe.close(() => resolve(undefined)));
  });
}

// Both ports are checked (and both reported) before anything starts. EDGEWARD_GATEWAY_SKIP_PORT_CHECK=1
// (tests only) leaves it to Envoy, to test the report of Envoy's own bind failure.
if (ports.PORT !== 0 && ports.PORT === ports.ADMIN_PORT) {
  console.error(`gateway: PORT and ADMIN_PORT are both ${ports.PORT} (set them to different ports)`);
  process.exit(2);
}
if (process.env.EDGEWARD_GATEWAY_SKIP_PORT_CHECK !== '1') {
  let busy = false;
  for (const [name, port] of Object.entries(ports)) {
    if (port === 0) continue;
    const why = await tryBind(port);
    if (why !== undefined) {
      console.error(portProblem(name, port, why));
      busy = true;
    }
  }
  if (busy) process.exit(1);
}

// Envoy's own "cannot bind '127.0.0.1:10000': Address already in use", as the line above.
function envoyBindProblem(message) {
  const m = /cannot bind '[^']*:(\d+)': ([^`'\n]+)/.exec(message);
  if (!m) return undefined;
  const port = Number(m[1]);
  const name = Object.keys(ports).find((key) => ports[key] === port) ?? 'PORT or ADMIN_PORT';
  return portProblem(name, port, m[2].trim());
}

const ISSUER = 'https://idp.demo.edgeward';
const AUDIENCE = 'orders-api';

const key = makeKey(`demo-${nowSeconds()}`);
const policy = {
  providers: {
    demo: {
      issuer: ISSUER,
      audiences: [AUDIENCE],
      local_jwks: { keys: [key.jwk] },
      max_lifetime_seconds: 3600,
      claim_to_headers: [{ claim_name: 'sub', header_name: 'x-bot-id' }],
    },
  },
  rules: [
    { match: { prefix: '/healthz' } },
    { match: { prefix: '/orders', methods: ['GET'] }, requires: { provider_name: 'demo', scopes: ['read:orders'] } },
    { match: { prefix: '/orders' }, requires: { provider_name: 'demo', scopes: ['write:orders'] } },
  ],
  deny_wildcard_scopes: true,
};

const token = (claims) => mint(key, {
  iss: ISSUER, aud: AUDIENCE, sub: 'billing-bot', iat: nowSeconds(), exp: nowSeconds() + 3600, ...claims,
});
const reader = token({ scope: 'read:orders' });
const tour = [
  { name: 'public route, no token', method: 'GET', path: '/healthz', status: 200 },
  { name: 'allowed (read:orders)', method: 'GET', path: '/orders/42', token: reader, status: 200, bot: 'billing-bot' },
  { name: 'spoofed x-bot-id is replaced', method: 'GET', path: '/orders/42', token: reader, headers: { 'x-bot-id': 'admin' }, status: 200, bot: 'billing-bot' },
  { name: 'insufficient scope (POST needs write:orders)', method: 'POST', path: '/orders', token: reader, status: 403, code: 'ERR_SCOPE_INSUFFICIENT' },
  { name: 'allowed write (write:orders)', method: 'POST', path: '/orders', token: token({ scope: 'write:orders' }), status: 200, bot: 'billing-bot' },
  { name: 'expired', method: 'GET', path: '/orders', token: token({ scope: 'read:orders', iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 }), status: 401, code: 'ERR_JWT_EXPIRED' },
  { name: 'wildcard scope refused', method: 'GET', path: '/orders', token: token({ scope: 'read:orders *' }), status: 401, code: 'ERR_SCOPE_WILDCARD' },
  { name: 'alg none', method: 'GET', path: '/orders', token: mintNone({ iss: ISSUER, aud: AUDIENCE, sub: 'x', exp: nowSeconds() + 60, scope: 'read:orders' }), status: 401, code: 'ERR_JOSE_ALG_NOT_ALLOWED' },
  { name: 'no token', method: 'GET', path: '/orders', status: 401, code: 'ERR_JWT_MISSING' },
  { name: 'unmatched route', method: 'GET', path: '/admin', token: reader, status: 403, code: 'ERR_ROUTE_DENIED' },
];

function startBot() {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      const caller = req.headers['x-bot-id'] ?? 'anonymous';
      res.end(`${JSON.stringify({ bot: 'orders-bot', caller, method: req.method, path: req.url, saw_authorization: 'authorization' in req.headers })}\n`);
    });
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok({
      port: server.address().port,
      stop: () => new Promise((done) => { server.closeAllConnections?.(); server.close(() => done()); }),
    }));
  });
}

const running = [];
let stopping = false;
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  await stopAll(running);
  process.exit(code);
}
process.on('SIGINT', () => { console.log('\nstopping…'); shutdown(0); });
process.on('SIGTERM', () => shutdown(0));
// `make run | head`: a closed stdout stops everything rather than leaving Envoy behind.
process.stdout.on('error', (error) => { if (error.code === 'EPIPE') shutdown(0); });

const shellQuote = (s) => `'${s.replace(/'/g, `'\\''`)}'`;

try {
  const bot = await startBot();
  running.push(bot);
  const envoy = await startEnvoy(envoyConfig({
    upstreamPort: bot.port, policy,
    listenerPort: ports.PORT, adminPort: ports.ADMIN_PORT,
  }), { concurrency: 2 });
  running.push(envoy);

  if (demo) {
    console.log(`edgeward demo: Envoy ${envoy.url} (admin ${envoy.adminUrl})\n`);
    let failures = 0;
    for (const step of tour) {
      const headers = { ...(step.headers ?? {}), ...(step.token ? { authorization: `Bearer ${step.token}` } : {}) };
      const res = await request(envoy, step.path, { method: step.method, headers });
      const problems = [];
      if (res.status !== step.status) problems.push(`status ${res.status}, expected ${step.status}`);
      if (step.code && res.json?.code !== step.code) problems.push(`code ${res.json?.code}, expected ${step.code}`);
      if (step.bot && res.json?.caller !== step.bot) problems.push(`upstream saw x-bot-id ${res.json?.caller}, expected ${step.bot}`);
      if (step.status === 200 && res.json?.saw_authorization) problems.push('the token reached the upstream');
      const mark = problems.length ? 'FAIL' : 'ok  ';
      console.log(`${mark} ${step.method.padEnd(4)} ${step.path.padEnd(11)} ${String(res.status)} ${(res.json?.code ?? '').padEnd(24)} ${step.name}${problems.length ? ` — ${problems.join('; ')}` : ''}`);
      failures += problems.length ? 1 : 0;
    }
    await new Promise((ok) => setTimeout(ok, 700)); // request counters are added at each tick (500 ms)
    const stats = await (await fetch(`${envoy.adminUrl}/stats?filter=edgeward_requests`)).text();
    console.log(`\n${stats.trim()}`);
    console.log(failures ? `\n${failures} unexpected answer(s)` : `\nall ${tour.length} answers as expected`);
    await shutdown(failures ? 1 : 0);
  } else {
    console.log(`edgeward gateway: Envoy ${envoy.url} (admin ${envoy.adminUrl}) -> orders bot on 127.0.0.1:${bot.port}`);
    console.log(`policy: GET /orders needs read:orders, other /orders methods need write:orders, /healthz is public; key ${key.kid} (fresh)\n`);
    for (const step of tour) {
      const parts = ['curl -si'];
      if (step.method !== 'GET') parts.push(`-X ${step.method}`);
      if (step.token) parts.push(`-H ${shellQuote(`authorization: Bearer ${step.token}`)}`);
      for (const [name, value] of Object.entries(step.headers ?? {})) parts.push(`-H ${shellQuote(`${name}: ${value}`)}`);
      parts.push(`${envoy.url}${step.path}`);
      console.log(`# ${step.name} -> ${step.status}${step.code ? ` ${step.code}` : ''}`);
      console.log(`${parts.join(' ')}\n`);
    }
    console.log(`# metrics\ncurl -s ${envoy.adminUrl}/stats/prometheus | grep edgeward\n`);
    console.log('Tokens are valid for an hour. Ctrl-C stops Envoy and the bot.');
  }
} catch (e) {
  if (!stopping) console.error(envoyBindProblem(e.message) ?? `gateway: ${e.message}`);
  await shutdown(1);
}
