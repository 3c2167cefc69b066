// `edgeward verify --fetch-keys` and `edgeward check --fetch-keys` (the CLI built by
// `make build-core`, target/release/edgeward; EDGEWARD_CLI=/path overrides it) against a real
// identity provider: oidc-provider (js/test/lib/idp.mjs) over TLS with a CA made for the test
// (js/test/lib/tls.mjs, `openssl`), trusted with --ca-file. Its RFC 9068 tokens, obtained by
// client_credentials through openid-client, verify with the keys the CLI fetched itself, through
// the discovery document or straight from the jwks_uri. Refusals: a discovery document naming
// another issuer, an untrusted certificate, a closed port, plain http without --allow-http, an
// oversized JWKS or discovery document, a redirect, an answer slower than remote_jwks.timeout_ms;
// a fetched JWKS with an unusable key loads without it and warns. The CLI runs asynchronously:
// the IdP answers from this very process.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startIdp, CLIENT_ID, FIRST_KID, RESOURCE } from './lib/idp.mjs';
import { fetchTrusting, makeCertificates } from './lib/tls.mjs';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = process.env.EDGEWARD_CLI || join(REPO, 'target', 'release', 'edgeward');
// The core's MAX_JWKS_BYTES and MAX_DISCOVERY_BYTES.
const MAX_DOCUMENT_BYTES = 256 * 1024;

