// A real Envoy 1.40 with a TLS listener (harness `tls`, `requestTls`) in front of the echo
// upstream, no wasm filter: client certificates of the test CA are required and verified.
//
// How Envoy exposes the client certificate: the proof-of-possession filter reads the wasm
// properties `connection.sha256_peer_certificate_digest` (lowercase hex SHA-256 of the
// certificate's DER; RFC 8705's x5t#S256 is the same digest in base64url),
// `connection.uri_san_peer_certificate` (the FIRST URI SAN only) and `connection.mtls` (whether
// the client presented a certificate). Wasm properties and CEL attributes are one implementation
// in Envoy, so they are checked here without wasm by an RBAC filter whose CEL condition compares
// them with what the test expects. The same TLS connection info also gives the
// `x-forwarded-client-cert` header (forward_client_cert_details SANITIZE_SET,
// set_current_client_cert_details uri + cert: `Hash=<hex sha256>;Cert="<url-encoded PEM>";URI=<san>`,
// one URI= per URI SAN) and the formatters %DOWNSTREAM_PEER_FINGERPRINT_256% and
// %DOWNSTREAM_PEER_URI_SAN% (every URI SAN, comma-separated). A client's own XFCC header is
// dropped (SANITIZE_SET); without a certificate none is set. A missing client certificate, or one
// of another CA, fails the handshake: no HTTP request reaches any filter.
// Last, openid-client bots (js/test/lib/pop-bot.mjs) call through it with mTLS-bound and DPoP tokens.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { envoyConfig, rbacFilter, requestTls, startEchoUpstream, startEnvoy, stopAll } from './lib/harness.mjs';
import { makeCa, makeCertificates, makeClientCertificate } from '../../js/test/lib/tls.mjs';
import { CLIENT_ID, MTLS_SAN_URI, startIdp } from '../../js/test/lib/idp.mjs';
import { createPopBot } from '../../js/test/lib/pop-bot.mjs';
import { peek } from '../../js/test/lib/bot.mjs';

const SPIFFE = MTLS_SAN_URI;

/** The x-forwarded-client-cert elements of one certificate (no commas: one hop). */
function parseXfcc(value) {
  const out = {};
  for (const part of value.split(';')) {
    const at = part.indexOf('=');
    const name = part.slice(0, at);
    const raw = part.slice(at + 1);
    const text = raw.startsWith('"') ? raw.slice(1, -1) : raw;
    (out[name] ??= []).push(name === 'Cert' ? decodeURIComponent(text) : text);
  }
  return out;
}

let dir;
let tls;
let other;
const things = [];
let upstream;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'edgeward-tls-listener-'));
  tls = makeCertificates(dir);
  other = makeCa(dir, { name: 'untrusted CA', file: 'other-ca' });
  upstream = await startEchoUpstream();
  things.push(upstream);
});
after(async () => {
  await stopAll(things);
  rmSync(dir, { recursive: true, force: true });
});

// CEL, as the parsed expressions RBAC takes (google.api.expr.v1alpha1.Expr).
const ident = (name) => ({ ident_expr: { name } });
const select = (operand, field) => ({ select_expr: { operand, field } });
const call = (fn, ...args) => ({ call_expr: { function: fn, args } });
const attribute = (path) => path.split('.').slice(1).reduce((operand, field) => select(operand, field), ident(path.split('.')[0]));
const header = (name) => call('_[_]', attribute('request.headers'), { const_expr: { string_value: name } });

/**
 * RBAC allowing a request only if `connection.mtls`, and `connection.uri_san_peer_certificate` /
 * `connection.sha256_peer_certificate_digest` equal its x-expect-uri / x-expect-sha256 headers.
 */
const propertyCheck = rbacFilter({
  'peer-properties': {
    permissions: [{ any: true }],
    principals: [{ any: true }],
    condition: call('_&&_',
      call('_&&_', attribute('connection.mtls'), call('_==_', attribute('connection.uri_san_peer_certificate'), header('x-expect-uri'))),
      call('_==_', attribute('connection.sha256_peer_certificate_digest'), header('x-expect-sha256'))),
  },
});

