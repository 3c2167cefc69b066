// tests/fixtures/dpop.mjs, checked against jose: its RFC 7638 thumbprints are jose's, its proofs
// verify with the key they embed (EmbeddedJWK), and its attack variants are what they claim to be;
// and against a real DPoP verifier, oidc-provider's token endpoint (js/test/lib/idp.mjs `dpop`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, generateKeyPairSync } from 'node:crypto';
import { EmbeddedJWK, calculateJwkThumbprint, decodeProtectedHeader, jwtVerify } from 'jose';
import { ath, dpopKey, makeHs256Proof, makeProof, publicJwk, thumbprint } from '../../tests/fixtures/dpop.mjs';
import { CLIENT_ID, CLIENT_SECRET, startIdp } from './lib/idp.mjs';

const HTU = 'https://orders-api.test/orders/7';
const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJib3QifQ.c2lnbmF0dXJl';
const part = (jws, i) => JSON.parse(Buffer.from(jws.split('.')[i], 'base64url'));
const verify = (proof, algorithms) => jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', ...(algorithms ? { algorithms } : {}) });

test('thumbprint is RFC 7638 as jose computes it, for EC, RSA and OKP keys; extra members do not count', async () => {
  const keys = [
    generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    generateKeyPairSync('ec', { namedCurve: 'P-384' }),
    generateKeyPairSync('rsa', { modulusLength: 2048 }),
    generateKeyPairSync('ed25519'),
  ];
  for (const { privateKey, publicKey } of keys) {
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'whatever', use: 'sig' };
    assert.equal(thumbprint(jwk), await calculateJwkThumbprint(jwk, 'sha256'));
    assert.equal(thumbprint(privateKey.export({ format: 'jwk' })), thumbprint(jwk), 'the private members do not count');
    assert.equal(publicJwk(privateKey).d, undefined);
  }
  assert.equal(thumbprint({ kty: 'oct', k: 'c2VjcmV0' }), await calculateJwkThumbprint({ kty: 'oct', k: 'c2VjcmV0' }));
  assert.throws(() => thumbprint({ kty: 'EC', crv: 'P-256', x: 'AA' }), TypeError);
  assert.equal(ath(TOKEN), createHash('sha256').update(TOKEN).digest('base64url'));
});

test('an ES256 proof verifies with its embedded jwk; its claims and header are as asked; P1363 signature', async () => {
  const key = dpopKey();
  const iat = Math.floor(Date.now() / 1000);
  const proof = makeProof({ key: key.privateKey, htm: 'GET', htu: HTU, token: TOKEN, iat, jti: 'jti-1', nonce: 'n-1' });
  const { payload, protectedHeader } = await verify(proof, ['ES256']);
  assert.deepEqual(protectedHeader, { typ: 'dpop+jwt', alg: 'ES256', jwk: key.jwk });
  assert.deepEqual(payload, { jti: 'jti-1', htm: 'GET', htu: HTU, iat, ath: ath(TOKEN), nonce: 'n-1' });
  assert.equal(await calculateJwkThumbprint(protectedHeader.jwk), key.jkt);
  assert.equal(Buffer.from(proof.split('.')[2], 'base64url').length, 64, 'r || s, 32 bytes each');
  const other = makeProof({ key: key.privateKey, htm: 'GET', htu: HTU });
  assert.notEqual(part(other, 1).jti, part(makeProof({ key: key.privateKey, htm: 'GET', htu: HTU }), 1).jti, 'a random jti each time');
  assert.equal(part(other, 1).ath, undefined, 'no token, no ath');
});

test('RS256, PS256, ES384 and EdDSA proofs verify too', async () => {
  for (const alg of ['RS256', 'PS256', 'ES384', 'EdDSA']) {
    const key = dpopKey(alg);
    const { protectedHeader } = await verify(makeProof({ key: key.privateKey, alg, htm: 'POST', htu: HTU }), [alg]);
    assert.equal(protectedHeader.alg, alg);
    assert.equal(thumbprint(protectedHeader.jwk), key.jkt);
  }
});

