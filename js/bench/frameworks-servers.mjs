// The servers of js/bench/frameworks.mjs: each one answers GET /orders with {"orders":[]} once
// its guard admitted a token with the scope read:orders, and refuses anything else as its guard
// does. Importing this module starts nothing (the bench reads SERVERS for its rows); run as a
// script, it starts the server named by its configuration on 127.0.0.1, an ephemeral port, in this
// process, and prints {"port": N} on its first stdout line:
//
//   EDGEWARD_FRAMEWORKS_SERVER='{"server":"express-edgeward","issuer":…,"audience":…,"scope":…,"jwks":{"keys":[…]}}' \
//     node bench/frameworks-servers.mjs
//
// A new variant is one more entry in SERVERS: the bench measures every entry, in this order, both
// token regimes.
import http from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ORDERS = { orders: [] };

// edgeward's policy for every edgeward server: one RS256 provider with the bench's key set inline
// (local_jwks), one rule; everything else at its default (token_cache_size 4096).
const policy = ({ issuer, audience, scope, jwks }) => ({
  providers: { idp: { issuer, audiences: [audience], algorithms: ['RS256'], local_jwks: jwks } },
  rules: [{ match: { prefix: '/orders' }, requires: { provider_name: 'idp', scopes: [scope] } }],
});

// The package and a verifier of the bench's policy.
const edgeward = async (config) => {
  const api = await import('../index.mjs');
  return { ...api, verifier: new api.Verifier(policy(config)) };
};

// An Express 5 app with `guard` (an array of handlers) in front of GET /orders, and an error
// handler that answers a guard's error with its status and headers (what an application using
// express-oauth2-jwt-bearer writes; edgeward's middleware answers its refusals itself).
function expressApp(guard) {
  const express = require('express');
  const app = express();
  app.get('/orders', ...guard, (req, res) => res.json(ORDERS));
  app.use((error, req, res, next) => {
    if (res.headersSent) return next(error);
    res.status(error.status ?? 500);
    if (error.headers) res.set(error.headers);
    res.json({ error: error.code ?? 'server_error' });
  });
  return http.createServer(app);
}

// A Fastify 5 app: `setup(fastify)` registers its guard, then GET /orders with `routeOptions`
// (route hooks) answers ORDERS.
async function fastifyApp(setup, routeOptions = {}) {
  const fastify = require('fastify')({ logger: false });
  await setup(fastify);
  fastify.get('/orders', routeOptions, async () => ORDERS);
  await fastify.ready();
  return fastify.server;
}

// The scope check an application writes with @fastify/jwt (it verifies the token, not scopes).
const fastifyJwtScope = (scope) => async (request, reply) => {
  const granted = typeof request.user?.scope === 'string' ? request.user.scope.split(' ') : [];
  if (!granted.includes(scope)) return reply.code(403).send({ error: 'insufficient_scope' });
  return undefined;
};

/**
 * The servers, in table order: `framework` and `guard` name the row, `start(config)` resolves to a
 * listening node:http server (bound by the caller, or by the framework on 127.0.0.1).
 * `peer: true` marks the baseline issue 15's targets divide by (express-oauth2-jwt-bearer);
 * `comparedTo` names another server a row is also divided by (its framework's peer); `open: true`
 * a server without a guard (the framework's own cost).
 */
