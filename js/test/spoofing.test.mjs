// The spoofing table (tests/fixtures/spoofing.json) through the real middleware on node:http:
// the handler must see exactly the headers the core decided, the same view a real Envoy gives
// its upstream (envoy/tests/spoofing.test.mjs) and the core gives in tests/request.rs.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Verifier, middleware } from '../index.mjs';
import { spoofingTable, differences } from '../../tests/fixtures/spoofing.mjs';

const table = spoofingTable();
const { policy, cases } = table;
const mw = middleware(new Verifier(policy));
const server = http.createServer((req, res) => {
  mw(req, res, () => {
    // What a handler reads: req.headers, and req.rawHeaders must agree with it.
    const raw = {};
    for (let i = 0; i < req.rawHeaders.length; i += 2) raw[req.rawHeaders[i].toLowerCase()] = req.rawHeaders[i + 1];
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ headers: req.headers, raw }));
  });
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}`;
after(() => {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(resolve));
});

for (const testCase of cases) {
  test(testCase.name, async () => {
    const res = await fetch(base + testCase.path, { method: testCase.method, headers: testCase.headers });
    const text = await res.text();
    assert.equal(res.status, testCase.status, text);
    if (res.status !== 200) return;
    const { headers, raw } = JSON.parse(text);
    assert.deepEqual(differences(testCase, headers), [], 'req.headers');
    assert.deepEqual(differences(testCase, raw), [], 'req.rawHeaders');
  });
}

test('two Authorization headers: the middleware sees both (req.rawHeaders) and refuses', async () => {
  const { tokens } = table;
  const status = await new Promise((resolve, reject) => {
    const req = http.request(`${base}/orders`, { method: 'GET', headers: { authorization: [`Bearer ${tokens['corp-reader']}`, 'Bearer x.y.z'] } });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(status, 401, "Node keeps only the first Authorization in req.headers; the core must see both");
});
