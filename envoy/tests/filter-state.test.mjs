// The decision record in Envoy's filter state (docs/policy.md, "Decision record"; VM configuration
// {"filter_state": true}): a real Envoy whose access log prints the fields for allowed and refused
// requests, and an RBAC filter after edgeward that reads `wasm.edgeward.client_id` to allow one bot
// only. No token in the log; without the setting nothing is written.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { envoyConfig, makeKey, mint, nowSeconds, rbacFilter, request, startEchoUpstream, startEnvoy, stopAll, until } from './lib/harness.mjs';

const ISSUER = 'https://idp.state';
const key = makeKey('k1');
const FIELDS = ['provider', 'iss', 'sub', 'client_id', 'scopes', 'rule', 'code'];
const policy = {
  providers: { idp: { issuer: ISSUER, audiences: ['api'], local_jwks: { keys: [key.jwk] } } },
  rules: [
    { name: 'orders-read', match: { prefix: '/orders' }, requires: { provider_name: 'idp', scopes: ['read:orders'] } },
    { match: { prefix: '/rbac' }, requires: { provider_name: 'idp' } },
  ],
};
const token = (claims) => mint(key, { iss: ISSUER, aud: 'api', iat: nowSeconds(), exp: nowSeconds() + 300, ...claims });

function config(upstreamPort, logPath, vmConfiguration = { filter_state: true }, vmEnv = undefined) {
  const format = `${FIELDS.map((f) => `%FILTER_STATE(wasm.edgeward.${f}:PLAIN)%`).join('|')}|%RESPONSE_CODE% %REQ(:PATH)%\n`;
  const rbac = rbacFilter({
    'rbac-billing-only': {
      permissions: [{ url_path: { path: { prefix: '/rbac' } } }],
      principals: [{ filter_state: { key: 'wasm.edgeward.client_id', string_match: { exact: 'billing-bot' } } }],
    },
    'everything-else': {
      permissions: [{ not_rule: { url_path: { path: { prefix: '/rbac' } } } }],
      principals: [{ any: true }],
    },
  });
  return envoyConfig({ upstreamPort, policy, vmConfiguration, vmEnv, afterFilter: [rbac], accessLog: { path: logPath, format } });
}

describe('the decision record in filter state', () => {
  let upstream, envoy, plain, fromEnv, dir, logPath, plainLogPath, envLogPath;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'edgeward-state-'));
    logPath = join(dir, 'access.log');
    plainLogPath = join(dir, 'plain.log');
    envLogPath = join(dir, 'env.log');
    upstream = await startEchoUpstream();
    // Access logs are flushed every 10 s by default: every 100 ms here.
    const flush = { concurrency: 1, extraArgs: ['--file-flush-interval-msec', '100'] };
    [envoy, plain, fromEnv] = await Promise.all([
      startEnvoy(config(upstream.port, logPath), flush),
      startEnvoy(config(upstream.port, plainLogPath, {}), flush),
      // Istio's WasmPlugin cannot set vm_config.configuration, only vmConfig.env.
      startEnvoy(config(upstream.port, envLogPath, undefined, { EDGEWARD_FILTER_STATE: 'true' }), flush),
    ]);
  });
  after(async () => {
    await stopAll([upstream, envoy, plain, fromEnv]);
    rmSync(dir, { recursive: true, force: true });
  });

  /** The access log line of the request to `path` (waits for the log to be flushed). */
  const lineFor = (path, file = logPath) => until(() => {
    let text = '';
    try { text = readFileSync(file, 'utf8'); } catch { return false; }
    const line = text.split('\n').find((l) => l.endsWith(` ${path}`));
    if (!line) return false;
    const values = line.slice(0, line.lastIndexOf(' ')).split('|');
    return { ...Object.fromEntries(FIELDS.map((f, i) => [f, values[i]])), status: values[FIELDS.length], text };
  }, { what: `the access log line of ${path}` });

  test('an allowed request: who, holding what, by which rule', async () => {
    const t = token({ sub: 'bot-1', client_id: 'billing-bot', scope: 'read:orders write:orders' });
    assert.equal((await request(envoy, '/orders/allowed', { headers: { authorization: `Bearer ${t}` } })).status, 200);
    const line = await lineFor('/orders/allowed');
    assert.deepEqual(line.status, '200');
    assert.deepEqual([line.provider, line.iss, line.sub, line.client_id, line.scopes, line.rule, line.code],
      ['idp', ISSUER, 'bot-1', 'billing-bot', 'read:orders write:orders', 'orders-read', '-']);
    assert.ok(!line.text.includes(t.split('.')[2]), 'no token in the access log');
  });

  test('refusals: the code, and who it was when the token verified', async () => {
    const weak = token({ sub: 'bot-2', client_id: 'audit-bot', scope: 'other' });
    assert.equal((await request(envoy, '/orders/weak', { headers: { authorization: `Bearer ${weak}` } })).status, 403);
    const refused = await lineFor('/orders/weak');
    assert.deepEqual([refused.provider, refused.sub, refused.client_id, refused.rule, refused.code, refused.status],
      ['idp', 'bot-2', 'audit-bot', 'orders-read', 'ERR_SCOPE_INSUFFICIENT', '403']);
    assert.equal((await request(envoy, '/orders/none')).status, 401);
    const missing = await lineFor('/orders/none');
    assert.deepEqual([missing.provider, missing.sub, missing.rule, missing.code, missing.status], ['-', '-', 'orders-read', 'ERR_JWT_MISSING', '401']);
    assert.equal((await request(envoy, '/nowhere')).status, 403);
    const unmatched = await lineFor('/nowhere');
    assert.deepEqual([unmatched.rule, unmatched.code], ['-', 'ERR_ROUTE_DENIED']);
  });

  test("Envoy's RBAC filter reads the verified client_id", async () => {
    const billing = token({ sub: 'b', client_id: 'billing-bot' });
    const audit = token({ sub: 'a', client_id: 'audit-bot' });
    assert.equal((await request(envoy, '/rbac/x', { headers: { authorization: `Bearer ${billing}` } })).status, 200);
    const denied = await request(envoy, '/rbac/y', { headers: { authorization: `Bearer ${audit}` } });
    assert.equal(denied.status, 403);
    assert.match(denied.text, /RBAC: access denied/);
    const line = await lineFor('/rbac/y');
    assert.deepEqual([line.client_id, line.rule, line.code], ['audit-bot', '1', '-'], 'edgeward allowed it; RBAC refused');
  });

  test('without filter_state in the VM configuration nothing is written', async () => {
    const t = token({ sub: 'bot-1', client_id: 'billing-bot', scope: 'read:orders' });
    assert.equal((await request(plain, '/orders/plain', { headers: { authorization: `Bearer ${t}` } })).status, 200);
    const line = await lineFor('/orders/plain', plainLogPath);
    assert.deepEqual(FIELDS.map((f) => line[f]), FIELDS.map(() => '-'));
  });

  test('EDGEWARD_FILTER_STATE=true in the VM environment turns it on (Istio: vmConfig.env)', async () => {
    const t = token({ sub: 'bot-3', client_id: 'billing-bot', scope: 'read:orders' });
    assert.equal((await request(fromEnv, '/orders/env', { headers: { authorization: `Bearer ${t}` } })).status, 200);
    const line = await lineFor('/orders/env', envLogPath);
    assert.deepEqual([line.provider, line.sub, line.client_id, line.rule], ['idp', 'bot-3', 'billing-bot', 'orders-read']);
  });
});
