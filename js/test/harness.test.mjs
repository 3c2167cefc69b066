// The harness page in real headless Chromium (Debian's /usr/bin/chromium via playwright-core):
// load it at the URL `make harness` prints, paste a good and a bad token, read the verdicts and
// codes off the page, paste the JWKS a remote_jwks policy needs, and check the page talked to
// nothing but its own origin. Screenshots go to js/artifacts/ (ignored).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from './lib/chromium.mjs';
import { serve } from '../harness/serve.mjs';
import { NOW, ISSUER, AUDIENCE, keyPair, mint, claims, policy } from './helpers.mjs';

const js = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const root = path.resolve(js, '..');
const artifacts = path.join(js, 'artifacts');

let server;
let url;
let browser;
let context;
let page;
const requests = [];

before(async () => {
  ({ server, url } = await serve(0));
  browser = await launchChromium({ width: 1360 });
  ({ context, page } = browser);
  page.on('request', (request) => requests.push({ url: request.url(), method: request.method(), body: request.postData() }));
  const errors = [];
  page.on('pageerror', (error) => errors.push(error));
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
  assert.deepEqual(errors, []);
});

after(async () => {
  await browser?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
});

// `make harness` as a newcomer runs it (build-js marked done with -o: the suite runs on a built
// package), on a port the OS picks; resolves to the URL it printed and a stop().
async function makeHarness() {
  const env = { ...process.env, HARNESS_PORT: '0' };
  for (const name of ['MAKEFLAGS', 'MFLAGS', 'MAKELEVEL']) delete env[name];
  const child = spawn('make', ['--no-print-directory', '-o', 'build-js', 'harness'], { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const printed = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`make harness printed no URL in 30 s:\n${out}`)), 30_000);
    const look = () => {
      const m = out.match(/^edgeward harness: (http:\/\/\S+)/m);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.on('data', look);
    exited.then(() => reject(new Error(`make harness exited:\n${out}`)));
  });
  return {
    url: printed,
    output: () => out,
    async stop() {
      try {
        process.kill(-child.pid, 'SIGTERM'); // make and the server it started (their own group)
      } catch { /* gone */ }
      await exited;
    },
  };
}

test('the URL `make harness` prints serves the page with its stylesheet and script; / leads there too', async () => {
  const harness = await makeHarness();
  const tab = await context.newPage();
  try {
    assert.match(harness.url, /^http:\/\/127\.0\.0\.1:\d+\/harness\/$/);
    const responses = [];
    tab.on('response', (response) => responses.push({ url: response.url(), status: response.status() }));
    const errors = [];
    tab.on('pageerror', (error) => errors.push(error));
    const looks = () => tab.evaluate(() => ({
      ready: document.body.dataset.ready,
      background: getComputedStyle(document.body).backgroundColor,
      headerBackground: getComputedStyle(document.querySelector('header')).backgroundColor,
      buttonBackground: getComputedStyle(document.getElementById('verify')).backgroundColor,
      sheets: [...document.styleSheets].map((sheet) => new URL(sheet.href).pathname),
      verdict: document.getElementById('verdict-word').textContent,
    }));
    const origin = new URL(harness.url).origin;
    for (const address of [harness.url, `${origin}/`, `${origin}/harness`]) {
      responses.length = 0;
      await tab.goto(address);
      await tab.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
      assert.equal(tab.url(), harness.url, `${address} ends at the printed URL`);
      const seen = await looks();
      assert.equal(seen.ready, 'true', 'the page script ran');
      assert.equal(seen.verdict, 'Paste a token', 'the page script ran');
      assert.equal(seen.background, 'rgb(245, 246, 248)', 'harness.css applied (--bg)');
      assert.equal(seen.headerBackground, 'rgb(255, 255, 255)', 'harness.css applied (header)');
      assert.equal(seen.buttonBackground, 'rgb(47, 91, 211)', 'harness.css applied (button)');
      assert.deepEqual(seen.sheets, ['/harness/harness.css']);
      const paths = responses.map((r) => new URL(r.url).pathname);
      for (const asset of ['/harness/harness.css', '/harness/harness.mjs', '/web.mjs', '/pkg-web/edgeward_js_bg.wasm']) {
        assert.ok(paths.includes(asset), `${address}: ${asset} was loaded (${paths.join(' ')})`);
      }
      for (const r of responses) {
        assert.ok(r.status < 400, `${address}: ${r.url} answered ${r.status}`);
        assert.equal(new URL(r.url).origin, origin, r.url);
      }
    }
    assert.deepEqual(errors, []);
    fs.mkdirSync(artifacts, { recursive: true });
    await tab.screenshot({ path: path.join(artifacts, 'harness-printed-url.png'), fullPage: true });
  } finally {
    await tab.close();
    await harness.stop();
  }
});

