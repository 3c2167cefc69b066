// Proof-of-possession tokens from the real IdP (js/test/lib/idp.mjs `dpop`, `mtls`) as openid-client
// obtains and uses them (js/test/lib/pop-bot.mjs): the `cnf` oidc-provider puts in the tokens, the
// DPoP proofs openid-client sends to a resource server, and who the IdP gives mTLS-bound tokens to.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedJWK, calculateJwkThumbprint, decodeProtectedHeader, jwtVerify } from 'jose';
import { peek } from './lib/bot.mjs';
import { CLIENT_ID, MTLS_CLIENT_ID, MTLS_SAN_URI, RESOURCE, startIdp } from './lib/idp.mjs';
import { createPopBot } from './lib/pop-bot.mjs';
import { makeCa, makeCertificates, makeClientCertificate } from './lib/tls.mjs';

const sha256 = (text) => createHash('sha256').update(text).digest('base64url');
const now = () => Math.floor(Date.now() / 1000);

let dir;
let tls;
let idp;
let resource;
const seen = [];
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'edgeward-pop-idp-'));
  tls = makeCertificates(dir);
  idp = await startIdp({ alg: 'ES256', tls, dpop: true, mtls: true });
  // A resource server that records each request's headers.
  resource = http.createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, headers: req.headers });
    req.resume();
    req.on('end', () => res.end('{"ok":true}'));
  });
  await new Promise((ok) => resource.listen(0, '127.0.0.1', ok));
});
after(async () => {
  await idp?.stop();
  resource?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});
const resourceUrl = (path) => `http://127.0.0.1:${resource.address().port}${path}`;

test('DPoP: token_type DPoP, cnf.jkt the RFC 7638 thumbprint of the proof key, nothing else bound', async () => {
  const bot = await createPopBot({ idp, dpop: true });
  const response = await bot.grant();
  assert.equal(response.token_type.toLowerCase(), 'dpop');
  const { header, claims } = peek(response.access_token);
  assert.equal(header.typ, 'at+jwt');
  assert.deepEqual([claims.client_id, claims.aud, claims.scope], [CLIENT_ID, RESOURCE, 'read:orders']);
  assert.deepEqual(Object.keys(claims.cnf), ['jkt']);
  assert.equal(claims.cnf.jkt, await calculateJwkThumbprint(bot.dpop.publicJwk, 'sha256'));
  assert.equal(claims.cnf.jkt, bot.dpop.thumbprint);
  assert.equal(bot.dpop.publicJwk.d, undefined);
});