async function startTlsEnvoy(requireClientCert, afterFilter = []) {
  const envoy = await startEnvoy(envoyConfig({
    upstreamPort: upstream.port,
    wasm: null,
    afterFilter,
    tls: { cert: tls.cert, key: tls.key, ca: tls.ca, requireClientCert },
    forwardClientCert: true,
    routeHeaders: { 'x-peer-sha256': '%DOWNSTREAM_PEER_FINGERPRINT_256%', 'x-peer-uri-san': '%DOWNSTREAM_PEER_URI_SAN%' },
  }), { concurrency: 1 });
  things.push(envoy);
  return envoy;
}

describe('Envoy TLS listener requiring client certificates', () => {
  let envoy;
  before(async () => { envoy = await startTlsEnvoy(true); });
  const call = (client, options = {}) => requestTls(envoy, '/orders/7', { ca: tls.ca, cert: client?.cert, key: client?.key, ...options });

  test('a client certificate of the CA: 200; the upstream sees its SHA-256 (Hash) and SPIFFE ID (URI)', async () => {
    assert.match(envoy.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const client = makeClientCertificate(dir, tls, { name: 'billing', uriSans: [SPIFFE] });
    // A client's own XFCC header is replaced, not passed on.
    const res = await call(client, { headers: { 'x-forwarded-client-cert': 'Hash=0000;URI=spiffe://example.org/ns/bots/sa/admin' } });
    assert.equal(res.status, 200);
    const seen = res.json.headers;
    const xfcc = parseXfcc(seen['x-forwarded-client-cert']);
    assert.deepEqual(Object.keys(xfcc).sort(), ['Cert', 'Hash', 'URI']);
    assert.deepEqual(xfcc.Hash, [client.sha256Hex]);
    assert.deepEqual(xfcc.URI, [SPIFFE]);
    assert.equal(xfcc.Cert[0].trim(), client.cert.trim());
    assert.equal(seen['x-peer-sha256'], client.sha256Hex);
    assert.equal(seen['x-peer-uri-san'], SPIFFE);
    assert.equal(Buffer.from(client.sha256Hex, 'hex').toString('base64url'), client.x5tS256, 'hex and x5t#S256: one digest');
  });

  test('the same subject with another key is accepted too, with its own digest (binding is the token\'s job)', async () => {
    const first = makeClientCertificate(dir, tls, { name: 'billing', uriSans: [SPIFFE] });
    const second = makeClientCertificate(dir, tls, { name: 'billing', uriSans: [SPIFFE] });
    const hashes = [];
    for (const client of [first, second]) {
      const res = await call(client);
      assert.equal(res.status, 200);
      hashes.push(parseXfcc(res.json.headers['x-forwarded-client-cert']).Hash[0]);
    }
    assert.deepEqual(hashes, [first.sha256Hex, second.sha256Hex]);
    assert.notEqual(hashes[0], hashes[1]);
  });

  test('two URI SANs: XFCC names both, the formatter joins them (the wasm property has the first only)', async () => {
    const client = makeClientCertificate(dir, tls, { name: 'billing', uriSans: [SPIFFE, 'spiffe://example.org/ns/bots/sa/admin'] });
    const res = await call(client);
    assert.equal(res.status, 200);
    assert.deepEqual(parseXfcc(res.json.headers['x-forwarded-client-cert']).URI, [SPIFFE, 'spiffe://example.org/ns/bots/sa/admin']);
    assert.equal(res.json.headers['x-peer-uri-san'], `${SPIFFE},spiffe://example.org/ns/bots/sa/admin`);
  });

  test('no client certificate, or one of another CA: the TLS handshake is refused', async () => {
    await assert.rejects(call(undefined), (error) => error.code === 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
    const foreign = makeClientCertificate(dir, other, { name: 'billing', uriSans: [SPIFFE] });
    await assert.rejects(call(foreign), (error) => error.code === 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA');
    assert.equal((await call(makeClientCertificate(dir, tls, { name: 'billing' }))).status, 200, 'and Envoy still serves');
  });
});

describe('Envoy TLS listener with requireClientCert: false', () => {
  test('no client certificate: 200 without x-forwarded-client-cert; one of the CA: 200 with it', async () => {
    const envoy = await startTlsEnvoy(false);
    const none = await requestTls(envoy, '/orders/7', { ca: tls.ca, headers: { 'x-forwarded-client-cert': 'Hash=0000' } });
    assert.equal(none.status, 200);
    assert.equal(none.json.headers['x-forwarded-client-cert'], undefined);
    assert.equal(none.json.headers['x-peer-sha256'], undefined, 'the formatter gives nothing: no header');
    const client = makeClientCertificate(dir, tls, { name: 'billing', uriSans: [SPIFFE] });
    const res = await requestTls(envoy, '/orders/7', { ca: tls.ca, cert: client.cert, key: client.key });
    assert.deepEqual(parseXfcc(res.json.headers['x-forwarded-client-cert']).Hash, [client.sha256Hex]);
  });
});

describe('the connection.* properties the wasm filter will read (CEL in RBAC: the same attributes)', () => {
  let envoy;
  before(async () => { envoy = await startTlsEnvoy(true, [propertyCheck]); });
  const call = (client, expect) => requestTls(envoy, '/orders/7', {
    ca: tls.ca, cert: client.cert, key: client.key, headers: { 'x-expect-uri': expect.uri, 'x-expect-sha256': expect.sha256 },
  });

  test('connection.sha256_peer_certificate_digest is sha256Hex; connection.uri_san_peer_certificate the first URI SAN', async () => {
    const client = makeClientCertificate(dir, tls, { name: 'billing', uriSans: [SPIFFE, 'spiffe://example.org/ns/bots/sa/admin'] });
    const rekeyed = makeClientCertificate(dir, tls, { name: 'billing', uriSans: [SPIFFE, 'spiffe://example.org/ns/bots/sa/admin'] });
    assert.equal((await call(client, { uri: SPIFFE, sha256: client.sha256Hex })).status, 200);
    assert.equal((await call(client, { uri: SPIFFE, sha256: client.sha256Hex.toUpperCase() })).status, 403, 'lowercase hex');
    assert.equal((await call(client, { uri: SPIFFE, sha256: rekeyed.sha256Hex })).status, 403, 'another certificate\'s digest');
    assert.equal((await call(client, { uri: 'spiffe://example.org/ns/bots/sa/admin', sha256: client.sha256Hex })).status, 403, 'not the second SAN');
    assert.equal((await call(rekeyed, { uri: SPIFFE, sha256: rekeyed.sha256Hex })).status, 200);
  });
});

describe('openid-client bots through the TLS listener (js/test/lib/pop-bot.mjs)', () => {
  let envoy;
  let idp;
  before(async () => {
    envoy = await startTlsEnvoy(true);
    idp = await startIdp({ alg: 'ES256', tls, dpop: true, mtls: true });
    things.push(idp);
  });

  test('an mTLS-bound token and the same certificate: the x5t#S256 in cnf is the Hash Envoy forwards', async () => {
    const cert = makeClientCertificate(dir, tls, { name: 'billing', uriSans: [SPIFFE] });
    const bot = await createPopBot({ idp, clientCert: cert });
    const res = await bot.request(`${envoy.url}/orders/7`);
    assert.equal(res.status, 200);
    const hash = parseXfcc(res.json.headers['x-forwarded-client-cert']).Hash[0];
    assert.equal(Buffer.from(hash, 'hex').toString('base64url'), peek(res.token).claims.cnf['x5t#S256']);
    assert.ok(res.json.headers.authorization === `Bearer ${res.token}`);
  });

  test('a DPoP bot (with a client certificate for the listener): the proof reaches the upstream, htu the listener URL', async () => {
    const cert = makeClientCertificate(dir, tls, { name: 'billing', uriSans: [SPIFFE] });
    // The plain client (client_secret_basic) for a DPoP token; the certificate only opens the listener.
    const bot = await createPopBot({ idp, clientCert: cert, clientId: CLIENT_ID, dpop: true });
    const res = await bot.request(`${envoy.url}/orders/7?x=1`, { method: 'POST' });
    assert.equal(res.status, 200);
    const seen = res.json.headers;
    assert.ok(seen.authorization === `DPoP ${res.token}`);
    assert.ok(seen.dpop === bot.lastRequest.headers.dpop, 'the proof as sent');
    const claims = JSON.parse(Buffer.from(seen.dpop.split('.')[1], 'base64url'));
    assert.deepEqual([claims.htm, claims.htu], ['POST', `${envoy.url}/orders/7`]);
    assert.equal(peek(res.token).claims.cnf.jkt, bot.dpop.thumbprint);
  });
});
