// `edgeward report --format html` (the CLI built by `make build-core`, target/release/edgeward;
// EDGEWARD_CLI=/path overrides it) on the decision records a real Envoy wrote
// (cli/tests/fixtures/decisions/envoy.log), opened in headless Chromium (Debian's
// /usr/bin/chromium via playwright-core): one row per principal with its unused scopes and
// recommendation, the inline SVG chart's granted and exercised bars, the permissions inventory,
// and no request beyond the page itself (it is self-contained). Screenshot: js/artifacts/report.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { launchChromium } from './lib/chromium.mjs';
import { runCli } from './lib/cli.mjs';

const js = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const root = path.resolve(js, '..');
const fixtures = path.join(root, 'cli/tests/fixtures/decisions');
const artifacts = path.join(js, 'artifacts');

let dir, browser, context, page;
const requests = [];

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgeward-report-html-'));
  const run = runCli(['report', '--policy', 'policy.json', '--format', 'html', 'envoy.log'], { cwd: fixtures });
  assert.equal(run.code, 0, run.stderr);
  fs.writeFileSync(path.join(dir, 'report.html'), run.stdout);
  browser = await launchChromium({ width: 1600 });
  ({ context, page } = browser);
  page.on('request', (request) => requests.push(request.url()));
  const errors = [];
  page.on('pageerror', (error) => errors.push(error));
  page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
  await page.goto(pathToFileURL(path.join(dir, 'report.html')).href);
  assert.deepEqual(errors, []);
});

after(async () => {
  await browser?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('one row per principal, with its unused scopes and what to reduce to', async () => {
  const rows = await page.$$eval('#principals tr.principal', (trs) => trs.map((tr) => ({
    principal: tr.dataset.principal,
    unused: [...tr.querySelectorAll('td.unused .scope')].map((s) => s.textContent),
    exercised: [...tr.querySelectorAll('td.exercised .scope')].map((s) => s.textContent),
    recommendation: tr.querySelector('td.recommendation').textContent,
    refusals: tr.querySelector('td.refusals').textContent,
  })));
  assert.deepEqual(rows.map((r) => r.principal).sort(), ['https://idp.decisions bot-1', 'https://idp.decisions bot-2']);
  const bot1 = rows.find((r) => r.principal.endsWith('bot-1'));
  assert.deepEqual([bot1.unused, bot1.exercised, bot1.recommendation], [['admin:*'], ['read:orders'], 'reduce to read:orders']);
  assert.equal(bot1.refusals, 'ERR_SCOPE_INSUFFICIENT, needed `write:orders`, 1 time');
  const bot2 = rows.find((r) => r.principal.endsWith('bot-2'));
  assert.deepEqual([bot2.unused, bot2.recommendation], [['read:orders'], 'reduce to write:orders']);
});

test("the chart: a granted and an exercised bar per principal, as long as their counts", async () => {
  const bars = await page.$$eval('svg#chart rect.bar[data-principal]', (rects) => rects.map((r) => ({
    principal: r.dataset.principal,
    kind: r.classList.contains('granted') ? 'granted' : 'exercised',
    count: Number(r.dataset.count),
    width: r.getBoundingClientRect().width,
  })));
  assert.equal(bars.length, 4);
  const of = (p, kind) => bars.find((b) => b.principal === `https://idp.decisions ${p}` && b.kind === kind);
  assert.deepEqual([of('bot-1', 'granted').count, of('bot-1', 'exercised').count, of('bot-2', 'granted').count, of('bot-2', 'exercised').count], [2, 1, 2, 1]);
  assert.ok(of('bot-1', 'granted').width > 0 && Math.abs(of('bot-1', 'granted').width - 2 * of('bot-1', 'exercised').width) < 1, 'widths follow the counts');
  const fills = await page.$$eval('svg#chart rect.bar.granted, svg#chart rect.bar.exercised', (rects) => new Set(rects.map((r) => getComputedStyle(r).fill)).size);
  assert.equal(fills, 2, 'granted and exercised bars look different (the inline CSS applied)');
});

test('the inventory, and nothing fetched but the page', async () => {
  const inventory = await page.$$eval('#inventory tr[data-rule]', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert.deepEqual(inventory[0], ['0', 'any', 'prefix /healthz', 'public: no token']);
  assert.deepEqual(inventory[1], ['orders-read', 'GET', 'prefix /orders', 'provider idp, scopes read:orders']);
  assert.match(await page.textContent('#counts'), /^6 records read/);
  assert.deepEqual(requests, [pathToFileURL(path.join(dir, 'report.html')).href]);
  fs.mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, 'report.png'), fullPage: true });
});
