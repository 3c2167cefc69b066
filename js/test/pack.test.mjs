// As a user would: npm pack, install the tarball into a fresh project (offline: the package has
// no runtime dependencies), then require it, import it, import edgeward/web, and type-check.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NOW, keyPair, mint, claims, policy } from './helpers.mjs';

const js = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let work;
let project;
let tarball;

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 120_000, ...options });
  assert.equal(result.status, 0, `${command} ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

before(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'edgeward-pack-'));
  const cache = path.join(work, 'npm-cache');
  const out = run('npm', ['pack', '--json', '--pack-destination', work, '--cache', cache], { cwd: js });
  tarball = path.join(work, JSON.parse(out)[0].filename);
  project = path.join(work, 'consumer');
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--cache', cache, tarball], { cwd: project });
});

after(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

test('the tarball holds the package and nothing else', () => {
  const files = run('tar', ['tzf', tarball]).trim().split('\n').map((f) => f.replace(/^package\//, '')).sort();
  // docs/ is the repository's docs/ folder, copied by build.sh: js/README.md links into it.
  const docs = files.filter((f) => f.startsWith('docs/'));
  const repoDocs = path.join(js, '..', 'docs');
  const wanted = fs.existsSync(repoDocs)
    ? fs.readdirSync(repoDocs, { recursive: true }).filter((f) => fs.statSync(path.join(repoDocs, f)).isFile())
    : [];
  assert.deepEqual(docs, wanted.map((f) => `docs/${f.split(path.sep).join('/')}`).sort());
  assert.ok(docs.includes('docs/policy.md'), 'the policy reference js/README.md links to');
  const expected = [
    'LICENSE',
    'README.md',
    'fastify.cjs',
    'fastify.d.ts',
    'index.cjs',
    'index.d.ts',
    'index.mjs',
    'node.d.ts',
    'package.json',
    'pkg-web/api.mjs',
    'pkg-web/edgeward_js.js',
    'pkg-web/edgeward_js_bg.wasm',
    'pkg-web/package.json',
    'pkg/api.cjs',
    'pkg/edgeward_js.js',
    'pkg/edgeward_js_bg.wasm',
    'web.d.mts',
    'web.mjs',
  ];
  assert.deepEqual(files.filter((f) => !f.startsWith('docs/')), expected);
  const manifest = JSON.parse(fs.readFileSync(path.join(project, 'node_modules/edgeward/package.json'), 'utf8'));
  assert.equal(manifest.dependencies, undefined, 'no runtime dependencies');
});

test('the unpacked tarball has the LICENSE and docs/policy.md, and every relative link in it resolves inside it', () => {
  const unpacked = path.join(work, 'unpacked');
  fs.mkdirSync(unpacked);
  run('tar', ['xzf', tarball, '-C', unpacked]);
  const pkg = path.join(unpacked, 'package');
  const license = fs.readFileSync(path.join(js, '..', 'LICENSE'), 'utf8');
  assert.equal(fs.readFileSync(path.join(pkg, 'LICENSE'), 'utf8'), license, 'the repository LICENSE');
  assert.ok(fs.statSync(path.join(pkg, 'docs/policy.md')).isFile(), 'docs/policy.md, which README.md links to');
  run(process.execPath, [path.join(js, '..', 'scripts/check-links.mjs'), '--dir', pkg]);
});

test('require, import and edgeward/web each verify a token', () => {
  const key = keyPair('ES256', 'k1');
  const env = {
    ...process.env,
    EDGEWARD_POLICY: JSON.stringify(policy([key.jwk])),
    EDGEWARD_TOKEN: mint(key, claims()),
    EDGEWARD_BAD: mint(keyPair('ES256', 'k1'), claims()),
    EDGEWARD_NOW: String(NOW),
  };
  // Each script prints only the verdicts, never the token.
  const body = `
    const v = new Verifier(process.env.EDGEWARD_POLICY);
    const now = Number(process.env.EDGEWARD_NOW);
    const ok = v.verify(process.env.EDGEWARD_TOKEN, { now, scopes: ['read:orders'] });
    let bad;
    try { v.verify(process.env.EDGEWARD_BAD, { now }); } catch (e) { bad = (e instanceof EdgewardError && e instanceof Error) ? e.code : 'wrong class'; }
    console.log(JSON.stringify({ sub: ok.claims.sub, provider: ok.provider, bad }));
  `;
  const scripts = {
    'check.cjs': `const { Verifier, EdgewardError } = require('edgeward');${body}`,
    'check.mjs': `import { Verifier, EdgewardError } from 'edgeward';${body}`,
    'check-web.mjs': `
      import fs from 'node:fs';
      import { createRequire } from 'node:module';
      import init, { Verifier, EdgewardError } from 'edgeward/web';
      const wasm = createRequire(import.meta.url).resolve('edgeward/package.json').replace('package.json', 'pkg-web/edgeward_js_bg.wasm');
      await init(fs.readFileSync(wasm));
      ${body}`,
  };
  for (const [name, source] of Object.entries(scripts)) {
    fs.writeFileSync(path.join(project, name), source);
    const out = run(process.execPath, [name], { cwd: project, env });
    assert.deepEqual(JSON.parse(out), { sub: 'bot-7', provider: 'corp-idp', bad: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' }, name);
  }
});

test('the shipped types check under tsc --strict', () => {
  fs.writeFileSync(
    path.join(project, 'check.mts'),
    `import { Verifier, type VerifyResult, type Policy } from 'edgeward';
     import init from 'edgeward/web';
     import { authenticate, requireScopes } from 'edgeward';
     const guards = [authenticate, requireScopes];
     void guards;
     const policy: Policy = { providers: { a: { issuer: 'i', audiences: ['x'], local_jwks: { keys: [] } } } };
     const r: VerifyResult = new Verifier(policy).verify('t', { scopes: ['s'] });
     const n: number = r.claims.exp ?? 0;
     void [n, init];
    `,
  );
  fs.writeFileSync(
    path.join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, module: 'node16', moduleResolution: 'node16', target: 'es2022', lib: ['es2022', 'dom'], types: [] },
      files: ['check.mts'],
    }),
  );
  run(process.execPath, [path.join(js, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: project });
});
