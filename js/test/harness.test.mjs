// The harness page in real headless Chromium (Debian's /usr/bin/chromium via playwright-core):
// load it, paste a good and a bad token, read the verdicts and codes off the page, and check the
// page talked to nothing but its own origin. A screenshot goes to js/artifacts/ (ignored).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from '../harness/serve.mjs';
import { NOW, ISSUER, AUDIENCE, keyPair, mint, claims, policy } from './helpers.mjs';

const js = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const artifacts = path.join(js, 'artifacts');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

let server;
let url;
let profile;
let context;
let page;
const requests = [];

before(async () => {
  ({ server, url } = await serve(0));
  profile = fs.mkdtempSync(path.join(os.tmpdir(), 'edgeward-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1360, height: 1000 },
    timeout: 60_000,
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('request', (request) => requests.push({ url: request.url(), method: request.method(), body: request.postData() }));
  const errors = [];
  page.on('pageerror', (error) => errors.push(error));
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
  assert.deepEqual(errors, []);
});

after(async () => {
  await context?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
  if (profile) fs.rmSync(profile, { recursive: true, force: true });
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
