// Plugin configuration in a real Envoy: the example envoy.yaml validates, and a bad policy makes
// on_configure fail with a log line naming the field, so Envoy refuses the configuration.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ENVOY, ROOT, envoyConfig, startEnvoy } from './lib/harness.mjs';

function validate(configPath) {
  const result = spawnSync(ENVOY, ['--mode', 'validate', '-c', configPath, '--disable-hot-restart', '--log-level', 'info'],
    { cwd: ROOT, encoding: 'utf8', timeout: 60000 });
  return { code: result.status, log: `${result.stdout}${result.stderr}` };
}

function validatePolicy(policy) {
  const dir = mkdtempSync(join(tmpdir(), 'edgeward-config-'));
  try {
    const path = join(dir, 'envoy.json');
    writeFileSync(path, JSON.stringify(envoyConfig({ upstreamPort: 9, jwksPort: 9, policy })));
    return validate(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const KEY = { kty: 'EC', crv: 'P-256', kid: 'k', x: 'i85e__ulNyFlKN1SJjfokviBWnbE2rGcW6UMff_sHig', y: 'annJ8mau-6i5Q5xiFunCU9b1_Fm_UbwiV1ainJK25ho' };
const provider = (extra) => ({ issuer: 'https://idp', audiences: ['api'], ...extra });
const good = {
  providers: { idp: provider({ local_jwks: { keys: [KEY] } }) },
  rules: [{ match: { prefix: '/' }, requires: { provider_name: 'idp' } }],
};

test('the example envoy/envoy.yaml validates (the filter configures itself)', () => {
  const { code, log } = validate('envoy/envoy.yaml');
  assert.equal(code, 0, log.slice(-3000));
  assert.match(log, /configuration 'envoy\/envoy.yaml' OK/);
});

test('a good policy validates', () => {
  const { code, log } = validatePolicy(good);
  assert.equal(code, 0, log.slice(-3000));
});

const bad = [
  ['remote_jwks without a cluster', { providers: { idp: provider({ remote_jwks: { uri: 'https://idp/jwks' } }) }, rules: [] },
    'providers.idp.remote_jwks.cluster'],
  ['a relative remote_jwks uri', { providers: { idp: provider({ remote_jwks: { cluster: 'idp', uri: '/jwks' } }) }, rules: [] },
    'providers.idp.remote_jwks.uri'],
  ['an unknown field', { ...good, deny_wildcard: true }, 'deny_wildcard'],
  ['a wrongly typed field', { ...good, providers: { idp: provider({ audiences: 'api', local_jwks: { keys: [KEY] } }) } },
    'providers.idp.audiences'],
  ['a rule naming an unknown provider', { ...good, rules: [{ match: { prefix: '/' }, requires: { provider_name: 'nope' } }] },
    'rules[0]'],
  ['a JWK with private material', { ...good, providers: { idp: provider({ local_jwks: { keys: [{ ...KEY, d: 'AAAA' }] } }) } },
    'providers.idp.local_jwks'],
  ['text that is not JSON (line and column)', 'providers: {}', '1:1:'],
  ['an empty configuration', '', '(document)'],
];
for (const [name, policy, path] of bad) {
  test(`refused: ${name}, with a log line naming ${path}`, () => {
    const { code, log } = validatePolicy(policy);
    assert.notEqual(code, 0);
    const line = log.split('\n').find((l) => l.includes('plugin configuration refused'));
    assert.ok(line, log.slice(-3000));
    assert.ok(line.includes(path), line);
    assert.ok(!line.includes('AAAA'), 'no key material in logs');
  });
}

test('a real Envoy refuses to start with a bad plugin configuration', async () => {
  const config = envoyConfig({ upstreamPort: 9, jwksPort: 9, policy: { ...good, bogus: 1 } });
  await assert.rejects(startEnvoy(config, { concurrency: 1 }), (e) => {
    assert.match(e.message, /envoy exited/);
    assert.match(e.message, /plugin configuration refused: invalid policy: bogus/);
    return true;
  });
});
