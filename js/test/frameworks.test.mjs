// The hardening matrix (envoy/tests/lib/apps.mjs) through the npm middleware, in real frameworks:
// Express 5 (`app.use(middleware(verifier))` before method-override and the routes, an admin
// router mounted at /admin) and Fastify 5 (an onRequest hook that hands `request.raw` /
// `reply.raw` to the middleware and calls `done` only when it calls next). Same requests, same
// oracle and same documented known bypasses as behind Envoy (envoy/tests/matrix.test.mjs): no
// handler runs with less than it demands, sees a spoofed x-bot-id or the token header, and
// refusals are 401/403.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Verifier, middleware } from '../index.mjs';
import {
  SHAPES, expectedViolations, explain, fastifyHook, makeTokens, matrixRequests, policyShape, runBatch, startExpress,
  startFastify, violationKey,
} from '../../envoy/tests/lib/apps.mjs';

const { jwk, tokens } = makeTokens();
const STARTERS = { express: startExpress, fastify: startFastify };
const VARIANTS = [
  ...SHAPES.map((shape) => ({ name: shape, shape, caseInsensitive: false, apps: ['express', 'fastify'] })),
  // Express routes case-insensitively: the catch-all policies written for it (case_sensitive: false).
  ...['authn', 'public'].map((shape) => ({ name: `${shape}, case_sensitive: false`, shape, caseInsensitive: true, apps: ['express'] })),
  // The middleware told that the app routes case-sensitively (it does not): the documented
  // bypasses come back — the default (fold case behind Express) is what closes them.
  ...['authn', 'public'].map((shape) => ({ name: `${shape}, caseSensitive: true`, shape, caseInsensitive: false, apps: ['express'], middleware: { caseSensitive: true } })),
];

const summary = [];
after(() => {
  if (summary.length > 0) console.log(`matrix through the middleware:\n${summary.join('\n')}`);
});

for (const variant of VARIANTS) {
  for (const name of variant.apps) {
    test(`${variant.name} policy, ${name} with the middleware`, async () => {
      const verifier = new Verifier(policyShape(variant.shape, jwk, { caseInsensitive: variant.caseInsensitive }));
      const app = await STARTERS[name]({ guard: middleware(verifier, variant.middleware) });
      try {
        const requests = matrixRequests({ mountPrefixed: app.mountPrefixed });
        const result = await runBatch({ port: app.port, app, tokens, requests, concurrency: 12 });
        summary.push(`  ${variant.name}, ${name}: ${result.count} requests in ${result.ms} ms, ${result.stats.ran} reached a handler, `
          + `${result.stats.notFound} reached the not-found handler, refused ${JSON.stringify(result.stats.refused)}, `
          + `other ${JSON.stringify(result.stats.other)}, ${result.violations.length} violations`);
        assert.deepEqual(result.controls, [], 'positive controls: granted requests must reach their handler');
        // None: behind Express the middleware matches rules case-insensitively by default, as
        // Express routes. Exactly the documented known ones when told otherwise (caseSensitive: true).
        const told = variant.middleware?.caseSensitive === true;
        const expected = told ? expectedViolations({ app: name, shape: variant.shape, caseInsensitive: variant.caseInsensitive }) : [];
        assert.deepEqual(result.violations.map(violationKey).sort(), [...expected].sort(), explain(result.violations));
      } finally {
        await app.stop();
      }
    });
  }
}

test('the Fastify hook: a refusal is answered once, the lifecycle stops, and a granted request goes on', async () => {
  const calls = [];
  // A stand-in guard that refuses asynchronously, as the middleware does while it fetches keys.
  const hook = fastifyHook((req, res, next) => {
    calls.push(req.url);
    if (req.url === '/orders') return next();
    setTimeout(() => {
      res.statusCode = 403;
      res.end('{"error":"forbidden","code":"ERR_ROUTE_DENIED"}');
    }, 5);
  });
  const fastify = (await import('node:module')).createRequire(new URL('../package.json', import.meta.url))('fastify')({ logger: false });
  let ran = 0;
  fastify.addHook('onRequest', hook);
  fastify.get('/orders', async () => { ran += 1; return { ok: true }; });
  fastify.get('/admin/users', async () => { ran += 1; return { ok: true }; });
  await fastify.listen({ port: 0, host: '127.0.0.1' });
  try {
    const base = `http://127.0.0.1:${fastify.server.address().port}`;
    const denied = await fetch(`${base}/admin/users`);
    assert.equal(denied.status, 403);
    assert.equal(await denied.text(), '{"error":"forbidden","code":"ERR_ROUTE_DENIED"}');
    const granted = await fetch(`${base}/orders`);
    assert.equal(granted.status, 200);
    assert.equal(ran, 1, 'only the granted request reached a handler');
    assert.deepEqual(calls, ['/admin/users', '/orders']);
  } finally {
    await fastify.close();
  }
});
