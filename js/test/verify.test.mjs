// Verifier.verify / setJwks / authorize against the built package (index.mjs -> pkg/).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import crypto from 'node:crypto';
import { Verifier, EdgewardError, errorCodes, decodeUnverified } from '../index.mjs';
import { NOW, ISSUER, AUDIENCE, keyPair, mint, claims, policy, codeOf } from './helpers.mjs';
import { dpopKey, makeProof } from '../../tests/fixtures/dpop.mjs';

const es = keyPair('ES256', 'k1');
const es2 = keyPair('ES256', 'k2');

function verifier(extraProvider, top) {
  return new Verifier(policy([es.jwk], extraProvider, top));
}

describe('verify', () => {
  test('a good token gives provider, header, claims and granted scopes', () => {
    const v = verifier();
    const token = mint(es, claims({ scope: 'read:orders write:order_status' }));
    const result = v.verify(token, { now: NOW, scopes: ['read:orders'] });
    assert.equal(result.provider, 'corp-idp');
    assert.deepEqual(result.header, { alg: 'ES256', typ: 'at+jwt', kid: 'k1' });
    assert.equal(result.claims.sub, 'bot-7');
    assert.equal(result.claims.iss, ISSUER);
    assert.deepEqual(result.scopes, ['read:orders', 'write:order_status']);
    assert.ok(Object.isFrozen(result.claims) && Object.isFrozen(result.scopes) && Object.isFrozen(result.header));
  });

  test('a token that is not a string is an invalid token', () => {
    const v = verifier();
    for (const token of [undefined, null, 42, {}, Buffer.from('x')]) {
      assert.equal(codeOf(() => v.verify(token, { now: NOW })), 'ERR_JWT_INVALID');
    }
  });

  test('now defaults to the clock, and accepts a Date', () => {
    const v = verifier();
    const real = Math.floor(Date.now() / 1000);
    const token = mint(es, claims({ iat: real - 10, exp: real + 300 }));
    assert.equal(v.verify(token).claims.sub, 'bot-7');
    assert.equal(codeOf(() => v.verify(token, { now: real + 400 })), 'ERR_JWT_EXPIRED');
    assert.equal(v.verify(token, { now: new Date((real + 60) * 1000) }).provider, 'corp-idp');
    assert.equal(codeOf(() => v.verify(token, { now: new Date((real + 400) * 1000) })), 'ERR_JWT_EXPIRED');
    assert.throws(() => v.verify(token, { now: 1.5 }), TypeError);
    assert.throws(() => v.verify(token, { now: '1800000000' }), TypeError);
  });

  test('EdgewardError is a real Error with a stable code, and never carries the token', () => {
    const v = verifier();
    const token = mint(es, claims({ iss: 'https://evil.example' }));
    let caught;
    try {
      v.verify(token, { now: NOW });
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof EdgewardError);
    assert.ok(caught instanceof Error);
    assert.equal(caught.name, 'EdgewardError');
    assert.equal(caught.code, 'ERR_JWT_CLAIM_VALIDATION_FAILED');
    assert.equal(caught.claim, 'iss');
    assert.match(caught.stack, /EdgewardError/);
    assert.equal(caught.denial.status, 401);
    for (const text of [caught.message, caught.stack, JSON.stringify(caught), caught.denial.body]) {
      assert.ok(!text.includes(token.split('.')[1]), 'error text must not echo the token');
    }
    // require() and import share one module instance, so one EdgewardError class.
    const require = createRequire(import.meta.url);
    assert.equal(require('../index.cjs').EdgewardError, EdgewardError);
  });
});

