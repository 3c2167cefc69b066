// Host crypto in a real Envoy (docs/policy.md, "Host crypto"): RS256/384/512, ES384 and ES512 go
// to Envoy's verify_signature foreign function (BoringSSL) once the per-VM self-test passes, and
// stay in the filter with the VM configuration {"host_crypto": false}. Both must give the same
// answer on the crafted tokens of tests/fixtures/rsa-cases.mjs and ec-cases.mjs and on every
// Wycheproof RSA, P-384 and P-521 vector (through the test-only signature hook of the
// danger-test-trap build, EDGEWARD_TRAP_WASM).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { envoyConfig, metrics, request, ROOT, runEnvoyUntilExit, startEchoUpstream, startEnvoy, stopAll, until } from './lib/harness.mjs';
import { ecCases } from '../../tests/fixtures/ec-cases.mjs';
import { rsaCases } from '../../tests/fixtures/rsa-cases.mjs';
import { wycheproofEcVectors, wycheproofRsaVectors } from '../../tests/fixtures/wycheproof-host.mjs';

const HOOK_WASM = process.env.EDGEWARD_TRAP_WASM;
// One policy, two providers: /rsa takes the RSA cases' tokens, /ec the ECDSA ones.
const rsa = rsaCases({ provider: 'rsa' });
const ec = ecCases({ provider: 'ec' });
const policy = {
  providers: { ...rsa.policy.providers, ...ec.policy.providers },
  rules: [
    { match: { prefix: '/rsa' }, requires: { provider_name: 'rsa', scopes: ['read:orders'] } },
    { match: { prefix: '/ec' }, requires: { provider_name: 'ec', scopes: ['read:orders'] } },
  ],
};
const cases = [
  ...rsa.cases.map((c) => ({ ...c, path: '/rsa' })),
  ...ec.cases.map((c) => ({ ...c, path: '/ec' })),
];
const OFF = { host_crypto: false };
let upstream;
const envoys = {};

/** Waits until `envoy`'s host verifications counter reaches `atLeast` (counts reach metrics per tick). */
const hostVerified = (envoy, atLeast) => until(async () => {
  const n = (await metrics(envoy)).edgeward_host_crypto_verifications ?? 0;
  return n >= atLeast ? n : false;
}, { what: 'the host verifications counter' });

/** Runs `work` over `items`, `width` at a time (bounded). */
async function inBatches(items, width, work) {
  const out = [];
  for (let i = 0; i < items.length; i += width) out.push(...await Promise.all(items.slice(i, i + width).map(work)));
  return out;
}

before(async () => {
  upstream = await startEchoUpstream();
  const start = (vmConfiguration, wasm) => startEnvoy(
    envoyConfig({ upstreamPort: upstream.port, policy, vmConfiguration, ...(wasm ? { wasm } : {}) }), { concurrency: 1 });
  [envoys.host, envoys.pure] = await Promise.all([start(undefined), start(OFF)]);
  if (HOOK_WASM && existsSync(HOOK_WASM)) {
    [envoys.hookHost, envoys.hookPure] = await Promise.all([start(undefined, HOOK_WASM), start(OFF, HOOK_WASM)]);
  }
});
after(() => stopAll([upstream, ...Object.values(envoys)]));

