// Host crypto on Node (docs/policy.md, "Host crypto"): RS*, PS*, ES384 and ES512 signatures go to
// node:crypto, everything else stays in the core. Both paths must give the same verdict on every
// Wycheproof RSA, P-384 and P-521 vector, on the crafted tokens of tests/fixtures/rsa-cases.mjs
// and ec-cases.mjs (re-signed bad encodings, out-of-range values, high-S, the attack benchmarks'
// bogus signatures); a host that throws refuses (ERR_HOST_CRYPTO_FAILED), never passes.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Verifier } from '../index.mjs';
import { rsaCases } from '../../tests/fixtures/rsa-cases.mjs';
import { ecCases } from '../../tests/fixtures/ec-cases.mjs';
import { wycheproofEcVectors, wycheproofRsaVectors } from '../../tests/fixtures/wycheproof-host.mjs';

const require = createRequire(import.meta.url);
// The glue module index.cjs built the API over (the same instance: require's cache).
const bindings = require('../pkg/edgeward_js.js');
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const codeOf = (fn) => {
  try {
    fn();
    return 'OK';
  } catch (e) {
    if (typeof e.code !== 'string') throw e;
    return e.code;
  }
};

describe('host crypto', () => {
  const { policy, cases } = rsaCases();

  test('is on by default on Node, and off with { hostCrypto: false }', () => {
    assert.equal(new Verifier(policy).hostCrypto, true);
    assert.equal(new Verifier(policy, { hostCrypto: false }).hostCrypto, false);
    assert.throws(() => new Verifier(policy, { hostCrypto: 'no' }), /hostCrypto must be a boolean/);
  });

  for (const [what, made] of [['RSA', { policy, cases }], ['ECDSA P-384 and P-521', ecCases()]]) {
    test(`both paths give every crafted ${what} case its verdict`, () => {
      const host = new Verifier(made.policy, { memoize: false });
      const pure = new Verifier(made.policy, { memoize: false, hostCrypto: false });
      assert.ok(made.cases.length > 20, `${made.cases.length} cases`);
      for (const { name, token, valid } of made.cases) {
        const viaHost = codeOf(() => host.verify(token, { scopes: ['read:orders'] }));
        const viaCore = codeOf(() => pure.verify(token, { scopes: ['read:orders'] }));
        assert.equal(viaHost, viaCore, `${name}: host ${viaHost}, core ${viaCore}`);
        assert.equal(viaHost, valid ? 'OK' : 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', name);
      }
    });
  }

  for (const [what, vectorsOf, least] of [['RSA', wycheproofRsaVectors, 3000], ['P-384 and P-521', wycheproofEcVectors, 500]]) {
    test(`both paths agree on every Wycheproof ${what} vector`, () => {
      const vectors = vectorsOf(ROOT);
      assert.ok(vectors.length > least, `${vectors.length} vectors`);
      const tally = { valid: 0, invalid: 0, acceptable: 0, keyRefused: 0 };
      for (const v of vectors) {
        const jwk = JSON.stringify(v.jwk);
        const viaHost = bindings.verify_signature_with_jwk(v.alg, jwk, v.msg, v.sig, true);
        const viaCore = bindings.verify_signature_with_jwk(v.alg, jwk, v.msg, v.sig, false);
        assert.equal(viaHost, viaCore, `${v.id} (${v.result}): host "${viaHost}", core "${viaCore}"`);
        if (viaHost === 'ERR_JWKS_INVALID') {
          tally.keyRefused += 1; // a key the core refuses at load (e.g. an even modulus)
          continue;
        }
        if (v.result === 'valid') assert.equal(viaHost, '', `${v.id} must verify`);
        if (v.result === 'invalid') assert.notEqual(viaHost, '', `${v.id} must not verify`);
        tally[v.result] += 1;
      }
      assert.ok(tally.valid > 50 && tally.invalid > 100, JSON.stringify(tally));
    });
  }

  test('a host that throws or answers nonsense refuses the request, and is asked again next time', (t) => {
    const { policy: p, cases: all } = rsaCases();
    const good = all.find((c) => c.name === 'RS256/2048 valid').token;
    let mode = 'throw';
    let calls = 0;
    bindings.install_host_crypto({
      supports: (alg) => alg === 'RS256',
      prepare() {},
      verify() {
        calls += 1;
        if (mode === 'throw') throw new Error('broken');
        return mode === 'nonsense' ? 7 : 1;
      },
    });
    // Whatever happens, put node:crypto back for the other tests of this process.
    t.after(() => require('../pkg/api.cjs')(bindings, { crypto: require('node:crypto') }));
    const v = new Verifier(p, { memoize: false });
    assert.equal(v.hostCrypto, true);
    assert.equal(codeOf(() => v.verify(good)), 'ERR_HOST_CRYPTO_FAILED');
    mode = 'nonsense';
    assert.equal(codeOf(() => v.verify(good)), 'ERR_HOST_CRYPTO_FAILED');
    try {
      v.verify(good);
    } catch (e) {
      assert.equal(e.denial.status, 500);
      assert.equal(e.denial.wwwAuthenticate, undefined);
    }
    mode = 'yes';
    assert.equal(codeOf(() => v.verify(good)), 'OK');
    assert.equal(calls, 4);
    // PS256 is not this host's: the core verifies it, and a tampered one fails.
    const ps = all.find((c) => c.name === 'PS256/2048 last signature byte flipped').token;
    assert.equal(codeOf(() => v.verify(ps)), 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
    assert.equal(calls, 4);
  });
});