describe('every error code is reachable from JS', () => {
  const reached = new Map();
  const expectCode = (code, fn, check) => {
    let caught;
    try {
      fn();
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof EdgewardError, `${code}: expected an EdgewardError, got ${caught}`);
    assert.equal(caught.code, code);
    if (check) check(caught);
    reached.set(code, caught);
  };

  test('token failures', () => {
    const v = verifier({ max_lifetime_seconds: 3600 }, { deny_wildcard_scopes: true });
    const good = claims();
    const opts = { now: NOW };
    expectCode('ERR_JWT_INVALID', () => v.verify('abc.def', opts));
    expectCode('ERR_JWT_INVALID', () => v.verify(`${mint(es, good)}.x.y`, opts)); // five segments (JWE shape)
    expectCode('ERR_JWT_INVALID', () => v.verify(mint(es, good).replace('.', '=.'), opts)); // padding
    expectCode('ERR_JWT_INVALID', () => v.verify(mint(es, { ...good, exp: String(NOW + 60) }), opts), (e) =>
      assert.equal(e.claim, 'exp'),
    );
    expectCode('ERR_JOSE_ALG_NOT_ALLOWED', () => v.verify(mint(es, good, { alg: 'none' }), opts));
    expectCode('ERR_JOSE_ALG_NOT_ALLOWED', () => v.verify(mint(es, good, { alg: 'HS256' }), opts));
    expectCode('ERR_JOSE_NOT_SUPPORTED', () => v.verify(mint(es, good, { crit: ['exp'], exp: 1 }), opts));
    expectCode('ERR_JOSE_NOT_SUPPORTED', () => v.verify(mint(es, good, { b64: false }), opts));
    expectCode('ERR_JWKS_NO_MATCHING_KEY', () => v.verify(mint(es2, good), opts));
    expectCode('ERR_JWS_SIGNATURE_VERIFICATION_FAILED', () => v.verify(mint({ ...es2, kid: 'k1' }, good), opts));
    expectCode('ERR_JWT_EXPIRED', () => v.verify(mint(es, good), { now: NOW + 540 + 30 }), (e) =>
      assert.equal(e.claim, 'exp'),
    );
    expectCode('ERR_JWT_CLAIM_VALIDATION_FAILED', () => v.verify(mint(es, { ...good, aud: 'other' }), opts), (e) =>
      assert.equal(e.claim, 'aud'),
    );
    expectCode('ERR_JWT_CLAIM_VALIDATION_FAILED', () => v.verify(mint(es, { ...good, nbf: NOW + 120 }), opts), (e) =>
      assert.equal(e.claim, 'nbf'),
    );
    expectCode('ERR_JWT_LIFETIME_EXCEEDED', () => v.verify(mint(es, { ...good, exp: good.iat + 7200 }), opts));
    expectCode('ERR_SCOPE_WILDCARD', () => v.verify(mint(es, { ...good, scope: 'read:*' }), opts));
    expectCode('ERR_SCOPE_INSUFFICIENT', () => v.verify(mint(es, good), { ...opts, scopes: 'write:order_status' }), (e) => {
      assert.equal(e.denial.status, 403);
      assert.equal(e.denial.wwwAuthenticate, 'Bearer realm="edgeward", error="insufficient_scope", scope="write:order_status"');
    });

    const two = new Verifier(policy([es.jwk, { ...es2.jwk, kid: 'k1' }]));
    expectCode('ERR_JWKS_MULTIPLE_MATCHING_KEYS', () => two.verify(mint(es, good), opts));
  });

  test('request failures (authorize)', () => {
    const v = verifier();
    expectCode('ERR_JWT_MISSING', () => v.authorize('GET', '/orders/1', {}, { now: NOW }), (e) => {
      assert.equal(e.denial.status, 401);
      assert.equal(e.denial.wwwAuthenticate, 'Bearer realm="edgeward"');
    });
    const bots = new Verifier({ ...policy([es.jwk]), rules: [
      { match: { prefix: '/orders' }, requires: { provider_name: 'corp-idp', claims: { client_id: ['billing-bot'] } } },
    ] });
    const stranger = `Bearer ${mint(es, claims({ client_id: 'intruder' }))}`;
    expectCode('ERR_PRINCIPAL_DENIED', () => bots.authorize('GET', '/orders/1', { authorization: stranger }, { now: NOW }), (e) => {
      assert.equal(e.denial.status, 403);
      assert.equal(e.denial.wwwAuthenticate, undefined);
      assert.equal(e.claim, 'client_id');
      assert.doesNotMatch(e.message, /billing-bot/);
    });
    expectCode('ERR_ROUTE_DENIED', () => v.authorize('GET', '/admin', {}, { now: NOW }), (e) => {
      assert.equal(e.denial.status, 403);
      assert.equal(e.denial.wwwAuthenticate, undefined);
    });
  });

  test('proof-of-possession failures (authorize with a connection)', () => {
    const bot = dpopKey();
    const der = Buffer.from('a client certificate (DER)');
    const billing = 'spiffe://example.org/ns/bots/sa/billing';
    const v = new Verifier({ ...policy([es.jwk]), rules: [
      { match: { prefix: '/orders' }, requires: { provider_name: 'corp-idp', scopes: ['read:orders'] } },
      { match: { prefix: '/peers' }, requires: { provider_name: 'corp-idp', peers: [billing] } },
    ] });
    const connection = { scheme: 'https', authority: 'api.example.com' };
    const htu = 'https://api.example.com/orders/1';
    const dpopBound = mint(es, claims({ cnf: { jkt: bot.jkt } }));
    const asked = (token, options = {}) =>
      v.authorize('GET', '/orders/1', { authorization: `DPoP ${token}`, dpop: makeProof({ key: bot.privateKey, htm: 'GET', htu, token, iat: NOW }) }, {
        now: NOW,
        connection,
        ...options,
      });
    expectCode('ERR_POP_MISSING', () => v.authorize('GET', '/orders/1', { authorization: `Bearer ${dpopBound}` }, { now: NOW, connection }), (e) =>
      assert.equal(e.denial.wwwAuthenticate, 'DPoP realm="edgeward", error="invalid_token", algs="ES256"'),
    );
    expectCode('ERR_DPOP_PROOF_INVALID', () => asked(dpopBound, { connection: { ...connection, authority: 'other.example.com' } }), (e) =>
      assert.equal(e.denial.wwwAuthenticate, 'DPoP realm="edgeward", error="invalid_dpop_proof", algs="ES256"'),
    );
    const certBound = mint(es, claims({ cnf: { 'x5t#S256': crypto.createHash('sha256').update(der).digest('base64url') } }));
    const withCert = (peerCertificate) =>
      v.authorize('GET', '/orders/1', { authorization: `Bearer ${certBound}` }, { now: NOW, connection: { ...connection, peerCertificate } });
    assert.equal(withCert(der).access, 'granted');
    expectCode('ERR_MTLS_BINDING_MISMATCH', () => withCert(Buffer.from('another certificate')));
    const plain = `Bearer ${mint(es, claims())}`;
    const peer = (peerUriSan) => v.authorize('GET', '/peers', { authorization: plain }, { now: NOW, connection: { ...connection, peerUriSan } });
    assert.equal(peer(billing).access, 'granted');
    expectCode('ERR_PEER_DENIED', () => peer('spiffe://example.org/ns/bots/sa/audit'), (e) => assert.equal(e.denial.status, 403));

    // An allowed answer names its proof; the store's answer comes back as the core's refusal.
    const answer = asked(dpopBound, { record: true });
    assert.match(answer.proof.key, /^dpop:[0-9a-f]{32}$/);
    assert.equal(answer.proof.expiresAt, NOW + 300 + 2 * 30 + 1);
    assert.equal(answer.proof.ttlSeconds, 300 + 2 * 30 + 1);
    expectCode('ERR_DPOP_REPLAYED', () => {
      throw v.proofRefusal(answer, 'replayed');
    }, (e) => {
      assert.equal(e.denial.status, 401);
      assert.equal(e.denial.wwwAuthenticate, 'DPoP realm="edgeward", error="invalid_dpop_proof", algs="ES256"');
      assert.deepEqual([e.record.code, e.record.status, e.record.provider], ['ERR_DPOP_REPLAYED', 401, 'corp-idp']);
    });
    const down = new Error('connect ECONNREFUSED');
    expectCode('ERR_REPLAY_STORE_UNAVAILABLE', () => {
      throw v.proofRefusal(answer, 'unavailable', down);
    }, (e) => {
      assert.deepEqual([e.denial.status, e.denial.retryAfter, e.cause], [503, 5, down]);
      assert.match(e.message, /ECONNREFUSED/);
      assert.equal(e.denial.body, '{"error":"temporarily_unavailable","code":"ERR_REPLAY_STORE_UNAVAILABLE"}');
    });
    assert.throws(() => v.proofRefusal({ access: 'public' }, 'replayed'), TypeError);
    assert.throws(() => asked(dpopBound, { connection: { peerCertificate: 'pem text' } }), TypeError);
  });

  test('key and policy failures', () => {
    const remoteOnly = new Verifier({
      providers: { idp: { issuer: ISSUER, audiences: [AUDIENCE], remote_jwks: { uri: 'https://idp.example.com/jwks' } } },
    });
    expectCode('ERR_JWKS_UNAVAILABLE', () => remoteOnly.verify(mint(es, claims()), { now: NOW }), (e) => {
      assert.equal(e.denial.status, 503);
      assert.equal(e.denial.retryAfter, 5);
    });
    expectCode('ERR_POLICY_INVALID', () => new Verifier({ providers: { a: { issuer: ISSUER, audiences: [7] } } }), (e) =>
      assert.match(e.path, /^providers\.a\.audiences/),
    );
    expectCode('ERR_POLICY_INVALID', () => new Verifier('{"providers": '));
    const v = verifier();
    const privateJwk = { ...es.privateKey.export({ format: 'jwk' }), kid: 'p' };
    expectCode('ERR_JWKS_INVALID', () => v.setJwks('corp-idp', { keys: [privateJwk] }), (e) => {
      assert.equal(e.path, 'keys');
      assert.match(e.message, /keys\[0\]\.d: private key material/);
    });
    expectCode('ERR_JWKS_INVALID', () => v.setJwks('corp-idp', 'not json'), (e) => {
      assert.deepEqual([e.line, e.column], [1, 2]);
    });
    // Beside a good key, the private one is left out and reported; the good one loads.
    assert.equal(v.setJwks('corp-idp', { keys: [privateJwk, es.jwk] }), 1);
    assert.deepEqual(v.refusedKeys('corp-idp'), ['keys[0].d: private key material is not allowed in a JWKS']);
    expectCode('ERR_POLICY_INVALID', () => new Verifier('{\n  "providers": {},\n}'), (e) => {
      assert.deepEqual([e.line, e.column], [3, 1]);
      assert.match(e.message, /3:1: trailing comma/);
    });
  });

  test('host failures (a node:crypto call that throws)', (t) => {
    const require = createRequire(import.meta.url);
    const bindings = require('../pkg/edgeward_js.js');
    bindings.install_host_crypto({ supports: () => true, prepare() {}, verify() { throw new Error('broken'); } });
    t.after(() => require('../pkg/api.cjs')(bindings, { crypto: require('node:crypto') }));
    const rs = keyPair('RS256', 'r1');
    const v = new Verifier(policy([rs.jwk], { algorithms: ['RS256'] }));
    expectCode('ERR_HOST_CRYPTO_FAILED', () => v.verify(mint(rs, claims()), { now: NOW }), (e) => {
      assert.equal(e.denial.status, 500);
      assert.equal(e.denial.error, 'server_error');
    });
  });

  test('the codes reached are exactly the core\'s list', () => {
    assert.deepEqual([...reached.keys()].sort(), [...errorCodes()].sort());
    assert.equal(errorCodes().length, 24);
  });
});