const key = keyPair('ES256', 'k1');
const jwks = JSON.stringify({ keys: [key.jwk] }, null, 2);

async function fill(fields) {
  for (const [id, value] of Object.entries(fields)) await page.fill(`#${id}`, value);
  await page.click('#verify');
}

async function verdict() {
  return page.evaluate(() => ({
    status: document.getElementById('verdict').dataset.status,
    word: document.getElementById('verdict-word').textContent,
    code: document.getElementById('verdict-code').textContent,
    detail: document.getElementById('verdict-detail').textContent,
    http: document.getElementById('verdict-http').textContent,
    remaining: document.getElementById('lifetime-remaining').textContent,
    total: document.getElementById('lifetime-total').textContent,
    warnings: [...document.querySelectorAll('#warnings li:not(.none)')].map((li) => li.textContent),
    claims: document.getElementById('claims-json').textContent,
    header: document.getElementById('header-json').textContent,
  }));
}

test('a good token is accepted, with its lifetime and decoded claims', async () => {
  const token = mint(key, claims({ scope: 'read:orders write:order_status' }));
  await page.check('#mode-jwks');
  await fill({ token: `Bearer ${token}\n`, jwks, issuer: ISSUER, audience: AUDIENCE, algorithms: 'ES256', scopes: 'read:orders', now: String(NOW) });
  const v = await verdict();
  assert.equal(v.status, 'accepted');
  assert.equal(v.word, 'Accepted');
  assert.match(v.http, /HTTP 200/);
  assert.match(v.remaining, /^9 min/);
  assert.equal(v.total, '10 min');
  assert.deepEqual(v.warnings, []);
  assert.equal(JSON.parse(v.claims).sub, 'bot-7');
  assert.equal(JSON.parse(v.header).kid, 'k1');
  fs.mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, 'harness-accepted.png'), fullPage: true });
});