/** Runs the CLI with `args` in `cwd`; resolves `{ code, stdout, stderr }`. */
function edgeward(cwd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(CLI, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A port nothing listens on (bound, then closed). */
function closedPort() {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function assertNoSecrets(run, token) {
  const signature = token.split('.')[2];
  for (const output of [run.stdout, run.stderr]) {
    assert.ok(!output.includes(token) && !output.includes(signature), `the token leaked: ${output}`);
    assert.ok(!/"[nd]"\s*:/.test(output), `key material leaked: ${output}`);
  }
}

/** A failure: `code`, exactly one line on stderr holding every text of `needles`. */
function assertFailed(run, code, ...needles) {
  assert.equal(run.code, code, `exit ${run.code}: ${run.stdout}${run.stderr}`);
  assert.equal(run.stderr.trim().split('\n').length, 1, `one line on stderr: ${run.stderr}`);
  assert.ok(run.stderr.startsWith('edgeward: '), run.stderr);
  for (const needle of needles) assert.ok(run.stderr.includes(needle), `stderr says ${needle}: ${run.stderr}`);
}

describe('edgeward --fetch-keys against oidc-provider over TLS', () => {
  let dir;
  let tls;
  let idp;
  let token;
  let jwksUri;
  let odd; // a misbehaving https server (same certificate): oversize, redirect, slow, a bad key
  let oddBase;
  const stalled = [];

  const provider = (remote, issuer = idp.issuer) => ({
    issuer,
    audiences: [RESOURCE],
    algorithms: ['RS256'],
    token_types: ['at+jwt'],
    required_claims: ['client_id'],
    remote_jwks: { cluster: 'idp', timeout_ms: 2000, ...remote },
  });
  const writePolicy = (name, idpProvider) => {
    const policy = {
      providers: { idp: idpProvider },
      rules: [{ match: { prefix: '/orders', methods: ['GET'] }, requires: { provider_name: 'idp', scopes: ['read:orders'] } }],
    };
    writeFileSync(join(dir, name), JSON.stringify(policy));
    return name;
  };
  const verify = (policy, ...extra) => edgeward(dir, ['verify', '--policy', policy, '--fetch-keys', ...extra, token]);

  before(async () => {
    assert.ok(existsSync(CLI), `${CLI} is missing: build it with make build-core (or set EDGEWARD_CLI)`);
    dir = mkdtempSync(join(tmpdir(), 'edgeward-cli-fetch-keys-'));
    tls = makeCertificates(dir);
    idp = await startIdp({ tls, ttlSeconds: 600 });
    token = await idp.token();
    const trusting = fetchTrusting(tls);
    jwksUri = (await (await trusting(`${idp.issuer}/.well-known/openid-configuration`)).json()).jwks_uri;
    assert.ok(jwksUri.startsWith(`${idp.issuer}/`), jwksUri);

    const realJwks = await (await trusting(jwksUri)).json();
    odd = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
      const json = (body) => { res.setHeader('content-type', 'application/json'); res.end(body); };
      if (req.url === '/big-jwks') return json(JSON.stringify(realJwks).padEnd(MAX_DOCUMENT_BYTES + 1, ' '));
      if (req.url === '/max-jwks') return json(JSON.stringify(realJwks).padEnd(MAX_DOCUMENT_BYTES, ' '));
      if (req.url === '/.well-known/openid-configuration') {
        return json(JSON.stringify({ issuer: oddBase, jwks_uri: jwksUri }).padEnd(MAX_DOCUMENT_BYTES + 1, ' '));
      }
      if (req.url === '/moved') { res.statusCode = 302; res.setHeader('location', jwksUri); return res.end(); }
      if (req.url === '/slow') { stalled.push(res); return undefined; }
      if (req.url === '/with-bad-key') {
        // An RSA key of 512 bits first (refused by the core), then the IdP's real keys.
        const bad = { kty: 'RSA', kid: 'too-small', alg: 'RS256', use: 'sig', n: Buffer.alloc(64, 0xc5).toString('base64url'), e: 'AQAB' };
        return json(JSON.stringify({ keys: [bad, ...realJwks.keys] }));
      }
      res.statusCode = 404;
      return res.end();
    });
    await new Promise((resolve) => odd.listen(0, '127.0.0.1', resolve));
    oddBase = `https://127.0.0.1:${odd.address().port}`;
  });

  after(async () => {
    for (const res of stalled) res.destroy();
    odd?.closeAllConnections?.();
    await new Promise((resolve) => (odd ? odd.close(resolve) : resolve()));
    await idp?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('verify fetches the keys through discovery and accepts the IdP token', async () => {
    const policy = writePolicy('discovery.json', provider({ discovery: true }));
    const before = { ...idp.state };
    const run = await verify(policy, '--ca-file', 'ca.pem', '--scope', 'read:orders');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '');
    const out = JSON.parse(run.stdout);
    assert.equal(out.provider, 'idp');
    assert.equal(out.header.kid, FIRST_KID);
    assert.equal(out.header.typ, 'at+jwt');
    assert.equal(out.claims.iss, idp.issuer);
    assert.equal(out.claims.client_id, CLIENT_ID);
    assert.deepEqual(out.scopes, ['read:orders', 'write:orders']);
    assert.equal(idp.state.configurationRequests, before.configurationRequests + 1, 'one discovery request');
    assert.equal(idp.state.jwksRequests, before.jwksRequests + 1, 'one JWKS request');
    assertNoSecrets(run, token);

    // The policy's rules decide a request with the fetched keys too.
    const decided = await verify(policy, '--ca-file', 'ca.pem', '--method', 'GET', '--path', '/orders/7');
    assert.equal(decided.code, 0, decided.stderr);
    assert.equal(JSON.parse(decided.stdout).access, 'granted');
    // A token the keys do not verify is still refused (exit 1), after a successful fetch.
    const parts = token.split('.');
    const forged = `${parts[0]}.${parts[1]}.${parts[2].startsWith('A') ? 'B' : 'A'}${parts[2].slice(1)}`;
    const refused = await edgeward(dir, ['verify', '--policy', policy, '--fetch-keys', '--ca-file', 'ca.pem', forged]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.equal(JSON.parse(refused.stdout).error.code, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  });

  test('verify fetches remote_jwks.uri itself without discovery', async () => {
    const before = { ...idp.state };
    const run = await verify(writePolicy('direct.json', provider({ uri: jwksUri })), '--ca-file', 'ca.pem');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).claims.client_id, CLIENT_ID);
    assert.equal(idp.state.configurationRequests, before.configurationRequests, 'no discovery request');
    assert.equal(idp.state.jwksRequests, before.jwksRequests + 1);
  });

  test('check --fetch-keys loads the live keys and reports them', async () => {
    const run = await edgeward(dir, ['check', '--policy', writePolicy('check.json', provider({ discovery: true })), '--fetch-keys', '--ca-file', 'ca.pem']);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, new RegExp(`check.json: providers.idp: 1 key fetched from ${jwksUri.replace(/[.?]/g, '\\$&')}\\n`));
    assert.match(run.stdout, /check\.json: ok \(1 provider, 1 rule\)/);
  });

  test('a discovery document naming another issuer is refused (exit 3), and no key is fetched', async () => {
    const uri = `${idp.issuer}/.well-known/openid-configuration`;
    const policy = writePolicy('mismatch.json', provider({ discovery: true, uri }, 'https://idp.example.com'));
    const before = { ...idp.state };
    const run = await verify(policy, '--ca-file', 'ca.pem');
    assertFailed(run, 3, `cannot fetch the keys of provider "idp": ${uri}`, 'must name the issuer "https://idp.example.com"', 'ERR_JWKS_INVALID');
    assert.equal(idp.state.configurationRequests, before.configurationRequests + 1);
    assert.equal(idp.state.jwksRequests, before.jwksRequests, 'the keys of another issuer are never fetched');
    assert.equal(run.stdout, '');
  });

  test("a certificate the roots do not trust is refused (exit 3) with the --ca-file hint", async () => {
    const run = await verify(writePolicy('untrusted.json', provider({ discovery: true })));
    assertFailed(run, 3, 'TLS', 'certificate', '--ca-file');
  });

  test('an unreachable IdP is exit 3: connection refused', async () => {
    const uri = `https://127.0.0.1:${await closedPort()}/jwks`;
    const run = await verify(writePolicy('closed.json', provider({ uri })), '--ca-file', 'ca.pem');
    assertFailed(run, 3, `cannot fetch the keys of provider "idp": ${uri}: connection refused`);
  });

  test('oversized documents, redirects and slow answers are refused (exit 3)', async () => {
    const max = await verify(writePolicy('max.json', provider({ uri: `${oddBase}/max-jwks` })), '--ca-file', 'ca.pem');
    assert.equal(max.code, 0, `a JWKS of exactly ${MAX_DOCUMENT_BYTES} bytes loads: ${max.stderr}`);
    const big = await verify(writePolicy('big.json', provider({ uri: `${oddBase}/big-jwks` })), '--ca-file', 'ca.pem');
    assertFailed(big, 3, `${oddBase}/big-jwks: the JWKS is larger than ${MAX_DOCUMENT_BYTES} bytes`);
    const bigDiscovery = await verify(writePolicy('big-discovery.json', provider({ discovery: true }, oddBase)), '--ca-file', 'ca.pem');
    assertFailed(bigDiscovery, 3, `the discovery document is larger than ${MAX_DOCUMENT_BYTES} bytes`);
    const moved = await verify(writePolicy('moved.json', provider({ uri: `${oddBase}/moved` })), '--ca-file', 'ca.pem');
    assertFailed(moved, 3, 'answered HTTP 302', 'redirects are not followed');
    const started = Date.now();
    const slow = await verify(writePolicy('slow.json', provider({ uri: `${oddBase}/slow`, timeout_ms: 300 })), '--ca-file', 'ca.pem');
    assertFailed(slow, 3, 'no complete answer within 300 ms');
    assert.ok(Date.now() - started < 5000, 'the timeout bounds the wait');
    const missing = await verify(writePolicy('missing.json', provider({ uri: `${oddBase}/nothing` })), '--ca-file', 'ca.pem');
    assertFailed(missing, 3, 'answered HTTP 404');
  });

  test('a fetched key the core refuses is left out with a warning; the others verify', async () => {
    const uri = `${oddBase}/with-bad-key`;
    const run = await verify(writePolicy('bad-key.json', provider({ uri })), '--ca-file', 'ca.pem');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).claims.client_id, CLIENT_ID);
    assert.match(run.stderr, new RegExp(`^edgeward: warning: ${uri.replace(/[.?]/g, '\\$&')}: key left out: keys\\[0\\]`));
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assertNoSecrets(run, token);
  });
});

