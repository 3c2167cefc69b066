// `edgeward jwks diff` on a real oidc-provider's key rotation (js/test/lib/idp.mjs), following
// docs/rotation.md: the new key published beside the old one (safe: exit 0, new-key names the
// cache duration to wait), then signing switched and the old key retired (removed-key: exit 1,
// naming max_lifetime_seconds + clock_skew_seconds). The documents are the IdP's own, fetched from
// its discovery document's jwks_uri.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startIdp, firstKid } from './lib/idp.mjs';
import { runCli } from './lib/cli.mjs';

let idp, dir, jwksUri;

before(async () => {
  idp = await startIdp({ alg: 'ES256' });
  dir = mkdtempSync(join(tmpdir(), 'edgeward-jwks-diff-'));
  jwksUri = (await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json()).jwks_uri;
  writeFileSync(join(dir, 'policy.json'), JSON.stringify({
    providers: { idp: {
      issuer: idp.issuer, audiences: ['orders-api'], algorithms: ['ES256'],
      remote_jwks: { cluster: 'idp', uri: jwksUri, cache_duration_seconds: 300, refetch_cooldown_seconds: 30 },
    } },
  }));
});
after(async () => {
  await idp?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Saves the IdP's current JWKS as `name`. */
async function snapshot(name) {
  const res = await fetch(jwksUri);
  assert.equal(res.status, 200);
  writeFileSync(join(dir, name), await res.text());
}

const diff = (...args) => runCli(['jwks', 'diff', '--policy', 'policy.json', ...args], { cwd: dir });

test('a rotation by the runbook: publish ahead (safe), switch and retire (needs care)', async () => {
  const first = firstKid('ES256');
  await snapshot('before.json');
  await idp.createKey('next', 'ES256');
  idp.publish([first, 'next']);
  await snapshot('published.json');

  const ahead = diff('before.json', 'published.json');
  assert.equal(ahead.code, 0, ahead.stderr);
  assert.match(ahead.stdout, new RegExp(`^kept +${first} `, 'm'));
  assert.match(ahead.stdout, /^added +next /m);
  assert.match(ahead.stdout, /^next: .*cache_duration_seconds \(300 s\).*refetch_cooldown_seconds \(30 s\).*\[new-key\]$/m);

  idp.signWith('next');
  idp.publish(['next']);
  await snapshot('retired.json');
  const retire = diff('published.json', 'retired.json');
  assert.equal(retire.code, 1, retire.stdout);
  assert.match(retire.stdout, new RegExp(`^removed +${first} `, 'm'));
  assert.match(retire.stdout, new RegExp(`^${first}: .*\\(3630 s\\).*\\[removed-key\\]$`, 'm'));
  assert.match(retire.stderr, /^edgeward: the rotation needs care: 1 finding\n$/);

  const json = diff('published.json', 'retired.json', '--format', 'json');
  const report = JSON.parse(json.stdout);
  assert.equal(report.safe, false);
  assert.deepEqual(report.keys.map((k) => [k.change, k.kid]), [['kept', 'next'], ['removed', first]]);
  assert.deepEqual(report.findings.map((f) => f.kind), ['removed-key']);
  // Nothing private, ever: the documents are public, and so is what the diff says.
  assert.doesNotMatch(json.stdout + retire.stdout, /"d"\s*:/);
});

test('bad input: an old document that does not load, an unknown provider', async () => {
  writeFileSync(join(dir, 'garbage.json'), 'not json');
  await snapshot('now.json');
  const garbage = diff('garbage.json', 'now.json');
  assert.equal(garbage.code, 2);
  assert.match(garbage.stderr, /ERR_JWKS_INVALID/);
  const unknown = diff('now.json', 'now.json', '--provider', 'nobody');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /no provider "nobody"/);
});
