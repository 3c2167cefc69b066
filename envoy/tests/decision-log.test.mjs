// The decision line (docs/policy.md, "Decision record") from both hosts: a real Envoy whose access
// log is exactly envoy/decision-log.yaml's entry (the filter with {"filter_state": true}), and the
// npm middleware's `decisionLog` file, behind the same policy. The same requests (allowed, refused
// for a scope, without a token, public, unmatched) go to both; every line parses to the same
// fields with the same values (the time aside: each host's clock), none holds the token or the
// query. Then `edgeward report` (target/release/edgeward) reads both logs and tells the same story.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Verifier, middleware } from '../../js/index.mjs';
import { ROOT, envoyConfig, makeKey, mint, nowSeconds, request, startEchoUpstream, startEnvoy, stopAll, until } from './lib/harness.mjs';

const ISSUER = 'https://idp.decisions';
const key = makeKey('k1');
// Wildcard scopes allowed: the report lists them as grants worth a look.
const policy = {
  deny_wildcard_scopes: false,
  providers: { idp: { issuer: ISSUER, audiences: ['api'], local_jwks: { keys: [key.jwk] }, max_lifetime_seconds: 86400 } },
  rules: [
    { match: { prefix: '/healthz' } },
    { name: 'orders-read', match: { prefix: '/orders', methods: ['GET'] }, requires: { provider_name: 'idp', scopes: ['read:orders'] } },
    { name: 'orders-write', match: { prefix: '/orders' }, requires: { provider_name: 'idp', scopes: ['write:orders'] } },
  ],
};
const CLI = process.env.EDGEWARD_CLI ?? join(ROOT, 'target/release/edgeward');
const FIELDS = ['time', 'provider', 'iss', 'sub', 'client_id', 'rule', 'method', 'path', 'scopes', 'required_scopes', 'iat', 'exp', 'code', 'status'];

/**
 * envoy/decision-log.yaml as an object: the small YAML it is written in (a list of one mapping,
 * nested mappings, quoted or plain scalars, comments). Any other line fails the test, so what runs
 * here is what ships.
 */
