// Who may call, in a real Envoy: the table of tests/fixtures/principal.mjs (the npm
// middleware runs it in js/test/principal.test.mjs); refusals are counted per code, and the body
// never names an admitted value.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { envoyConfig, metrics, request, startEchoUpstream, startEnvoy, stopAll, until } from './lib/harness.mjs';
import { principalTable } from '../../tests/fixtures/principal.mjs';

const { policy, cases, admitted } = principalTable();

describe('identity conditions in Envoy', () => {
  let upstream, envoy;
  before(async () => {
    upstream = await startEchoUpstream();
    envoy = await startEnvoy(envoyConfig({ upstreamPort: upstream.port, policy }), { concurrency: 1 });
  });
  after(() => stopAll([upstream, envoy]));

  for (const c of cases) {
    test(c.name, async () => {
      const res = await request(envoy, c.path, { headers: c.headers });
      assert.equal(res.status, c.status, res.text);
      if (c.code) assert.equal(res.json.code, c.code);
      for (const value of admitted) assert.ok(!res.text.includes(value) || res.status === 200, `no admitted value in ${res.text}`);
      for (const [name, value] of Object.entries(c.upstream ?? {})) assert.equal(res.json.headers[name] ?? null, value, name);
    });
  }

  test('refusals are counted per code', async () => {
    const expected = cases.filter((c) => c.code === 'ERR_PRINCIPAL_DENIED').length;
    const counted = await until(async () => (await metrics(envoy)).edgeward_denied_principal_denied >= expected,
      { what: 'edgeward_denied_principal_denied' });
    assert.ok(counted);
  });
});