describe('policy errors name the field', () => {
  test('wrong type, missing field, unknown provider in a rule', () => {
    const base = policy([es.jwk]);
    const cases = [
      [{ ...base, token_cache_size: 'big' }, /^token_cache_size/],
      [{ providers: { a: { audiences: [AUDIENCE], local_jwks: { keys: [es.jwk] } } } }, /^providers\.a\.issuer/],
      [{ ...base, rules: [{ match: { prefix: '/' }, requires: { provider_name: 'nobody' } }] }, /^rules\[0\]\.requires\.provider_name/],
    ];
    for (const [doc, path] of cases) {
      let caught;
      try {
        new Verifier(doc);
      } catch (error) {
        caught = error;
      }
      assert.equal(caught?.code, 'ERR_POLICY_INVALID');
      assert.match(caught.path, path);
      assert.ok(caught.message.includes(caught.path));
    }
    assert.throws(() => new Verifier(42), TypeError);
  });
});

describe('scopes', () => {
  const v = verifier();
  const opts = (scopes) => ({ now: NOW, scopes });
  test('from `scope` (space-delimited), `scp` array and `scp` string', () => {
    assert.deepEqual(v.verify(mint(es, claims({ scope: 'a b' })), opts(['a', 'b'])).scopes, ['a', 'b']);
    const scpArray = claims({ scope: undefined, scp: ['c', 'd'] });
    assert.deepEqual(v.verify(mint(es, scpArray), opts(['d'])).scopes, ['c', 'd']);
    const scpString = claims({ scope: undefined, scp: 'e f' });
    assert.deepEqual(v.verify(mint(es, scpString), opts('f e')).scopes, ['e', 'f']);
  });
  test('every required scope is needed; matching is exact', () => {
    const token = mint(es, claims({ scope: 'read:orders' }));
    assert.equal(codeOf(() => v.verify(token, opts(['read:orders', 'write:x']))), 'ERR_SCOPE_INSUFFICIENT');
    assert.equal(codeOf(() => v.verify(token, opts(['READ:ORDERS']))), 'ERR_SCOPE_INSUFFICIENT');
    assert.equal(codeOf(() => v.verify(token, opts(['read']))), 'ERR_SCOPE_INSUFFICIENT');
    assert.equal(v.verify(token, opts([])).provider, 'corp-idp');
    assert.equal(v.verify(token, opts('')).provider, 'corp-idp');
  });
  test('bad scope arguments are TypeErrors', () => {
    const token = mint(es, claims());
    assert.throws(() => v.verify(token, opts(['a b'])), TypeError);
    assert.throws(() => v.verify(token, opts([''])), TypeError);
    assert.throws(() => v.verify(token, opts([7])), TypeError);
    assert.throws(() => v.verify(token, opts({})), TypeError);
  });
});

