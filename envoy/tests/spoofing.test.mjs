// The spoofing table (tests/fixtures/spoofing.json) through a real Envoy with the filter: the
// upstream must receive exactly the headers the core decided, the same view the npm middleware
// gives a handler (js/test/spoofing.test.mjs) and the core gives in tests/request.rs.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { envoyConfig, request, startEchoUpstream, startEnvoy, stopAll } from './lib/harness.mjs';
import { spoofingTable, differences } from '../../tests/fixtures/spoofing.mjs';

const { policy, cases } = spoofingTable();

describe('the spoofing table in Envoy', () => {
  let upstream, envoy;
  before(async () => {
    upstream = await startEchoUpstream();
    envoy = await startEnvoy(envoyConfig({ upstreamPort: upstream.port, policy }));
  });
  after(() => stopAll([upstream, envoy]));

  for (const testCase of cases) {
    test(testCase.name, async () => {
      const res = await request(envoy, testCase.path, { method: testCase.method, headers: testCase.headers });
      assert.equal(res.status, testCase.status, res.text);
      if (res.status !== 200) return;
      assert.deepEqual(differences(testCase, res.json.headers), []);
    });
  }
});
