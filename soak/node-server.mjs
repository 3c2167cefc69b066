// The Node side of the soak, in its own process (forked by soak.mjs, talks over IPC): a real
// node:http server with edgeward's `middleware` and `createRemoteJwks` against the soak's IdP.
// The handler behind the middleware is the bot: it checks every request it receives again with
// the independent verifier and counts violations. Binds 127.0.0.1 on a port the OS picks.
//
// Messages in:  {type: 'start', policy, uri, options} -> {type: 'listening', port}
//               {type: 'keys', jwks}                    (keys the IdP published)
//               {type: 'stats'}                         -> {type: 'stats', tally, memory}
// It exits when the parent disconnects.

import http from 'node:http';
import { Verifier, createRemoteJwks, middleware, wasmMemoryBytes } from '../js/index.mjs';
import { IndependentVerifier, Tally } from './independent.mjs';

const independent = new IndependentVerifier();
const tally = new Tally();
let server;
let remote;

function start({ policy, uri, options }) {
  const verifier = new Verifier(policy);
  remote = createRemoteJwks(verifier, 'idp', uri, options);
  const guard = middleware(verifier);
  // Oversized tokens must reach the middleware (and be refused there), not Node's header limit.
  server = http.createServer({ maxHeaderSize: 64 * 1024 }, (req, res) => {
    guard(req, res, () => {
      const identity = req.auth?.claims?.sub;
      tally.record(independent.judge(req.method, req.url, req.headers.authorization, identity));
      res.setHeader('content-type', 'text/plain');
      res.end('ok');
    });
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1', () => process.send({ type: 'listening', port: server.address().port }));
}

function stats() {
  global.gc?.();
  const memory = process.memoryUsage();
  process.send({
    type: 'stats',
    tally: tally.snapshot(),
    memory: {
      rss: memory.rss, heapUsed: memory.heapUsed, external: memory.external, arrayBuffers: memory.arrayBuffers,
      wasm: wasmMemoryBytes(),
    },
    lastError: remote?.lastError ? String(remote.lastError.message ?? remote.lastError) : null,
  });
}

process.on('message', (message) => {
  if (message.type === 'start') start(message);
  else if (message.type === 'keys') independent.learn(message.jwks);
  else if (message.type === 'stats') stats();
});
process.on('disconnect', () => {
  server?.closeAllConnections?.();
  server?.close();
  process.exit(0);
});