describe('cache', () => {
  test('a verified token is cached; a hit still checks time and scopes', () => {
    const v = verifier();
    const token = mint(es, claims());
    assert.equal(v.cachedTokens, 0);
    const first = v.verify(token, { now: NOW });
    assert.equal(v.cachedTokens, 1);
    const second = v.verify(token, { now: NOW + 1 });
    assert.equal(v.cachedTokens, 1);
    assert.equal(second.claims, first.claims, 'the cached token is decoded once');
    assert.notEqual(second, first, 'each call gets its own result record');
    assert.equal(codeOf(() => v.verify(token, { now: NOW + 570 })), 'ERR_JWT_EXPIRED');
    assert.equal(codeOf(() => v.verify(token, { now: NOW, scopes: ['write:x'] })), 'ERR_SCOPE_INSUFFICIENT');
    assert.equal(v.verify(token, { now: NOW }).claims.sub, 'bot-7');
    assert.equal(codeOf(() => v.verify(token, { now: NOW, provider: 'nobody' })), 'ERR_POLICY_INVALID');
  });

  test('token_cache_size 0 turns the cache off', () => {
    const v = verifier({}, { token_cache_size: 0 });
    const token = mint(es, claims());
    v.verify(token, { now: NOW });
    v.verify(token, { now: NOW });
    assert.equal(v.cachedTokens, 0);
  });

  test('the cache is bounded by token_cache_size', () => {
    const v = verifier({}, { token_cache_size: 3 });
    for (let i = 0; i < 10; i++) v.verify(mint(es, claims({ jti: `t${i}` })), { now: NOW });
    assert.equal(v.cachedTokens, 3);
  });

  test('tokens over 8 KiB are verified every time and never kept', () => {
    const v = verifier({}, { max_token_bytes: 65_536 });
    const big = mint(es, claims({ padding: 'x'.repeat(10_000) }));
    assert.ok(big.length > 8192);
    for (let i = 0; i < 3; i++) assert.equal(v.verify(big, { now: NOW }).claims.padding.length, 10_000);
    assert.equal(v.cachedTokens, 0);
    const granted = v.authorize('GET', '/orders', { authorization: `Bearer ${big}` }, { now: NOW });
    assert.equal(granted.result.claims.padding.length, 10_000);
    assert.equal(codeOf(() => v.verify(big, { now: NOW + 600 })), 'ERR_JWT_EXPIRED');
  });

  test('a mutated result does not change later results', () => {
    const v = verifier();
    const token = mint(es, claims());
    const result = v.verify(token, { now: NOW });
    result.extra = 1;
    assert.throws(() => {
      'use strict';
      result.claims.sub = 'someone-else';
    }, TypeError);
    assert.equal(v.verify(token, { now: NOW }).extra, undefined);
    assert.equal(v.verify(token, { now: NOW }).claims.sub, 'bot-7');
  });
});