export function readDecisionLog(text) {
  const root = [];
  // Each open container: its indentation, its value, and where it hangs (to turn `key:` into a list).
  const stack = [{ indent: -1, value: root }];
  for (const raw of text.split('\n')) {
    if (/^\s*(#.*)?$/.test(raw)) continue;
    const m = raw.match(/^( *)(- )?("[^"]+"|[A-Za-z_@][\w.@-]*):(?: (.*))?$/);
    assert.ok(m, `decision-log.yaml: a line this reader does not know: ${raw}`);
    let indent = m[1].length;
    const [name, rest] = [m[3].replace(/^"|"$/g, ''), m[4]];
    if (m[2]) {
      // A list's items may sit at its key's indentation (`formatters:` then `- name:`).
      while (stack.at(-1).indent > indent || (stack.at(-1).indent === indent && stack.at(-1).key === undefined)) stack.pop();
      const top = stack.at(-1);
      if (!Array.isArray(top.value)) {
        assert.deepEqual(top.value, {}, `decision-log.yaml: a list item under a mapping: ${raw}`);
        top.value = top.parent[top.key] = [];
      }
      const item = {};
      top.value.push(item);
      indent += 2;
      stack.push({ indent: indent - 1, value: item });
    }
    while (stack.at(-1).indent >= indent) stack.pop();
    const parent = stack.at(-1).value;
    if (rest === undefined) {
      parent[name] = {};
      stack.push({ indent, value: parent[name], parent, key: name });
    } else {
      parent[name] = rest.startsWith('"') ? JSON.parse(rest) : rest === 'true' ? true : rest === 'false' ? false : rest;
    }
  }
  return root;
}

test("envoy/README.md's snippet is envoy/decision-log.yaml", () => {
  const file = readFileSync(join(ROOT, 'envoy/decision-log.yaml'), 'utf8').split('\n').filter((l) => !/^\s*(#.*)?$/.test(l));
  const readme = readFileSync(join(ROOT, 'envoy/README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Decision log'));
  const snippet = section.slice(section.indexOf('```yaml\n') + 8, section.indexOf('\n```', section.indexOf('```yaml\n')));
  assert.deepEqual(snippet.split('\n'), file);
});

describe('the decision line from Envoy and from the middleware', () => {
  let upstream, envoy, server, base, dir, envoyLog, nodeLog, mw, now;
  const tokens = {};
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'edgeward-decisions-'));
    envoyLog = join(dir, 'envoy.log');
    nodeLog = join(dir, 'node.log');
    const entries = readDecisionLog(readFileSync(join(ROOT, 'envoy/decision-log.yaml'), 'utf8'));
    assert.equal(entries.length, 1);
    entries[0].typed_config.path = envoyLog;
    upstream = await startEchoUpstream();
    const config = envoyConfig({ upstreamPort: upstream.port, policy, vmConfiguration: { filter_state: true }, accessLogs: entries });
    envoy = await startEnvoy(config, { concurrency: 1, extraArgs: ['--file-flush-interval-msec', '100'] });
    mw = middleware(new Verifier(policy), { decisionLog: nodeLog });
    server = http.createServer((req, res) => mw(req, res, () => res.end('ok')));
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${server.address().port}`;
    now = nowSeconds();
    const token = (claims) => mint(key, { iss: ISSUER, aud: 'api', iat: now - 5, exp: now + 300, ...claims });
    tokens.reader = token({ sub: 'bot-1', client_id: 'billing-bot', scope: 'read:orders admin:*' });
    tokens.writer = token({ sub: 'bot-2', azp: 'audit-bot', scope: 'read:orders write:orders', iat: now - 7200, exp: now + 600 });
  });
  after(async () => {
    // EDGEWARD_DECISIONS_OUT=dir keeps both logs (cli/tests/fixtures/ has one such pair).
    const out = process.env.EDGEWARD_DECISIONS_OUT;
    if (out) for (const file of [envoyLog, nodeLog]) if (existsSync(file)) copyFileSync(file, join(out, basename(file)));
    server?.closeAllConnections();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
    await stopAll([upstream, envoy]);
    rmSync(dir, { recursive: true, force: true });
  });

  const REQUESTS = [
    { method: 'GET', path: '/orders/1?secret=q', token: 'reader', status: 200 },
    { method: 'POST', path: '/orders/1', token: 'reader', status: 403 },
    { method: 'POST', path: '/orders/2', token: 'writer', status: 200 },
    { method: 'GET', path: '/orders/3', status: 401 },
    { method: 'GET', path: '/healthz?probe=1', status: 200 },
    { method: 'GET', path: '/nowhere', token: 'reader', status: 403 },
  ];

  /** The parsed lines of `file`, once it holds `count`. */
  const linesOf = (file, count) => until(() => {
    let text = '';
    try { text = readFileSync(file, 'utf8'); } catch { return false; }
    const lines = text.split('\n').filter(Boolean);
    return lines.length >= count && { text, lines: lines.map((l) => JSON.parse(l)) };
  }, { what: `${count} lines in ${file}` });

  test('every request gives one line in each, field for field the same', async () => {
    for (const r of REQUESTS) {
      const headers = r.token ? { authorization: `Bearer ${tokens[r.token]}` } : {};
      const viaEnvoy = await request(envoy, r.path, { method: r.method, headers });
      const viaNode = await fetch(base + r.path, { method: r.method, headers });
      assert.deepEqual([viaEnvoy.status, viaNode.status], [r.status, r.status], `${r.method} ${r.path}`);
    }
    await mw.decisionLog.close();
    const fromEnvoy = await linesOf(envoyLog, REQUESTS.length);
    const fromNode = await linesOf(nodeLog, REQUESTS.length);
    assert.equal(fromNode.lines.length, REQUESTS.length);
    for (const [i, r] of REQUESTS.entries()) {
      const e = fromEnvoy.lines[i];
      const n = fromNode.lines[i];
      for (const line of [e, n]) {
        assert.match(line.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        assert.ok(Math.abs(Date.parse(line.time) / 1000 - now) < 120, line.time);
        assert.ok(Object.keys(line).every((k) => FIELDS.includes(k)), `only the line's fields: ${JSON.stringify(line)}`);
      }
      const { time: _e, ...envoyFields } = e;
      const { time: _n, ...nodeFields } = n;
      assert.deepEqual(envoyFields, nodeFields, `${r.method} ${r.path}`);
      assert.equal(e.path, r.path.split('?')[0]);
    }
    const [read, lacking, write, missing, health, nowhere] = fromNode.lines;
    assert.deepEqual(read, {
      time: read.time, provider: 'idp', iss: ISSUER, sub: 'bot-1', client_id: 'billing-bot', rule: 'orders-read', method: 'GET',
      path: '/orders/1', scopes: 'read:orders admin:*', required_scopes: 'read:orders', iat: String(now - 5), exp: String(now + 300), status: 200,
    });
    assert.deepEqual([lacking.rule, lacking.required_scopes, lacking.code, lacking.status], ['orders-write', 'write:orders', 'ERR_SCOPE_INSUFFICIENT', 403]);
    assert.deepEqual([write.sub, write.client_id, write.iat, write.exp], ['bot-2', 'audit-bot', String(now - 7200), String(now + 600)]);
    assert.deepEqual(missing, { time: missing.time, rule: 'orders-read', method: 'GET', path: '/orders/3', required_scopes: 'read:orders', code: 'ERR_JWT_MISSING', status: 401 });
    assert.deepEqual(health, { time: health.time, rule: '0', method: 'GET', path: '/healthz', status: 200 });
    assert.deepEqual([nowhere.rule, nowhere.code, nowhere.sub], [undefined, 'ERR_ROUTE_DENIED', undefined]);
    for (const text of [fromEnvoy.text, fromNode.text]) {
      for (const t of Object.values(tokens)) assert.ok(!text.includes(t.split('.')[2]) && !text.includes(t.split('.')[1]), 'no token');
      assert.ok(!text.includes('secret') && !text.includes('probe'), 'no query');
    }
  });

  test('edgeward report reads both logs alike', { skip: !existsSync(CLI) && `no CLI at ${CLI} (make build-core)` }, async () => {
    const policyFile = join(dir, 'policy.json');
    writeFileSync(policyFile, JSON.stringify(policy));
    const report = (file) => {
      const run = spawnSync(CLI, ['report', '--policy', policyFile, '--format', 'json', file], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      return JSON.parse(run.stdout);
    };
    const [fromEnvoy, fromNode] = [report(envoyLog), report(nodeLog)];
    const strip = (r) => r.principals.map(({ first_seen, last_seen, ...p }) => p);
    assert.deepEqual(strip(fromEnvoy), strip(fromNode));
    assert.deepEqual(fromEnvoy.unidentified, fromNode.unidentified);
    assert.deepEqual(fromEnvoy.counts, fromNode.counts);
    const bot1 = fromNode.principals.find((p) => p.sub === 'bot-1');
    assert.deepEqual([bot1.exercised, bot1.unused, bot1.recommendation], [['read:orders'], ['admin:*'], 'reduce to read:orders']);
    assert.deepEqual(bot1.refusals, [{ code: 'ERR_SCOPE_INSUFFICIENT', needed: ['write:orders'], count: 1 }]);
    assert.deepEqual(fromNode.unidentified.map((u) => [u.rule, u.code, u.count]), [['-', 'ERR_ROUTE_DENIED', 1], ['0', 'allowed', 1], ['orders-read', 'ERR_JWT_MISSING', 1]]);
    assert.deepEqual(fromNode.only_long_lived, [`${ISSUER} bot-2`]);
  });
});
