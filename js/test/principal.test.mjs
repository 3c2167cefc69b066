// Who may call, through the real middleware on node:http: the table of
// tests/fixtures/principal.mjs, which a real Envoy runs too (envoy/tests/principal.test.mjs).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Verifier, middleware } from '../index.mjs';
import { principalTable } from '../../tests/fixtures/principal.mjs';

const { policy, cases, admitted } = principalTable();
const mw = middleware(new Verifier(policy));
const server = http.createServer((req, res) => {
  mw(req, res, () => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ headers: req.headers }));
  });
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}`;
after(() => {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(resolve));
});

for (const c of cases) {
  test(c.name, async () => {
    const res = await fetch(base + c.path, { headers: c.headers });
    const text = await res.text();
    assert.equal(res.status, c.status, text);
    if (c.code) assert.equal(JSON.parse(text).code, c.code);
    if (res.status !== 200) for (const value of admitted) assert.ok(!text.includes(value), `no admitted value in ${text}`);
    for (const [name, value] of Object.entries(c.upstream ?? {})) assert.equal(JSON.parse(text).headers[name] ?? null, value, name);
  });
}