test('DPoP: the proofs openid-client sends with fetchProtectedResource (typ, alg, public jwk; htm, htu, ath, jti, iat)', async () => {
  const bot = await createPopBot({ idp, dpop: true, scope: 'read:orders write:orders' });
  const token = await bot.token();
  seen.length = 0;
  const before = now();
  const get = await bot.request(resourceUrl('/orders/7?page=2#top'));
  const post = await bot.request(resourceUrl('/orders'), { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
  const after = now();
  assert.deepEqual([get.status, post.status, seen.length], [200, 200, 2]);
  const proofs = [];
  for (const [i, { method, path }] of [{ method: 'GET', path: '/orders/7' }, { method: 'POST', path: '/orders' }].entries()) {
    const { headers } = seen[i];
    assert.ok(headers.authorization === `DPoP ${token}`, 'authorization: DPoP <token>');
    const proof = headers.dpop;
    const protectedHeader = decodeProtectedHeader(proof);
    assert.deepEqual(Object.keys(protectedHeader).sort(), ['alg', 'jwk', 'typ']);
    assert.deepEqual([protectedHeader.typ, protectedHeader.alg], ['dpop+jwt', 'ES256']);
    assert.deepEqual(Object.keys(protectedHeader.jwk).sort(), ['crv', 'kty', 'x', 'y'], 'the public key only');
    assert.equal(await calculateJwkThumbprint(protectedHeader.jwk), peek(token).claims.cnf.jkt);
    const { payload } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256'] });
    assert.deepEqual(Object.keys(payload).sort(), ['ath', 'htm', 'htu', 'iat', 'jti']);
    assert.equal(payload.htm, method);
    assert.equal(payload.htu, resourceUrl(path), 'htu: origin and path, no query or fragment');
    assert.equal(payload.ath, sha256(token), 'ath: base64url SHA-256 of the token');
    assert.ok(payload.iat >= before && payload.iat <= after, 'iat: now');
    assert.equal(typeof payload.jti, 'string');
    assert.ok(payload.jti.length >= 16);
    proofs.push({ proof, jti: payload.jti });
  }
  assert.notEqual(proofs[0].jti, proofs[1].jti, 'a new jti per request');
  assert.ok(bot.lastRequest.headers.dpop === proofs[1].proof, 'lastRequest keeps the proof sent');
});

test('mTLS: tls_client_auth with the SPIFFE certificate; cnf["x5t#S256"] is the certificate digest, token_type Bearer', async () => {
  const cert = makeClientCertificate(dir, tls, { name: 'billing', uriSans: [MTLS_SAN_URI] });
  const bot = await createPopBot({ idp, clientCert: cert });
  const response = await bot.grant();
  assert.equal(response.token_type.toLowerCase(), 'bearer');
  const { claims } = peek(response.access_token);
  assert.equal(claims.client_id, MTLS_CLIENT_ID);
  assert.deepEqual(claims.cnf, { 'x5t#S256': cert.x5tS256 });

  // The same subject with another key: a token bound to that certificate instead.
  const rekeyed = makeClientCertificate(dir, tls, { name: 'billing', uriSans: [MTLS_SAN_URI] });
  const other = peek((await (await createPopBot({ idp, clientCert: rekeyed })).grant()).access_token).claims;
  assert.deepEqual(other.cnf, { 'x5t#S256': rekeyed.x5tS256 });
  assert.notEqual(rekeyed.x5tS256, cert.x5tS256);

  // Resource requests present the certificate too (plain http here: Bearer, no proof).
  seen.length = 0;
  assert.equal((await bot.request(resourceUrl('/orders/7'))).status, 200);
  assert.ok(seen[0].headers.authorization === `Bearer ${await bot.token()}`);
  assert.equal(seen[0].headers.dpop, undefined);
});

test('mTLS: the IdP refuses a certificate of another CA, with another SPIFFE ID, or none (invalid_client)', async () => {
  const foreign = makeCa(dir, { name: 'untrusted CA', file: 'other-ca' });
  const cases = [
    makeClientCertificate(dir, foreign, { name: 'billing', uriSans: [MTLS_SAN_URI] }),
    makeClientCertificate(dir, tls, { name: 'billing', uriSans: ['spiffe://example.org/ns/bots/sa/other'] }),
    { cert: undefined, key: undefined },
  ];
  for (const clientCert of cases) {
    const bot = await createPopBot({ idp, clientCert, clientId: MTLS_CLIENT_ID });
    await assert.rejects(bot.grant(), (error) => error.error === 'invalid_client');
  }
});

test('DPoP and mTLS at once: refused by the IdP (invalid_request); the plain client still gets unbound tokens', async () => {
  const cert = makeClientCertificate(dir, tls, { name: 'billing', uriSans: [MTLS_SAN_URI] });
  const bot = await createPopBot({ idp, clientCert: cert, dpop: true });
  await assert.rejects(bot.grant(), (error) => error.error === 'invalid_request' && /multiple proof-of-possession/.test(error.error_description));
  assert.equal(peek(await idp.token()).claims.cnf, undefined);
});

test('an IdP without `dpop` ignores a DPoP proof: a Bearer token without cnf', async () => {
  const plain = await startIdp({ alg: 'ES256' });
  try {
    const response = await (await createPopBot({ idp: plain, dpop: true })).grant();
    assert.equal(response.token_type.toLowerCase(), 'bearer');
    assert.equal(peek(response.access_token).claims.cnf, undefined);
  } finally {
    await plain.stop();
  }
});
