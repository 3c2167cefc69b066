// Proof of possession in a real Envoy 1.40 (docs/policy.md, "Proof of possession"; the core's
// cases are tests/pop.rs): a TLS listener requiring client certificates of a CA made at test
// time, the edgeward filter, a policy with inline keys, and tokens minted here with `cnf`.
//
// - DPoP (RFC 9449): proofs made by hand (tests/fixtures/dpop.mjs). node:https sends
//   `Host: 127.0.0.1:<port>` (the port, as it is not 443), and Envoy hands the filter that as
//   `:authority` and `https` as `:scheme` (the listener's transport): a proof's `htu` is
//   `https://127.0.0.1:<port>/path`, exactly the URL the client used.
// - Replays across workers: Envoy (`--concurrency 2`) balances connections over its workers,
//   and every request here is a new connection. The worker that took each connection is read
//   from the listener's per-worker counters (`listener.<address>.worker_<n>.downstream_cx_total`),
//   so the test knows, and asserts, that replays met the other worker than the first use.
// - Client certificates: `cnf["x5t#S256"]` against `connection.sha256_peer_certificate_digest`,
//   `requires.peers` and `bind_subject_to_peer` against `connection.uri_san_peer_certificate`.
//   A policy that may need them reads them for every request; one that never does (every
//   provider `proof_of_possession: "none"`, no peers, no bind) reads them only after the core
//   refused a certificate-bound token for want of a certificate (filter.rs, the late read).
// No token, proof or key is printed: assertion messages name cases, never values.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  envoyConfig, makeKey, metrics, mint, nowSeconds, requestTls, startEchoUpstream, startEnvoy, stopAll, until,
} from './lib/harness.mjs';
import { makeCertificates, makeClientCertificate } from '../../js/test/lib/tls.mjs';
import { ath, dpopKey, makeHs256Proof, makeProof } from '../../tests/fixtures/dpop.mjs';

const AUDIENCE = 'orders-api';
const BILLING = 'spiffe://example.org/ns/bots/sa/billing';
const AUDIT = 'spiffe://example.org/ns/bots/sa/audit';
const DPOP_CHALLENGE = 'DPoP realm="edgeward", error="invalid_dpop_proof", algs="ES256"';
const DPOP_TOKEN_CHALLENGE = 'DPoP realm="edgeward", error="invalid_token", algs="ES256"';
const BEARER_TOKEN_CHALLENGE = 'Bearer realm="edgeward", error="invalid_token"';

const idpKey = makeKey('k1');
const jwks = { keys: [idpKey.jwk] };
const provider = (issuer, extra = {}) => ({
  issuer, audiences: [AUDIENCE], algorithms: ['ES256'], local_jwks: jwks,
  claim_to_headers: [{ claim_name: 'sub', header_name: 'x-bot-id' }], ...extra,
});
const ISSUERS = { idp: 'https://idp.test', mtls: 'https://mtls.test', dpop: 'https://dpop.test', peer: 'https://peer.test' };

/** Reads client certificates up front: a `proof_of_possession: "mtls"` provider, peers, a bound subject. */
const EARLY_POLICY = {
  providers: {
    idp: provider(ISSUERS.idp),
    mtls: provider(ISSUERS.mtls, { proof_of_possession: 'mtls' }),
    dpop: provider(ISSUERS.dpop, { proof_of_possession: 'dpop' }),
    peer: provider(ISSUERS.peer, { bind_subject_to_peer: true }),
  },
  rules: [
    { match: { prefix: '/orders', methods: ['GET'] }, requires: { provider_name: 'idp', scopes: ['read:orders'] } },
    { match: { prefix: '/orders' }, requires: { provider_name: 'idp', scopes: ['write:orders'] } },
    { match: { prefix: '/peers' }, requires: { provider_name: 'idp', peers: [BILLING] } },
    { match: { prefix: '/mtls-only' }, requires: { provider_name: 'mtls' } },
    { match: { prefix: '/dpop-only' }, requires: { provider_name: 'dpop' } },
    { match: { prefix: '/bound' }, requires: { provider_name: 'peer' } },
  ],
};
/** `proof_of_possession: "none"` everywhere, no peers, no bound subject: certificates are read late. */
const LATE_POLICY = {
  providers: { idp: provider(ISSUERS.idp) },
  rules: [{ match: { prefix: '/orders' }, requires: { provider_name: 'idp', scopes: ['read:orders'] } }],
};

