// The middleware's decision log (docs/policy.md, "Decision record"): `decisionLog: path` appends
// each decision's line (the core's DecisionRecord::json_line, what Envoy's access log writes with
// envoy/decision-log.yaml; envoy/tests/decision-log.test.mjs compares the two field by field) to a
// file; `decisionLogger(stream)` writes them to a stream and drops (counts) lines a slow stream
// would pile up. Never the token, never the query.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Verifier, decisionLogger, middleware } from '../index.mjs';
import { keyPair, mint, ISSUER, AUDIENCE } from './helpers.mjs';

const es = keyPair('ES256', 'k1');
const verifier = new Verifier({
  providers: { 'corp-idp': { issuer: ISSUER, audiences: [AUDIENCE], local_jwks: { keys: [es.jwk] } } },
  rules: [
    { name: 'orders-read', match: { prefix: '/orders', methods: ['GET'] }, requires: { provider_name: 'corp-idp', scopes: ['read:orders'] } },
    { name: 'orders-write', match: { prefix: '/orders' }, requires: { provider_name: 'corp-idp', scopes: ['write:orders'] } },
    { match: { prefix: '/healthz' } },
  ],
});
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgeward-decision-log-'));
const file = path.join(dir, 'decisions.log');
fs.writeFileSync(file, '{"time":"2025-01-01T00:00:00.000Z","status":200}\n'); // appended to, not replaced
const seen = [];
const mw = middleware(verifier, { decisionLog: file, onDecision: (record) => seen.push(record) });
const server = http.createServer((req, res) => mw(req, res, () => res.end('ok')));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}`;
after(() => {
  server.closeAllConnections();
  fs.rmSync(dir, { recursive: true, force: true });
  return new Promise((resolve) => server.close(resolve));
});
const now = Math.floor(Date.now() / 1000);
const t = mint(es, { iss: ISSUER, aud: AUDIENCE, sub: 'bot-1', client_id: 'billing-bot', scope: 'read:orders', iat: now - 5, exp: now + 300 });
const call = async (method, p, token) => (await fetch(base + p, { method, headers: token ? { authorization: `Bearer ${token}` } : {} })).status;

test('decisionLog: one line per decision, appended to the file', async () => {
  const started = Date.now();
  assert.equal(await call('GET', '/orders/1?access_token=leak', t), 200);
  assert.equal(await call('DELETE', '/orders/1', t), 403);
  assert.equal(await call('GET', '/orders/2'), 401);
  assert.equal(await call('GET', '/healthz'), 200);
  assert.equal(seen.length, 4, 'onDecision still sees every record');
  await mw.decisionLog.close();
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 5);
  assert.deepEqual(lines[0], { time: '2025-01-01T00:00:00.000Z', status: 200 });
  const [allowed, refused, missing, health] = lines.slice(1);
  assert.ok(Date.parse(allowed.time) >= started - 1000 && Date.parse(allowed.time) <= Date.now() + 1000);
  assert.deepEqual(allowed, {
    time: allowed.time, provider: 'corp-idp', iss: ISSUER, sub: 'bot-1', client_id: 'billing-bot', rule: 'orders-read', method: 'GET',
    path: '/orders/1', scopes: 'read:orders', required_scopes: 'read:orders', iat: String(now - 5), exp: String(now + 300), status: 200,
  });
  assert.deepEqual([refused.method, refused.rule, refused.required_scopes, refused.code, refused.status], ['DELETE', 'orders-write', 'write:orders', 'ERR_SCOPE_INSUFFICIENT', 403]);
  assert.deepEqual(missing, { time: missing.time, rule: 'orders-read', method: 'GET', path: '/orders/2', required_scopes: 'read:orders', code: 'ERR_JWT_MISSING', status: 401 });
  assert.deepEqual(health, { time: health.time, rule: '2', method: 'GET', path: '/healthz', status: 200 });
  assert.ok(!text.includes(t.split('.')[2]) && !text.includes(t.split('.')[1]) && !text.includes('leak'), 'no token, no query');
  assert.equal(mw.decisionLog.dropped, 0);
});

test('decisionLogger(stream) with its own clock, as onDecision', async () => {
  const chunks = [];
  const stream = new Writable({ write(chunk, _enc, done) { chunks.push(String(chunk)); done(); } });
  const log = decisionLogger(stream, { now: () => 1_735_787_045_678 });
  const answer = verifier.authorize('GET', '/orders/9?x=1', { authorization: `Bearer ${t}` }, { record: true });
  log(answer.record, { method: 'GET', url: '/orders/9?x=1' });
  assert.equal(chunks.length, 1);
  const line = JSON.parse(chunks[0]);
  assert.equal(line.time, '2025-01-02T03:04:05.678Z');
  assert.equal(line.path, '/orders/9');
  assert.ok(chunks[0].endsWith('}\n') && !chunks[0].slice(0, -1).includes('\n'));
  await log.close();
  assert.equal(stream.writableEnded, false, 'a stream it was given stays open');
});

test('a stream that does not keep up: lines dropped and counted, not piled up', () => {
  const stream = { writableLength: 9 * 1024 * 1024, writes: 0, write() { this.writes += 1; } };
  const log = decisionLogger(stream);
  const answer = verifier.authorize('GET', '/healthz', {}, { record: true });
  log(answer.record, { method: 'GET', url: '/healthz' });
  assert.deepEqual([stream.writes, log.dropped], [0, 1]);
});

test('bad arguments', () => {
  assert.throws(() => decisionLogger(42), /file path or a stream/);
  assert.throws(() => decisionLogger({}), /file path or a stream/);
  assert.throws(() => decisionLogger(process.stdout, { now: 5 }), /now must be a function/);
  assert.throws(() => middleware(verifier, { decisionLog: 7 }), /file path or a stream/);
  const log = decisionLogger({ write() {} });
  assert.throws(() => log({ scopes: [], code: 'ERR_MADE_UP', status: 401 }, { method: 'GET', url: '/' }), /not a decision record/);
});