describe('key rotation with setJwks', () => {
  test('new keys apply at once, cached tokens of a removed key are refused', () => {
    const v = verifier();
    const old = mint(es, claims());
    const next = mint(es2, claims());
    assert.equal(v.verify(old, { now: NOW }).header.kid, 'k1');
    assert.equal(codeOf(() => v.verify(next, { now: NOW })), 'ERR_JWKS_NO_MATCHING_KEY');

    assert.equal(v.setJwks('corp-idp', { keys: [es.jwk, es2.jwk] }), 2);
    assert.equal(v.verify(next, { now: NOW }).header.kid, 'k2');
    assert.equal(v.verify(old, { now: NOW }).header.kid, 'k1');

    assert.equal(v.setJwks('corp-idp', JSON.stringify({ keys: [es2.jwk] })), 1);
    assert.equal(codeOf(() => v.verify(old, { now: NOW })), 'ERR_JWKS_NO_MATCHING_KEY');
    assert.equal(v.verify(next, { now: NOW }).header.kid, 'k2');
    assert.equal(v.keyCount('corp-idp'), 1);
  });

  test('a refused JWKS leaves the current keys in place', () => {
    const v = verifier();
    const token = mint(es, claims());
    assert.equal(codeOf(() => v.setJwks('corp-idp', '{"keys": 3}')), 'ERR_JWKS_INVALID');
    const shortX = { keys: [{ ...es2.jwk, x: 'AAAA' }] };
    assert.equal(codeOf(() => v.setJwks('corp-idp', new TextEncoder().encode(JSON.stringify(shortX)))), 'ERR_JWKS_INVALID');
    // Without a usable key (only an RSA key for an ES256 provider, or none): refused too, and
    // the current keys stay.
    const rsaOnly = { keys: [keyPair('RS256', 'r').jwk] };
    assert.equal(codeOf(() => v.setJwks('corp-idp', rsaOnly)), 'ERR_JWKS_INVALID');
    assert.equal(codeOf(() => v.setJwks('corp-idp', { keys: [] })), 'ERR_JWKS_INVALID');
    assert.equal(v.verify(token, { now: NOW }).header.kid, 'k1');
    assert.equal(codeOf(() => v.setJwks('nobody', { keys: [] })), 'ERR_POLICY_INVALID');
  });
});