const claims = (extra = {}) => ({
  iss: ISSUERS.idp, aud: AUDIENCE, sub: 'bot-7', iat: nowSeconds(), exp: nowSeconds() + 300, scope: 'read:orders write:orders', ...extra,
});
const token = (extra = {}) => mint(idpKey, claims(extra));
const bot = dpopKey('ES256');
const dpopToken = (extra = {}) => token({ cnf: { jkt: bot.jkt }, ...extra });
/** A proof of `bot` for `method` `url` carrying `ath` of `tok`; `over` replaces any makeProof option. */
const proofFor = (tok, method, url, over = {}) => makeProof({ key: bot.privateKey, jwk: bot.jwk, htm: method, htu: url, token: tok, ...over });

let dir;
let tls;
let upstream;
const things = [];
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'edgeward-pop-'));
  tls = makeCertificates(dir);
  upstream = await startEchoUpstream();
  things.push(upstream);
});
after(async () => {
  await stopAll(things);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const client = (name, uriSans = [], key = undefined) => makeClientCertificate(dir, tls, { name, uriSans, key });

async function startTlsEnvoy(policy, { concurrency }) {
  const envoy = await startEnvoy(envoyConfig({
    upstreamPort: upstream.port, policy, tls: { cert: tls.cert, key: tls.key, ca: tls.ca },
  }), { concurrency });
  things.push(envoy);
  return envoy;
}

/**
 * One request on a new TLS connection: `scheme` + `tok` in `authorization` (if given), `dpop`: a
 * proof or an array of them (each its own header line), `cert`: the client certificate.
 */
function call(envoy, path, { method = 'GET', scheme = 'DPoP', tok, dpop, cert, headers = {} } = {}) {
  const sent = { ...headers };
  if (tok !== undefined) sent.authorization = `${scheme} ${tok}`;
  if (dpop !== undefined) sent.dpop = dpop;
  return requestTls(envoy, path, { method, headers: sent, ca: tls.ca, cert: cert.cert, key: cert.key });
}

/** Refusals asserted so far per Envoy, by code: compared with the per-code metrics at the end. */
const refusals = new Map();
function refused(envoy, res, status, code, challenge, what) {
  // Never the body of an unexpected 200: the echo upstream would show the proof.
  assert.equal(res.status, status, `${what}: status (${res.status === 200 ? 'let through' : res.json?.code})`);
  assert.equal(res.json?.code, code, `${what}: code`);
  if (challenge !== undefined) assert.equal(res.headers.get('www-authenticate'), challenge, `${what}: www-authenticate`);
  const counts = refusals.get(envoy) ?? {};
  counts[code] = (counts[code] ?? 0) + 1;
  refusals.set(envoy, counts);
}
const metricName = (code) => `edgeward_denied_${code.replace(/^ERR_/, '').toLowerCase()}`;
/** Every per-code counter is what the test asserted (request counters are added at each 500 ms tick). */
async function checkCounted(envoy) {
  const expected = refusals.get(envoy) ?? {};
  const codes = ['ERR_POP_MISSING', 'ERR_MTLS_BINDING_MISMATCH', 'ERR_DPOP_PROOF_INVALID', 'ERR_DPOP_REPLAYED', 'ERR_PEER_DENIED', 'ERR_REPLAY_STORE_UNAVAILABLE'];
  const seen = (m) => Object.fromEntries(codes.map((code) => [code, m[metricName(code)] ?? 0]));
  const want = Object.fromEntries(codes.map((code) => [code, expected[code] ?? 0]));
  const total = Object.values(expected).reduce((a, b) => a + b, 0);
  await until(async () => {
    const m = await metrics(envoy);
    return JSON.stringify(seen(m)) === JSON.stringify(want) && m.edgeward_requests_denied === total;
  }, { what: 'per-code refusal counters', timeoutMs: 5000 });
}

/** The listener's connections per worker: { worker_0: n, worker_1: m }. */
async function connectionsPerWorker(envoy) {
  const text = await (await fetch(`${envoy.adminUrl}/stats?filter=${encodeURIComponent('^listener\\..*\\.worker_\\d+\\.downstream_cx_total$')}`)).text();
  const out = {};
  for (const line of text.split('\n')) {
    const m = line.match(/\.(worker_\d+)\.downstream_cx_total: (\d+)$/);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}
/** `send()` (one request on one new connection), and the worker that took the connection. */
async function onWhichWorker(envoy, send) {
  const before = await connectionsPerWorker(envoy);
  const res = await send();
  const after = await connectionsPerWorker(envoy);
  const moved = Object.keys(after).filter((w) => after[w] !== before[w]);
  assert.equal(moved.length, 1, 'one new connection on one worker');
  return { res, worker: moved[0] };
}

/** DPoP proof ids as the core makes them (src/pop.rs): SHA-256 of `thumbprint.jti`, first 16 bytes; the bucket is its first 8 bytes mod 16,384 (edgeward::replay::DEFAULT_BUCKETS). */
function replayBucket(jkt, jti) {
  const id = createHash('sha256').update(`${jkt}.${jti}`).digest();
  return Number(id.readBigUInt64BE(0) % 16384n);
}

describe('proof of possession in Envoy: TLS listener, client certificates required, --concurrency 2', () => {
  let envoy;
  let url;
  let cert;
  before(async () => {
    envoy = await startTlsEnvoy(EARLY_POLICY, { concurrency: 2 });
    url = (path) => `${envoy.url}${path}`;
    cert = client('billing', [BILLING]);
  });

  describe('DPoP', () => {
    test('a valid proof: 200, the htu is https://127.0.0.1:<port>/path (Envoy\'s :scheme and :authority)', async () => {
      assert.match(envoy.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const tok = dpopToken({ sub: 'bot-42' });
      const res = await call(envoy, '/orders/1?page=2', { tok, dpop: proofFor(tok, 'GET', url('/orders/1')), cert });
      assert.equal(res.status, 200, res.text);
      const seen = res.json.headers;
      assert.equal(seen.host, new URL(envoy.url).host, 'the authority: 127.0.0.1:<port>');
      assert.equal(seen['x-bot-id'], 'bot-42');
      assert.equal(seen.authorization, undefined, 'the token is not forwarded');
      // The same URL spelled another way (RFC 9449 §4.3: scheme and host case-insensitive, no query).
      const variants = [url('/orders/1').replace('https://', 'HTTPS://'), `${url('/orders/1')}?other=1`];
      for (const htu of variants) {
        assert.equal((await call(envoy, '/orders/1', { tok, dpop: proofFor(tok, 'GET', htu), cert })).status, 200, 'htu variant');
      }
      // A POST with its own proof reaches the write rule.
      const post = await call(envoy, '/orders', { method: 'POST', tok, dpop: proofFor(tok, 'POST', url('/orders')), cert });
      assert.equal(post.status, 200, post.text);
    });

    test('the same proof again: 401 ERR_DPOP_REPLAYED', async () => {
      const tok = dpopToken();
      const proof = proofFor(tok, 'GET', url('/orders/1'));
      assert.equal((await call(envoy, '/orders/1', { tok, dpop: proof, cert })).status, 200);
      for (let i = 0; i < 3; i += 1) {
        refused(envoy, await call(envoy, '/orders/1', { tok, dpop: proof, cert }), 401, 'ERR_DPOP_REPLAYED', DPOP_CHALLENGE, 'replay');
      }
      // The replay with another client certificate, or with the query changed: still the same proof.
      refused(envoy, await call(envoy, '/orders/1?x=1', { tok, dpop: proof, cert: client('billing', [BILLING]) }), 401, 'ERR_DPOP_REPLAYED', DPOP_CHALLENGE, 'replay, other connection details');
    });

    test('replays across workers: 20 proofs, each first use 200 and its replay 401, replays meeting the other worker', async () => {
      const tok = dpopToken();
      const placements = [];
      let crossed = 0;
      for (let i = 0; i < 40 && (placements.length < 20 || crossed < 5); i += 1) {
        const proof = proofFor(tok, 'GET', url('/orders/1'));
        const first = await onWhichWorker(envoy, () => call(envoy, '/orders/1', { tok, dpop: proof, cert }));
        assert.equal(first.res.status, 200, `proof ${i}: first use`);
        const replay = await onWhichWorker(envoy, () => call(envoy, '/orders/1', { tok, dpop: proof, cert }));
        refused(envoy, replay.res, 401, 'ERR_DPOP_REPLAYED', DPOP_CHALLENGE, `proof ${i}: replay`);
        placements.push([first.worker, replay.worker]);
        if (first.worker !== replay.worker) crossed += 1;
      }
      const workers = new Set(placements.flat());
      console.log(`# ${placements.length} proofs: ${crossed} replays on the other worker than the first use; workers seen: ${[...workers].sort().join(', ')}`);
      assert.equal(workers.size, 2, 'both workers took connections');
      assert.ok(crossed >= 5, `at least 5 replays met the other worker (${crossed})`);
    });

    test('replays in parallel: one proof on 8 new connections at once, 10 times: exactly one 200 each', async () => {
      const tok = dpopToken();
      const before = await connectionsPerWorker(envoy);
      for (let round = 0; round < 10; round += 1) {
        const proof = proofFor(tok, 'GET', url('/orders/1'));
        const answers = await Promise.all(Array.from({ length: 8 }, () => call(envoy, '/orders/1', { tok, dpop: proof, cert })));
        assert.equal(answers.filter((r) => r.status === 200).length, 1, `round ${round}: accepted once`);
        for (const res of answers.filter((r) => r.status !== 200)) refused(envoy, res, 401, 'ERR_DPOP_REPLAYED', DPOP_CHALLENGE, `round ${round}`);
      }
      const after = await connectionsPerWorker(envoy);
      const per = Object.keys(after).map((w) => after[w] - (before[w] ?? 0));
      console.log(`# parallel replays: connections per worker ${per.join(' / ')}`);
      assert.ok(per.filter((n) => n > 0).length === 2, 'both workers took some of the 80 connections');
    });

    test('every broken proof: 401 ERR_DPOP_PROOF_INVALID with the DPoP challenge', async () => {
      const tok = dpopToken();
      const here = url('/orders/1');
      const other = dpopKey('ES256');
      const privateJwk = { ...bot.privateKey.export({ format: 'jwk' }) };
      const port = new URL(envoy.url).port;
      const flipped = (() => {
        const [h, c, s] = proofFor(tok, 'GET', here).split('.');
        const sig = Buffer.from(s, 'base64url');
        sig[10] ^= 1;
        return `${h}.${c}.${sig.toString('base64url')}`;
      })();
      const cases = [
        ['another method (htm POST)', proofFor(tok, 'POST', here)],
        ['htm lowercase', proofFor(tok, 'get', here)],
        ['another path', proofFor(tok, 'GET', url('/orders/2'))],
        ['another host (localhost)', proofFor(tok, 'GET', `https://localhost:${port}/orders/1`)],
        ['another port', proofFor(tok, 'GET', `https://127.0.0.1:${Number(port) === 65535 ? 1 : Number(port) + 1}/orders/1`)],
        ['http instead of https', proofFor(tok, 'GET', here.replace('https:', 'http:'))],
        ['no htu', proofFor(tok, 'GET', here, { omit: ['htu'] })],
        ['private jwk in the header', proofFor(tok, 'GET', here, { jwk: privateJwk })],
        ['HS256 proof', makeHs256Proof({ htm: 'GET', htu: here, token: tok })],
        ['HS256 with the bound public jwk', makeHs256Proof({ jwk: bot.jwk, htm: 'GET', htu: here, token: tok })],
        ['ES384 (not in dpop_algorithms)', (() => { const k = dpopKey('ES384'); return makeProof({ key: k.privateKey, alg: 'ES384', htm: 'GET', htu: here, token: tok }); })()],
        ['alg none', makeProof({ jwk: bot.jwk, alg: 'none', htm: 'GET', htu: here, token: tok })],
        ['iat 400 s old', proofFor(tok, 'GET', here, { iat: nowSeconds() - 400 })],
        ['iat 120 s ahead', proofFor(tok, 'GET', here, { iat: nowSeconds() + 120 })],
        ['no iat', proofFor(tok, 'GET', here, { omit: ['iat'] })],
        ['no ath', proofFor(tok, 'GET', here, { omit: ['ath'] })],
        ['ath of another token', proofFor(tok, 'GET', here, { ath: ath(dpopToken({ sub: 'someone-else' })) })],
        ['proof key is not cnf.jkt', makeProof({ key: other.privateKey, jwk: other.jwk, htm: 'GET', htu: here, token: tok })],
        ['signed by another key than its jwk', makeProof({ key: other.privateKey, jwk: bot.jwk, htm: 'GET', htu: here, token: tok })],
        ['flipped signature', flipped],
        ['DER signature', proofFor(tok, 'GET', here, { dsaEncoding: 'der' })],
        ['typ JWT', proofFor(tok, 'GET', here, { typ: 'JWT' })],
        ['no typ', proofFor(tok, 'GET', here, { omit: ['typ'] })],
        ['no jwk', proofFor(tok, 'GET', here, { omit: ['jwk'] })],
        ['no jti', proofFor(tok, 'GET', here, { omit: ['jti'] })],
        ['jti of 257 bytes', proofFor(tok, 'GET', here, { jti: 'x'.repeat(257) })],
        ['not a JWS', 'a.b'],
      ];
      for (const [what, dpop] of cases) {
        refused(envoy, await call(envoy, '/orders/1', { tok, dpop, cert }), 401, 'ERR_DPOP_PROOF_INVALID', DPOP_CHALLENGE, what);
      }
      // Inside the window: fine (max age 300 s and clock skew 30 s by default).
      for (const iat of [nowSeconds() - 250, nowSeconds() + 20]) {
        assert.equal((await call(envoy, '/orders/1', { tok, dpop: proofFor(tok, 'GET', here, { iat }), cert })).status, 200, 'iat inside the window');
      }
      // An unbound token with the DPoP scheme and a proof.
      const plain = token();
      refused(envoy, await call(envoy, '/orders/1', { tok: plain, dpop: proofFor(plain, 'GET', here), cert }), 401, 'ERR_DPOP_PROOF_INVALID', DPOP_CHALLENGE, 'unbound token, DPoP scheme');
    });

    test('two DPoP headers: refused, and neither proof is recorded', async () => {
      const tok = dpopToken();
      const proofs = [proofFor(tok, 'GET', url('/orders/1')), proofFor(tok, 'GET', url('/orders/1'))];
      refused(envoy, await call(envoy, '/orders/1', { tok, dpop: proofs, cert }), 401, 'ERR_DPOP_PROOF_INVALID', DPOP_CHALLENGE, 'two headers');
      assert.equal((await call(envoy, '/orders/1', { tok, dpop: proofs[0], cert })).status, 200);
      assert.equal((await call(envoy, '/orders/1', { tok, dpop: proofs[1], cert })).status, 200);
    });

    test('a DPoP-bound token without its proof: 401 ERR_POP_MISSING (as Bearer, even with a proof beside it; DPoP scheme, no header)', async () => {
      const tok = dpopToken();
      const proof = proofFor(tok, 'GET', url('/orders/1'));
      refused(envoy, await call(envoy, '/orders/1', { scheme: 'Bearer', tok, cert }), 401, 'ERR_POP_MISSING', DPOP_TOKEN_CHALLENGE, 'as Bearer');
      refused(envoy, await call(envoy, '/orders/1', { scheme: 'Bearer', tok, dpop: proof, cert }), 401, 'ERR_POP_MISSING', DPOP_TOKEN_CHALLENGE, 'as Bearer with a proof');
      refused(envoy, await call(envoy, '/orders/1', { tok, cert }), 401, 'ERR_POP_MISSING', DPOP_TOKEN_CHALLENGE, 'DPoP scheme, no proof');
      // A token bound some other way (cnf.jwk) is never a bearer token either.
      refused(envoy, await call(envoy, '/orders/1', { scheme: 'Bearer', tok: token({ cnf: { jwk: bot.jwk } }), cert }), 401, 'ERR_POP_MISSING', undefined, 'cnf.jwk');
      // The proof that came beside the Bearer token was not recorded: it still works.
      assert.equal((await call(envoy, '/orders/1', { tok, dpop: proof, cert })).status, 200);
    });
  });

  describe('certificate-bound tokens (cnf["x5t#S256"])', () => {
    test('with that certificate: 200; another certificate, or the same subject with another key: 401 ERR_MTLS_BINDING_MISMATCH', async () => {
      const a = client('billing', [BILLING]);
      const b = client('audit', [AUDIT]);
      const rekeyed = client('billing', [BILLING]);
      const tok = token({ cnf: { 'x5t#S256': a.x5tS256 } });
      const ok = await call(envoy, '/orders/1', { scheme: 'Bearer', tok, cert: a });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.json.headers['x-bot-id'], 'bot-7');
      refused(envoy, await call(envoy, '/orders/1', { scheme: 'Bearer', tok, cert: b }), 401, 'ERR_MTLS_BINDING_MISMATCH', BEARER_TOKEN_CHALLENGE, 'cert B');
      refused(envoy, await call(envoy, '/orders/1', { scheme: 'Bearer', tok, cert: rekeyed }), 401, 'ERR_MTLS_BINDING_MISMATCH', BEARER_TOKEN_CHALLENGE, 'same subject, other key');
      // The certificate's own key re-certified (same key, new serial): another DER, another digest.
      const reissued = client('billing', [BILLING], a.key);
      assert.notEqual(reissued.x5tS256, a.x5tS256);
      refused(envoy, await call(envoy, '/orders/1', { scheme: 'Bearer', tok, cert: reissued }), 401, 'ERR_MTLS_BINDING_MISMATCH', BEARER_TOKEN_CHALLENGE, 'same key, reissued');
    });

    test('proof_of_possession: "mtls": an unbound token, or a DPoP-bound one with its proof: 401 ERR_POP_MISSING; the bound one: 200', async () => {
      const a = client('billing', [BILLING]);
      const iss = ISSUERS.mtls;
      const res = await call(envoy, '/mtls-only', { scheme: 'Bearer', tok: token({ iss }), cert: a });
      refused(envoy, res, 401, 'ERR_POP_MISSING', BEARER_TOKEN_CHALLENGE, 'unbound under mtls');
      const dpop = dpopToken({ iss });
      refused(envoy, await call(envoy, '/mtls-only', { tok: dpop, dpop: proofFor(dpop, 'GET', url('/mtls-only')), cert: a }), 401, 'ERR_POP_MISSING', BEARER_TOKEN_CHALLENGE, 'DPoP-bound under mtls');
      assert.equal((await call(envoy, '/mtls-only', { scheme: 'Bearer', tok: token({ iss, cnf: { 'x5t#S256': a.x5tS256 } }), cert: a })).status, 200);
    });

    test('proof_of_possession: "dpop": an unbound or a certificate-bound token: 401 ERR_POP_MISSING (DPoP challenge); DPoP: 200', async () => {
      const a = client('billing', [BILLING]);
      const iss = ISSUERS.dpop;
      refused(envoy, await call(envoy, '/dpop-only', { scheme: 'Bearer', tok: token({ iss }), cert: a }), 401, 'ERR_POP_MISSING', DPOP_TOKEN_CHALLENGE, 'unbound under dpop');
      refused(envoy, await call(envoy, '/dpop-only', { scheme: 'Bearer', tok: token({ iss, cnf: { 'x5t#S256': a.x5tS256 } }), cert: a }), 401, 'ERR_POP_MISSING', DPOP_TOKEN_CHALLENGE, 'cert-bound under dpop');
      const tok = dpopToken({ iss });
      assert.equal((await call(envoy, '/dpop-only', { tok, dpop: proofFor(tok, 'GET', url('/dpop-only')), cert: a })).status, 200);
    });
  });

  describe('peers (connection.uri_san_peer_certificate)', () => {
    test('requires.peers: the SPIFFE ID: 200; another one, none, or it as the second URI SAN: 403 ERR_PEER_DENIED', async () => {
      const tok = token();
      assert.equal((await call(envoy, '/peers', { scheme: 'Bearer', tok, cert: client('billing', [BILLING]) })).status, 200);
      assert.equal((await call(envoy, '/peers', { scheme: 'Bearer', tok, cert: client('billing', [BILLING, AUDIT]) })).status, 200, 'first of two SANs');
      for (const [what, cert] of [
        ['another SAN', client('audit', [AUDIT])],
        ['no URI SAN', client('billing')],
        ['the SPIFFE ID second (Envoy gives the first)', client('audit', [AUDIT, BILLING])],
      ]) {
        refused(envoy, await call(envoy, '/peers', { scheme: 'Bearer', tok, cert }), 403, 'ERR_PEER_DENIED', undefined, what);
      }
    });

    test('bind_subject_to_peer: sub = the SPIFFE ID: 200; another peer: ERR_MTLS_BINDING_MISMATCH; no URI SAN: ERR_POP_MISSING', async () => {
      const tok = token({ iss: ISSUERS.peer, sub: BILLING });
      const ok = await call(envoy, '/bound', { scheme: 'Bearer', tok, cert: client('billing', [BILLING]) });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.json.headers['x-bot-id'], BILLING);
      refused(envoy, await call(envoy, '/bound', { scheme: 'Bearer', tok, cert: client('audit', [AUDIT]) }), 401, 'ERR_MTLS_BINDING_MISMATCH', undefined, 'another peer');
      refused(envoy, await call(envoy, '/bound', { scheme: 'Bearer', tok, cert: client('billing') }), 401, 'ERR_POP_MISSING', undefined, 'no URI SAN');
    });
  });

  describe('the replay store', () => {
    // Last: it leaves one bucket full, where any later proof (1 in 16,384) would be refused.
    test('a full replay-store bucket: 503 ERR_REPLAY_STORE_UNAVAILABLE, never a forgotten proof', async () => {
      // 65 proofs whose entries fall in one bucket (64 entries each by default).
      const tok = dpopToken();
      const target = replayBucket(bot.jkt, 'probe');
      const jtis = [];
      while (jtis.length < 65) {
        const jti = randomBytes(12).toString('base64url');
        if (replayBucket(bot.jkt, jti) === target) jtis.push(jti);
      }
      // Other tests may have put entries into this bucket: count the accepted ones until it is full.
      let accepted = 0;
      let full = null;
      for (const jti of jtis) {
        const res = await call(envoy, '/orders/1', { tok, dpop: proofFor(tok, 'GET', url('/orders/1'), { jti }), cert });
        if (res.status === 200) { accepted += 1; continue; }
        full = res;
        break;
      }
      assert.ok(full, 'the bucket filled up');
      console.log(`# replay store: ${accepted} proofs of one bucket accepted, the next one refused (503)`);
      assert.ok(accepted >= 50 && accepted <= 64, `about 64 entries fit (${accepted})`);
      refused(envoy, full, 503, 'ERR_REPLAY_STORE_UNAVAILABLE', undefined, 'full bucket');
      assert.equal(full.headers.get('retry-after'), '5');
      // The proofs already in it are still refused as replays, not let through.
      refused(envoy, await call(envoy, '/orders/1', { tok, dpop: proofFor(tok, 'GET', url('/orders/1'), { jti: jtis[0] }), cert }), 401, 'ERR_DPOP_REPLAYED', DPOP_CHALLENGE, 'a proof in the full bucket');
      // Another bucket takes proofs as before.
      let elsewhere;
      do elsewhere = randomBytes(12).toString('base64url'); while (replayBucket(bot.jkt, elsewhere) === target);
      assert.equal((await call(envoy, '/orders/1', { tok, dpop: proofFor(tok, 'GET', url('/orders/1'), { jti: elsewhere }), cert })).status, 200);
    });
  });

  test('refusals are counted per code (edgeward_denied_dpop_replayed, …)', async () => {
    const expected = refusals.get(envoy);
    assert.ok(expected.ERR_DPOP_REPLAYED >= 20 + 70, 'replays were counted by this test');
    await checkCounted(envoy);
  });
});

describe('a policy that never reads certificates up front (every provider proof_of_possession "none")', () => {
  let envoy;
  before(async () => { envoy = await startTlsEnvoy(LATE_POLICY, { concurrency: 2 }); });

  test('a certificate-bound token with its certificate: 200 (read after the core asked for it); another: mismatch', async () => {
    const a = client('billing', [BILLING]);
    const tok = token({ cnf: { 'x5t#S256': a.x5tS256 } });
    for (let i = 0; i < 4; i += 1) {
      // New connections, so both workers' late reads are used.
      const res = await call(envoy, '/orders/1', { scheme: 'Bearer', tok, cert: a });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.headers['x-bot-id'], 'bot-7');
    }
    refused(envoy, await call(envoy, '/orders/1', { scheme: 'Bearer', tok, cert: client('billing', [BILLING]) }), 401, 'ERR_MTLS_BINDING_MISMATCH', BEARER_TOKEN_CHALLENGE, 'late: other certificate');
    // The rest is as before: unbound bearer tokens pass, DPoP works.
    assert.equal((await call(envoy, '/orders/1', { scheme: 'Bearer', tok: token(), cert: a })).status, 200);
    const bound = dpopToken();
    assert.equal((await call(envoy, '/orders/1', { tok: bound, dpop: proofFor(bound, 'GET', `${envoy.url}/orders/1`), cert: a })).status, 200);
    await checkCounted(envoy);
  });
});

describe('a plain-HTTP listener (no TLS, no client certificate)', () => {
  for (const [name, policy] of [['certificates read up front', EARLY_POLICY], ['certificates read late', LATE_POLICY]]) {
    test(`${name}: a certificate-bound token: 401 ERR_POP_MISSING; DPoP over http://: 200`, async () => {
      const envoy = await startEnvoy(envoyConfig({ upstreamPort: upstream.port, policy }), { concurrency: 1 });
      things.push(envoy);
      assert.match(envoy.url, /^http:\/\//);
      const send = (path, headers) => new Promise((resolve, reject) => {
        const req = http.request(new URL(path, envoy.url), { headers, agent: false }, (res) => {
          let text = '';
          res.on('data', (d) => { text += d; });
          res.on('end', () => resolve({ status: res.statusCode, headers: new Headers(Object.entries(res.headers).map(([k, v]) => [k, String(v)])), text, json: JSON.parse(text) }));
        });
        req.on('error', reject);
        req.end();
      });
      const a = client('billing', [BILLING]);
      refused(envoy, await send('/orders/1', { authorization: `Bearer ${token({ cnf: { 'x5t#S256': a.x5tS256 } })}` }), 401, 'ERR_POP_MISSING', DPOP_TOKEN_CHALLENGE, 'no certificate (the provider takes DPoP: its challenge)');
      const tok = dpopToken();
      const ok = await send('/orders/1', { authorization: `DPoP ${tok}`, dpop: proofFor(tok, 'GET', `${envoy.url}/orders/1`) });
      assert.equal(ok.status, 200, ok.text);
      refused(envoy, await send('/orders/1', { authorization: `DPoP ${tok}`, dpop: proofFor(tok, 'GET', `${envoy.url.replace('http:', 'https:')}/orders/1`) }), 401, 'ERR_DPOP_PROOF_INVALID', DPOP_CHALLENGE, 'https htu on http');
      if (policy === EARLY_POLICY) {
        refused(envoy, await send('/peers', { authorization: `Bearer ${token()}` }), 403, 'ERR_PEER_DENIED', undefined, 'peers without TLS');
      }
      await checkCounted(envoy);
      await envoy.stop();
    });
  }
});