describe('edgeward --fetch-keys against oidc-provider over plain http', () => {
  let dir;
  let idp;

  before(async () => {
    assert.ok(existsSync(CLI), `${CLI} is missing: build it with make build-core (or set EDGEWARD_CLI)`);
    dir = mkdtempSync(join(tmpdir(), 'edgeward-cli-fetch-http-'));
    idp = await startIdp({ ttlSeconds: 600 });
  });

  after(async () => {
    await idp?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('http is refused before any request without --allow-http (exit 2), and fetched with it', async () => {
    const token = await idp.token();
    const policy = {
      providers: { idp: { issuer: idp.issuer, audiences: [RESOURCE], algorithms: ['RS256'], remote_jwks: { discovery: true } } },
    };
    writeFileSync(join(dir, 'http.json'), JSON.stringify(policy));
    const before = { ...idp.state };
    const refused = await edgeward(dir, ['verify', '--policy', 'http.json', '--fetch-keys', token]);
    assertFailed(refused, 2, 'providers.idp.remote_jwks.uri is plain http', '--allow-http');
    assert.equal(idp.state.configurationRequests, before.configurationRequests, 'no request was made');

    const allowed = await edgeward(dir, ['verify', '--policy', 'http.json', '--fetch-keys', '--allow-http', token]);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.equal(JSON.parse(allowed.stdout).claims.iss, idp.issuer);
    assertNoSecrets(allowed, token);
  });
});