test('bad tokens are refused with their code and HTTP answer', async () => {
  const expired = mint(key, claims({ iat: NOW - 7200, exp: NOW - 3600 }));
  await fill({ token: expired, scopes: 'read:orders', now: String(NOW) });
  let v = await verdict();
  assert.equal(v.status, 'refused');
  assert.equal(v.code, 'ERR_JWT_EXPIRED');
  assert.match(v.http, /HTTP 401 · WWW-Authenticate: Bearer realm="edgeward", error="invalid_token"/);
  assert.match(v.remaining, /^expired 1\.0 h ago|^expired 60 min ago/);

  const forged = mint(keyPair('ES256', 'k1'), claims());
  await fill({ token: forged });
  v = await verdict();
  assert.equal(v.code, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');

  await fill({ token: mint(key, claims()), scopes: 'write:order_status' });
  v = await verdict();
  assert.equal(v.code, 'ERR_SCOPE_INSUFFICIENT');
  assert.match(v.http, /HTTP 403 .*scope="write:order_status"/);

  await fill({ token: 'not.a-token' });
  v = await verdict();
  assert.equal(v.code, 'ERR_JWT_INVALID');
});

test('warnings: long-lived token, wildcard scopes, missing aud, symmetric alg', async () => {
  const risky = mint(key, claims({ aud: undefined, scope: 'orders:* read:orders', iat: NOW - 60, exp: NOW + 86_400 }), { alg: 'HS256' });
  await fill({ token: risky, scopes: '', now: String(NOW), audience: '' });
  const v = await verdict();
  assert.equal(v.status, 'refused');
  assert.equal(v.code, 'ERR_JOSE_ALG_NOT_ALLOWED');
  const text = v.warnings.join('\n');
  assert.match(text, /Symmetric algorithm HS256/);
  assert.match(text, /Missing aud/);
  assert.match(text, /Wildcard scope: orders:\*/);
  assert.match(text, /Long-lived token: valid for 24 h/);
  await page.screenshot({ path: path.join(artifacts, 'harness-warnings.png'), fullPage: true });
});

test('a pasted policy is used as is, and its errors name the field', async () => {
  await page.check('#mode-policy');
  await fill({ policy: JSON.stringify(policy([key.jwk]), null, 2), token: mint(key, claims()), scopes: 'read:orders', now: String(NOW) });
  let v = await verdict();
  assert.equal(v.status, 'accepted');
  await fill({ policy: JSON.stringify({ providers: { a: { issuer: ISSUER, audiences: [AUDIENCE], local_jwks: { keys: [key.jwk] }, audience: 'x' } } }) });
  v = await verdict();
  assert.equal(v.status, 'error');
  assert.equal(v.code, 'ERR_POLICY_INVALID');
  assert.match(v.detail, /providers\.a\.audience/);
  await page.check('#mode-jwks');
});

test('a remote_jwks policy asks for its JWKS to be pasted (the harness fetches nothing), then verifies with it', async () => {
  const JWKS_URI = 'https://idp.example.com/.well-known/jwks.json';
  const remotePolicy = policy([], { local_jwks: undefined, remote_jwks: { cluster: 'idp', uri: JWKS_URI, cache_duration_seconds: 300 } });
  const box = '#remote-jwks textarea[data-provider="corp-idp"]';
  await page.check('#mode-policy');
  await fill({ policy: JSON.stringify(remotePolicy, null, 2), provider: '', token: mint(key, claims()), scopes: 'read:orders', now: String(NOW) });
  let v = await verdict();
  assert.equal(v.status, 'needs-keys');
  assert.equal(v.word, 'Paste the JWKS');
  assert.equal(v.code, 'ERR_JWKS_UNAVAILABLE');
  assert.equal(v.detail, `This policy fetches keys from ${JWKS_URI}; the harness does not fetch — paste the JWKS into the box under the policy.`);
  assert.match(v.http, /^A gateway answers HTTP 503 \(Retry-After: \d+\) until it has fetched the keys\.$/);
  assert.ok(await page.isVisible(box), 'the JWKS box shows');
  assert.equal(
    await page.textContent('#remote-jwks .note'),
    `This policy fetches keys from ${JWKS_URI}; the harness does not fetch — paste the JWKS here.`,
  );
  await page.screenshot({ path: path.join(artifacts, 'harness-remote-jwks-needed.png'), fullPage: true });

  // Typed key by key (each one re-runs the page): the box keeps its focus and what was typed.
  await page.click(box);
  await page.keyboard.type('{"keys": [}');
  assert.equal(await page.inputValue(box), '{"keys": [}');
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.provider), 'corp-idp');
  v = await verdict();
  assert.equal(v.status, 'error');
  assert.equal(v.code, 'ERR_JWKS_INVALID');
  assert.match(v.detail, /\(the pasted JWKS\)$/);

  await page.fill(box, jwks);
  await page.click('#verify');
  v = await verdict();
  assert.equal(v.status, 'accepted', JSON.stringify(v));
  assert.equal(v.detail, 'Verified for provider “corp-idp”.');
  await page.screenshot({ path: path.join(artifacts, 'harness-remote-jwks-accepted.png'), fullPage: true });

  // The pasted keys are the only keys: a token from another key is refused, and the box keeps
  // what was pasted while the token changes.
  await fill({ token: mint(keyPair('ES256', 'k1'), claims()) });
  v = await verdict();
  assert.equal(v.code, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  assert.equal(await page.inputValue(box), jwks);

  // A policy with its keys inline needs no box.
  await fill({ policy: JSON.stringify(policy([key.jwk])), token: mint(key, claims()) });
  v = await verdict();
  assert.equal(v.status, 'accepted');
  assert.equal(await page.isVisible('#remote-jwks'), false);
  await page.check('#mode-jwks');
});

test('the page talked only to its own origin, and never sent a token', () => {
  const origin = new URL(url).origin;
  assert.ok(requests.length >= 4);
  for (const request of requests) {
    assert.equal(new URL(request.url).origin, origin, request.url);
    assert.equal(request.method, 'GET');
    assert.equal(request.body, null);
    assert.doesNotMatch(request.url, /eyJ/);
  }
  const paths = new Set(requests.map((r) => new URL(r.url).pathname));
  assert.ok(paths.has('/pkg-web/edgeward_js_bg.wasm'));
});
