// req.auth / request.auth typed in node:http, node:http2, Express and Fastify (tsc --strict).
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import express from 'express';
import Fastify from 'fastify';
import edgewardFastify from 'edgeward/fastify';
import { Verifier, authenticate, middleware, requireClaims, requirePeers, requireScopes, type VerifyResult } from 'edgeward/node';

const verifier = new Verifier({ providers: {}, rules: [] });
const auth = authenticate(verifier, { provider: 'corp-idp', onRefusal: (error) => ({ message: error.code }) });

// node:http (and HTTPS): IncomingMessage.auth.
http.createServer((req, res) => {
  auth(req, res, () => {
    const sub: string | undefined = req.auth?.claims.sub;
    res.end(sub);
  });
});
https.createServer({}, (req, res) => middleware(verifier)(req, res, () => res.end(req.auth?.provider)));
// node:http2's compatibility API: Http2ServerRequest.auth.
http2.createSecureServer({}, (req, res) => {
  auth(req, res, () => {
    const scopes: readonly string[] | undefined = req.auth?.scopes;
    res.end(String(scopes));
  });
});
const token: string | undefined = verifier.bearerToken({ authorization: 'Bearer t' });
void token;

// Express: Request.auth.
const app = express();
app.use('/api', middleware(verifier, { onRefusal: () => 'denied' }));
app.get('/orders', auth, requireScopes('read:orders'), (req, res) => {
  const result: VerifyResult | undefined = req.auth;
  res.json({ sub: result?.claims.sub, scopes: req.auth?.scopes });
});
app.get('/billing', auth, requireClaims({ client_id: ['billing-bot'], level: [3] }), (req, res) => {
  res.json({ sub: req.auth?.claims.sub });
});
app.get('/ledger', auth, requirePeers('spiffe://example.org/ns/bots/sa/billing'), requireScopes(['read:ledger'], { onRefusal: () => 'no' }), (req, res) => {
  res.json({ sub: req.auth?.claims.sub });
});

// Fastify: FastifyRequest.auth, the plugin and the guards as route hooks.
const fastify = Fastify();
await fastify.register(edgewardFastify, { verifier, replayTimeoutMs: 500 });
fastify.get('/orders', { onRequest: auth, preHandler: requireScopes('read:orders') }, async (request) => {
  const sub: string | undefined = request.auth?.claims.sub;
  return { sub, token: verifier.bearerToken(request) };
});

// @ts-expect-error peer IDs are strings
requirePeers(42);
// @ts-expect-error claim values are strings, numbers or booleans
requireClaims({ client_id: [{}] });
// @ts-expect-error onRefusal answers a body, not a status
authenticate(verifier, { onRefusal: () => 401 });