describe('algorithms', () => {
  for (const alg of ['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA']) {
    test(alg, () => {
      const key = keyPair(alg, `${alg}-1`);
      const v = new Verifier(policy([key.jwk], { algorithms: [alg] }));
      assert.equal(v.verify(mint(key, claims()), { now: NOW }).header.alg, alg);
      const other = keyPair(alg, `${alg}-1`);
      assert.equal(codeOf(() => v.verify(mint(other, claims()), { now: NOW })), 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
    });
  }
  test('DER-encoded ECDSA signatures are refused', () => {
    const der = { ...es, sign: (input) => crypto.sign('sha256', Buffer.from(input), es.privateKey) };
    const v = verifier();
    assert.notEqual(codeOf(() => v.verify(mint(der, claims()), { now: NOW })), 'no error');
  });
});

describe('authorize', () => {
  test('rules decide; the token comes from Authorization: Bearer', () => {
    const v = verifier();
    const token = mint(es, claims({ scope: 'read:orders' }));
    assert.deepEqual(v.authorize('GET', '/healthz', {}, { now: NOW }), { access: 'public', remove: [], set: [] });
    const granted = v.authorize('GET', '/orders/7?x=1', { authorization: `Bearer ${token}` }, { now: NOW });
    assert.equal(granted.access, 'granted');
    assert.equal(granted.result.claims.sub, 'bot-7');
    // Header names in any case, a Headers object, or a function.
    assert.equal(v.authorize('GET', '/orders', { Authorization: `bearer ${token}` }, { now: NOW }).access, 'granted');
    assert.equal(v.authorize('GET', '/orders', new Headers({ authorization: `Bearer ${token}` }), { now: NOW }).access, 'granted');
    assert.equal(v.authorize('GET', '/orders', (n) => (n === 'authorization' ? `Bearer ${token}` : undefined), { now: NOW }).access, 'granted');
    assert.equal(codeOf(() => v.authorize('POST', '/orders', { authorization: `Bearer ${token}` }, { now: NOW })), 'ERR_SCOPE_INSUFFICIENT');
    assert.equal(codeOf(() => v.authorize('GET', '/orders/../admin', { authorization: `Bearer ${token}` }, { now: NOW })), 'ERR_ROUTE_DENIED');
    assert.equal(codeOf(() => v.authorize('GET', '/orders', { authorization: [`Bearer ${token}`, `Bearer ${token}`] }, { now: NOW })), 'ERR_JWT_INVALID');
    assert.equal(codeOf(() => v.authorize('GET', '/orders', { authorization: `Basic ${token}` }, { now: NOW })), 'ERR_JWT_MISSING');
  });

  test('the header changes come from the core: claim headers set, spoofed ones and the token header removed', () => {
    const v = new Verifier(policy([es.jwk], { claim_to_headers: [{ claim_name: 'sub', header_name: 'x-bot-id' }] }));
    const token = mint(es, claims({ scope: 'read:orders' }));
    const granted = v.authorize('GET', '/orders', { authorization: `Bearer ${token}`, 'x-bot-id': 'admin', x_bot_id: 'root' }, { now: NOW });
    assert.deepEqual(granted.remove, ['authorization', 'x-bot-id', 'x_bot_id']);
    assert.deepEqual(granted.set, [['x-bot-id', 'bot-7']]);
    const open = v.authorize('GET', '/healthz', { authorization: 'Bearer forged', 'X-Bot-Id': 'admin' }, { now: NOW });
    assert.deepEqual(open, { access: 'public', remove: ['authorization', 'x-bot-id'], set: [] });
  });
});

describe('decodeUnverified', () => {
  test('reads header and claims strictly, without checking the signature', () => {
    const other = keyPair('ES256', 'k9');
    const decoded = decodeUnverified(mint(other, claims()));
    assert.equal(decoded.header.kid, 'k9');
    assert.equal(decoded.claims.aud, AUDIENCE);
    assert.equal(codeOf(() => decodeUnverified('a.b')), 'ERR_JWT_INVALID');
  });
});