test('attack variants: omitted members, extra ones, a private jwk, a mismatched alg, DER, none, HS256', async () => {
  const key = dpopKey();
  const base = { key: key.privateKey, htm: 'GET', htu: HTU, token: TOKEN };

  const omitted = makeProof({ ...base, omit: ['ath', 'jti', 'typ'] });
  assert.deepEqual(Object.keys(part(omitted, 0)).sort(), ['alg', 'jwk']);
  assert.deepEqual(Object.keys(part(omitted, 1)).sort(), ['htm', 'htu', 'iat']);
  await assert.rejects(verify(makeProof({ ...base, omit: ['jwk'] })), 'no embedded key');
  await assert.rejects(verify(makeProof({ ...base, typ: 'JWT' })), 'typ JWT');

  const extra = makeProof({ ...base, extraHeader: { kid: 'k1', x5c: ['MIIB'] }, extraClaims: { htm: 'POST', sub: 'x' } });
  assert.deepEqual([part(extra, 0).kid, part(extra, 0).x5c, part(extra, 1).htm, part(extra, 1).sub], ['k1', ['MIIB'], 'POST', 'x']);

  const withPrivate = makeProof({ ...base, jwk: key.privateKey.export({ format: 'jwk' }) });
  assert.equal(typeof decodeProtectedHeader(withPrivate).jwk.d, 'string');
  await assert.rejects(verify(withPrivate), /must be a public key/);

  // Another key's jwk in the header: the signature does not match it.
  await assert.rejects(verify(makeProof({ ...base, jwk: dpopKey().jwk })), { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
  // The header says ES384, a P-256 key signed ES256.
  await assert.rejects(verify(makeProof({ ...base, alg: 'ES384', signAlg: 'ES256' })));
  const der = makeProof({ ...base, dsaEncoding: 'der' });
  assert.notEqual(Buffer.from(der.split('.')[2], 'base64url').length, 64);
  await assert.rejects(verify(der), { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
  const none = makeProof({ ...base, alg: 'none' });
  assert.ok(none.endsWith('.'));
  await assert.rejects(verify(none));

  const secret = Buffer.from('a shared secret, never a DPoP key');
  const hs = makeHs256Proof({ secret, htm: 'GET', htu: HTU, token: TOKEN });
  const [h, p, s] = hs.split('.');
  assert.equal(createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url'), s);
  assert.deepEqual(part(hs, 0), { typ: 'dpop+jwt', alg: 'HS256', jwk: { kty: 'oct', k: secret.toString('base64url') } });
  await assert.rejects(verify(hs), 'a symmetric embedded key is refused');
  // HS256 with the real public key in the header (the key-confusion case).
  assert.deepEqual(part(makeHs256Proof({ secret, jwk: key.jwk, htm: 'GET', htu: HTU }), 0).jwk, key.jwk);
});

test('oidc-provider accepts a fixture proof at its token endpoint (cnf.jkt = its key), and refuses it replayed or for another htu', async () => {
  const idp = await startIdp({ alg: 'ES256', dpop: true });
  try {
    const endpoint = `${idp.issuer}/token`;
    const grant = (proof) => fetch(endpoint, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
        dpop: proof,
      },
      body: 'grant_type=client_credentials&scope=read%3Aorders',
    }).then(async (res) => ({ status: res.status, body: await res.json() }));
    const key = dpopKey();
    const proof = makeProof({ key: key.privateKey, htm: 'POST', htu: endpoint });
    const ok = await grant(proof);
    assert.equal(ok.status, 200);
    assert.equal(ok.body.token_type, 'DPoP');
    assert.equal(part(ok.body.access_token, 1).cnf.jkt, key.jkt);
    const replayed = await grant(proof);
    // oidc-provider says only "grant request is invalid"; a new proof of the same key is fine.
    assert.deepEqual([replayed.status, replayed.body.error], [400, 'invalid_grant'], 'replay detected');
    assert.equal((await grant(makeProof({ key: key.privateKey, htm: 'POST', htu: endpoint }))).status, 200);
    const elsewhere = await grant(makeProof({ key: key.privateKey, htm: 'POST', htu: `${idp.issuer}/other` }));
    assert.deepEqual([elsewhere.status, elsewhere.body.error], [400, 'invalid_dpop_proof']);
    const hs = await grant(makeHs256Proof({ htm: 'POST', htu: endpoint }));
    assert.deepEqual([hs.status, hs.body.error], [400, 'invalid_dpop_proof']);
  } finally {
    await idp.stop();
  }
});