export const SERVERS = {
  'express-edgeward': {
    framework: 'Express 5',
    guard: 'edgeward `middleware(verifier)` (rule-driven)',
    start: async (config) => {
      const { verifier, middleware } = await edgeward(config);
      return expressApp([middleware(verifier)]);
    },
  },
  'express-edgeward-guards': {
    framework: 'Express 5',
    guard: "edgeward `authenticate(verifier)` + `requireScopes('read:orders')` (per route)",
    start: async (config) => {
      const { verifier, authenticate, requireScopes } = await edgeward(config);
      return expressApp([authenticate(verifier), requireScopes(config.scope)]);
    },
  },
  'express-oauth2-jwt-bearer': {
    framework: 'Express 5',
    guard: "express-oauth2-jwt-bearer `auth()` + `requiredScopes('read:orders')`",
    peer: true,
    start: async ({ issuer, audience, scope, jwks }) => {
      const { auth, requiredScopes } = require('express-oauth2-jwt-bearer');
      // The same key set as edgeward's local_jwks, given inline (its `publicKey` takes a JWKS):
      // no fetch, as edgeward; jose's createLocalJWKSet picks the key by kid.
      return expressApp([auth({ issuer, audience, publicKey: jwks, tokenSigningAlg: 'RS256' }), requiredScopes(scope)]);
    },
  },
  // The framework's own cost: no guard at all (admits everything: the bench skips its refusal
  // checks), to tell a guard's share of a request from Express's.
  'express-no-guard': {
    framework: 'Express 5',
    guard: 'none (no guard: what Express itself costs)',
    open: true,
    start: async () => expressApp([]),
  },
  'fastify-edgeward-plugin': {
    framework: 'Fastify 5',
    guard: "edgeward's plugin `register(edgeward.fastify, { verifier })` (rule-driven)",
    comparedTo: 'fastify-jwt',
    start: async (config) => {
      const { verifier, fastify: plugin } = await edgeward(config);
      return fastifyApp((fastify) => fastify.register(plugin, { verifier }));
    },
  },
  'fastify-edgeward-guards': {
    framework: 'Fastify 5',
    guard: "edgeward `authenticate(verifier)` + `requireScopes('read:orders')` (route hooks)",
    comparedTo: 'fastify-jwt',
    start: async (config) => {
      const { verifier, authenticate, requireScopes } = await edgeward(config);
      return fastifyApp((fastify) => fastify.decorateRequest('auth', undefined), {
        onRequest: authenticate(verifier),
        preHandler: requireScopes(config.scope),
      });
    },
  },
  'fastify-jwt': {
    framework: 'Fastify 5',
    guard: '@fastify/jwt `request.jwtVerify()` (onRequest) + a scope check (preHandler)',
    start: async ({ issuer, audience, scope, jwks }) => {
      // The same key as PEM (what @fastify/jwt takes), the same checks: RS256 only, issuer,
      // audience, expiry (fast-jwt's defaults: no token cache).
      const crypto = require('node:crypto');
      const pem = crypto.createPublicKey({ key: jwks.keys[0], format: 'jwk' }).export({ type: 'spki', format: 'pem' });
      return fastifyApp(
        (fastify) => fastify.register(require('@fastify/jwt'), {
          secret: { public: pem },
          verify: { algorithms: ['RS256'], allowedIss: issuer, allowedAud: audience, requiredClaims: ['exp'] },
        }),
        { onRequest: async (request) => { await request.jwtVerify(); }, preHandler: fastifyJwtScope(scope) },
      );
    },
  },
  'fastify-no-guard': {
    framework: 'Fastify 5',
    guard: 'none (no guard: what Fastify itself costs)',
    open: true,
    start: async () => fastifyApp(() => {}),
  },
  'node-http-edgeward': {
    framework: 'node:http',
    guard: 'edgeward `middleware(verifier)` (reference: no framework)',
    start: async (config) => {
      const { verifier, middleware } = await edgeward(config);
      const guard = middleware(verifier);
      const body = JSON.stringify(ORDERS);
      return http.createServer((req, res) => guard(req, res, () => {
        res.setHeader('content-type', 'application/json; charset=utf-8');
        res.end(body);
      }));
    },
  },
};

async function main() {
  const config = JSON.parse(process.env.EDGEWARD_FRAMEWORKS_SERVER ?? 'null');
  const entry = config && SERVERS[config.server];
  if (!entry) throw new Error(`EDGEWARD_FRAMEWORKS_SERVER: no server ${JSON.stringify(config?.server)} (${Object.keys(SERVERS).join(', ')})`);
  const server = await entry.start(config);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
  // The bench ends this process when its cell is done; a lost parent ends it too.
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