describe('host crypto in Envoy', () => {
  test('each VM says which path it took', () => {
    assert.match(envoys.host.log, /host crypto: RS256\/384\/512, ES384 and ES512 verified through the host's verify_signature/);
    assert.doesNotMatch(envoys.host.log, /host self-test failed/);
    assert.match(envoys.pure.log, /host crypto: off, every signature verified in the filter \(host_crypto: false in the VM configuration or EDGEWARD_HOST_CRYPTO=false in its environment\)/);
  });

  test('both paths answer every crafted RSA and ECDSA token the same, and as the case says', async () => {
    assert.ok(cases.length > 170);
    const answer = async (envoy, { path, token }) => {
      const r = await request(envoy, path, { headers: { authorization: `Bearer ${token}` } });
      return r.status === 200 ? 'OK' : `${r.status} ${r.json?.code}`;
    };
    const results = await inBatches(cases, 8, async (c) => [c, await answer(envoys.host, c), await answer(envoys.pure, c)]);
    for (const [c, viaHost, viaFilter] of results) {
      assert.equal(viaHost, viaFilter, `${c.name}: host ${viaHost}, filter ${viaFilter}`);
      assert.equal(viaHost, c.valid ? 'OK' : '401 ERR_JWS_SIGNATURE_VERIFICATION_FAILED', c.name);
    }
    // The host really was asked (RS*, ES384 and ES512 cases reached it), and the VM that turned it
    // off never asked it.
    const rsCases = cases.filter((c) => /^(RS|ES)/.test(c.name)).length;
    assert.ok(await hostVerified(envoys.host, rsCases / 2) > 0);
    assert.equal((await metrics(envoys.pure)).edgeward_host_crypto_verifications ?? 0, 0);
  });

  test('both paths agree on every Wycheproof RSA, P-384 and P-521 vector', async () => {
    assert.ok(envoys.hookHost, `the test-signature-hook build is missing (EDGEWARD_TRAP_WASM=${HOOK_WASM}): make build-envoy-trap`);
    const vectors = [...wycheproofRsaVectors(ROOT), ...wycheproofEcVectors(ROOT)];
    assert.ok(vectors.length > 3500);
    const ask = async (envoy, v) => {
      const value = Buffer.from(JSON.stringify({
        alg: v.alg, jwk: v.jwk, msg: v.msg.toString('base64url'), sig: v.sig.toString('base64url'),
      })).toString('base64url');
      return (await request(envoy, '/', { headers: { 'x-edgeward-test-signature': value } })).text;
    };
    const results = await inBatches(vectors, 16, async (v) => [v, await ask(envoys.hookHost, v), await ask(envoys.hookPure, v)]);
    const tally = { valid: 0, invalid: 0, acceptable: 0, keyRefused: 0 };
    for (const [v, viaHost, viaFilter] of results) {
      assert.equal(viaHost, viaFilter, `${v.id} (${v.result}): host ${viaHost}, filter ${viaFilter}`);
      if (viaHost === 'ERR_JWKS_INVALID') {
        tally.keyRefused += 1;
        continue;
      }
      if (v.result === 'valid') assert.equal(viaHost, 'OK', `${v.id} must verify`);
      if (v.result === 'invalid') assert.equal(viaHost, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', `${v.id} must not verify`);
      tally[v.result] += 1;
    }
    assert.ok(tally.valid > 100 && tally.invalid > 1000, JSON.stringify(tally));
    const rs = vectors.filter((v) => /^(RS|ES)/.test(v.alg)).length;
    assert.ok(await hostVerified(envoys.hookHost, rs / 2) > 0);
  });

  test('EDGEWARD_HOST_CRYPTO=false in the VM environment keeps every signature in the filter', async () => {
    const envoy = await startEnvoy(envoyConfig({ upstreamPort: upstream.port, policy, vmEnv: { EDGEWARD_HOST_CRYPTO: 'false' } }),
      { concurrency: 1 });
    try {
      const rs = cases.find((c) => c.path === '/rsa' && c.valid);
      assert.equal((await request(envoy, rs.path, { headers: { authorization: `Bearer ${rs.token}` } })).status, 200);
      assert.match(envoy.log, /host crypto: off, every signature verified in the filter \(host_crypto: false in the VM configuration or EDGEWARD_HOST_CRYPTO=false/);
      assert.equal((await metrics(envoy)).edgeward_host_crypto_verifications ?? 0, 0);
    } finally {
      await stopAll([envoy]);
    }
  });

  test('a setting given in the configuration and the environment must agree', async () => {
    const config = envoyConfig({
      upstreamPort: upstream.port, policy, vmConfiguration: { host_crypto: true }, vmEnv: { EDGEWARD_HOST_CRYPTO: 'false' },
    });
    const { started, log } = await runEnvoyUntilExit(config);
    assert.equal(started, false);
    assert.match(log, /VM configuration refused: EDGEWARD_HOST_CRYPTO: is false but the VM configuration sets host_crypto to true/);
  });

  test('a VM configuration with an unknown field is refused at start, naming it', async () => {
    const config = envoyConfig({ upstreamPort: upstream.port, policy, vmConfiguration: { hostcrypto: false } });
    const { started, log } = await runEnvoyUntilExit(config);
    assert.equal(started, false);
    assert.match(log, /VM configuration refused: hostcrypto: unknown field/);
  });
});
