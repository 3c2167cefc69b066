// js/test/lib/tls.mjs for mutual TLS: client certificates of the test CA (clientAuth, URI SANs,
// a new key per call or a given one), a second CA nobody trusts, and fetchTrusting presenting a
// client certificate to a node:https server that requires one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createHash, createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchTrusting, makeCa, makeCertificates, makeClientCertificate } from './lib/tls.mjs';

const SPIFFE = 'spiffe://example.org/ns/bots/sa/billing';
let dir;
let tls;
let other;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'edgeward-tls-lib-'));
  tls = makeCertificates(dir);
  other = makeCa(dir, { name: 'untrusted CA', file: 'other-ca' });
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('makeClientCertificate: a P-256 clientAuth certificate of the CA, with its URI SANs and digests', () => {
  const client = makeClientCertificate(dir, tls, { name: 'billing', uriSans: [SPIFFE, 'spiffe://example.org/extra'] });
  const x509 = new X509Certificate(client.cert);
  assert.equal(x509.subject, 'CN=billing');
  assert.equal(x509.issuer, 'CN=edgeward test CA');
  assert.ok(x509.verify(new X509Certificate(tls.ca).publicKey), 'signed by the test CA');
  assert.equal(x509.verify(new X509Certificate(other.ca).publicKey), false);
  assert.equal(x509.subjectAltName, `URI:${SPIFFE}, URI:spiffe://example.org/extra`);
  assert.deepEqual(x509.keyUsage, ['1.3.6.1.5.5.7.3.2'], 'extendedKeyUsage = clientAuth');
  assert.equal(x509.ca, false);
  assert.equal(x509.publicKey.asymmetricKeyDetails.namedCurve, 'prime256v1');
  assert.ok(x509.checkPrivateKey(createPrivateKey(client.key)));
  assert.ok(client.der.equals(x509.raw));
  const digest = createHash('sha256').update(x509.raw).digest();
  assert.equal(client.x5tS256, digest.toString('base64url'));
  assert.equal(client.sha256Hex, digest.toString('hex'));
  assert.equal(client.sha256Hex, x509.fingerprint256.replaceAll(':', '').toLowerCase());
  assert.equal(new X509Certificate(makeClientCertificate(dir, tls, { name: 'no-san' }).cert).subjectAltName, undefined);
});

test('the same subject again has another key (and digest); `key` reuses one', () => {
  const first = makeClientCertificate(dir, tls, { name: 'billing', uriSans: [SPIFFE] });
  const again = makeClientCertificate(dir, tls, { name: 'billing', uriSans: [SPIFFE] });
  const sameKey = makeClientCertificate(dir, tls, { name: 'billing', uriSans: [SPIFFE], key: first.key });
  const spki = (c) => new X509Certificate(c.cert).publicKey.export({ format: 'der', type: 'spki' });
  assert.equal(new X509Certificate(again.cert).subject, new X509Certificate(first.cert).subject);
  assert.equal(new X509Certificate(again.cert).subjectAltName, new X509Certificate(first.cert).subjectAltName);
  assert.equal(spki(again).equals(spki(first)), false, 'a new key');
  assert.ok(spki(sameKey).equals(spki(first)), 'the given key');
  assert.equal(new Set([first.x5tS256, again.x5tS256, sameKey.x5tS256]).size, 3, 'three certificates, three digests');
  assert.equal(new X509Certificate(makeClientCertificate(dir, other, { name: 'billing' }).cert).issuer, 'CN=untrusted CA');
  assert.throws(() => makeClientCertificate(dir, tls, { name: 'a/b' }), RangeError);
  assert.throws(() => makeClientCertificate(dir, tls, { name: 'x', uriSans: ['spiffe://a, DNS:evil'] }), RangeError);
});

test('fetchTrusting(tls, client) presents the certificate to a server requiring one; without it, or from another CA, it is refused', async () => {
  const server = https.createServer({ cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    res.end(req.socket.getPeerCertificate().subject?.CN ?? '');
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const url = `https://127.0.0.1:${server.address().port}/`;
  try {
    const client = makeClientCertificate(dir, tls, { name: 'billing', uriSans: [SPIFFE] });
    const res = await fetchTrusting(tls, client)(url);
    assert.deepEqual([res.status, await res.text()], [200, 'billing']);
    await assert.rejects(fetchTrusting(tls)(url), 'no client certificate');
    await assert.rejects(fetchTrusting(tls, makeClientCertificate(dir, other, { name: 'billing' }))(url), 'a client certificate of another CA');
  } finally {
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
  }
});
