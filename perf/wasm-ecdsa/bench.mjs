// Times cold signature verification in Node 20: edgeward's wasm build (this crate's harness over
// `Algorithm::verify`, tables built at key load), plain `p256` verify in the same module, and
// node:crypto (OpenSSL) as the peer, plus jose's jwtVerify on whole tokens; interleaved rounds,
// CPU time per verification (process.cpuUsage, all threads), medians. Usage: node bench.mjs
// [rounds] (ROUND_MS per verifier and round, default 400).
import crypto from 'node:crypto';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const { Harness, WindowKey, RsaPow, generator_table_bytes } = require(path.join(here, 'pkg', 'wasm_ecdsa.js'));
let jose = null;
try {
  jose = await import(path.join(here, '..', '..', 'js', 'node_modules', 'jose', 'dist', 'webapi', 'index.js'));
} catch {
  try {
    jose = createRequire(path.join(here, '..', '..', 'js', 'package.json'))('jose');
  } catch {
    jose = null;
  }
}

const ROUNDS = Number(process.argv[2] ?? 7);
const ROUND_MS = Number(process.env.ROUND_MS ?? 400);
const POOL = 256;
const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
const cpu = () => {
  const u = process.cpuUsage();
  return u.user + u.system; // µs
};
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// Keys and signatures.
const es = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const ed = crypto.generateKeyPairSync('ed25519');
const jwk = (pair, kid, alg) => ({ ...pair.publicKey.export({ format: 'jwk' }), kid, alg });
const keys = { ES256: [es, 'es'], RS256: [rsa, 'rsa'], PS256: [rsa, 'rsa-pss'], EdDSA: [ed, 'ed'] };
const jwks = JSON.stringify({
  keys: [jwk(es, 'es', 'ES256'), jwk(rsa, 'rsa', 'RS256'), jwk(rsa, 'rsa-pss', 'PS256'), jwk(ed, 'ed', 'EdDSA')],
});
const now = Math.floor(Date.now() / 1000);
const signWith = {
  ES256: (m) => crypto.sign('sha256', m, { key: es.privateKey, dsaEncoding: 'ieee-p1363' }),
  RS256: (m) => crypto.sign('sha256', m, rsa.privateKey),
  PS256: (m) =>
    crypto.sign('sha256', m, { key: rsa.privateKey, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }),
  EdDSA: (m) => crypto.sign(null, m, ed.privateKey),
};
const verifyWith = {
  ES256: (m, s) => crypto.verify('sha256', m, { key: es.publicKey, dsaEncoding: 'ieee-p1363' }, s),
  RS256: (m, s) => crypto.verify('sha256', m, rsa.publicKey, s),
  PS256: (m, s) =>
    crypto.verify('sha256', m, { key: rsa.publicKey, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, s),
  EdDSA: (m, s) => crypto.verify(null, m, ed.publicKey, s),
};
const fixtures = {};
for (const alg of Object.keys(keys)) {
  const kid = keys[alg][1];
  const messages = [];
  const signatures = [];
  const tokens = [];
  for (let i = 0; i < POOL; i++) {
    const input = `${b64({ alg, typ: 'JWT', kid })}.${b64({ iss: 'https://idp.example.com', aud: 'orders-api', sub: 'bot-7', scope: 'read:orders', iat: now, exp: now + 3600, jti: `t${i}` })}`;
    const m = Buffer.from(input);
    const s = signWith[alg](m);
    messages.push(new Uint8Array(m));
    signatures.push(new Uint8Array(s));
    tokens.push(`${input}.${Buffer.from(s).toString('base64url')}`);
  }
  fixtures[alg] = { kid, messages, signatures, tokens };
}

// Key loading (the first load also builds the generator's table).
let t = performance.now();
const harness = new Harness(jwks);
const firstLoadMs = performance.now() - t;
const loads = [];
for (let i = 0; i < 5; i++) {
  t = performance.now();
  new Harness(jwks).free();
  loads.push(performance.now() - t);
}
const esOnly = JSON.stringify({ keys: [jwk(es, 'es', 'ES256')] });
const esLoads = [];
for (let i = 0; i < 5; i++) {
  t = performance.now();
  new Harness(esOnly).free();
  esLoads.push(performance.now() - t);
}
const sec1 = new Uint8Array(es.publicKey.export({ format: 'der', type: 'spki' }).subarray(-65));
const windows = {};
for (const w of [4, 5, 6, 7, 8]) {
  const times = [];
  let key;
  for (let i = 0; i < 3; i++) {
    if (key) key.free();
    t = performance.now();
    key = new WindowKey(sec1, w);
    times.push(performance.now() - t);
  }
  windows[w] = { key, loadMs: median(times), bytes: key.table_bytes() };
}

// Verifiers: each returns a function (i) => boolean.
const verifiers = [];
for (const alg of Object.keys(keys)) {
  const f = fixtures[alg];
  verifiers.push({ name: `${alg} edgeward (wasm)`, alg, run: (i) => harness.verify(alg, f.kid, f.messages[i], f.signatures[i]) });
  verifiers.push({ name: `${alg} node:crypto`, alg, run: (i) => verifyWith[alg](f.messages[i], f.signatures[i]) });
}
const fes = fixtures.ES256;
verifiers.push({ name: 'ES256 p256 verify (wasm)', alg: 'ES256', run: (i) => harness.verify_p256(fes.kid, fes.messages[i], fes.signatures[i]) });
// BASELINE_PKG=<dir>: the same harness built from another edgeward commit, timed in this run.
if (process.env.BASELINE_PKG) {
  const base = require(path.resolve(process.env.BASELINE_PKG, 'wasm_ecdsa.js'));
  const baseline = new base.Harness(jwks);
  verifiers.push({ name: 'ES256 edgeward baseline build (wasm)', alg: 'ES256', run: (i) => baseline.verify('ES256', fes.kid, fes.messages[i], fes.signatures[i]) });
}
for (const w of [4, 5, 6, 7, 8]) {
  verifiers.push({ name: `ES256 edgeward w=${w} (wasm)`, alg: 'ES256', run: (i) => windows[w].key.verify(fes.messages[i], fes.signatures[i]) });
}
// The RSA public-key operation alone: the rsa crate's exponentiation vs square-and-multiply.
const rsaJwk = rsa.publicKey.export({ format: 'jwk' });
const rsaPow = new RsaPow(Buffer.from(rsaJwk.n, 'base64url'), Buffer.from(rsaJwk.e, 'base64url'));
const frs = fixtures.RS256;
for (let i = 0; i < 4; i++) {
  if (Buffer.compare(Buffer.from(rsaPow.crate_pow(frs.signatures[i])), Buffer.from(rsaPow.direct_pow(frs.signatures[i]))) !== 0)
    throw new Error('the two RSA exponentiations disagree');
}
verifiers.push({ name: 'RSA s^e mod n: rsa crate pow (wasm)', alg: 'RS256', run: (i) => rsaPow.crate_pow(frs.signatures[i]).length > 0 });
verifiers.push({ name: 'RSA s^e mod n: square-and-multiply (wasm)', alg: 'RS256', run: (i) => rsaPow.direct_pow(frs.signatures[i]).length > 0 });
if (jose) {
  for (const alg of Object.keys(keys)) {
    const f = fixtures[alg];
    const key = await jose.importJWK(jwk(keys[alg][0], f.kid, alg), alg);
    verifiers.push({
      name: `${alg} jose jwtVerify (whole token)`,
      alg,
      async: true,
      run: (i) => jose.jwtVerify(f.tokens[i], key, { issuer: 'https://idp.example.com', audience: 'orders-api', algorithms: [alg] }),
    });
  }
}
for (const v of verifiers) {
  for (let i = 0; i < 8; i++) {
    const ok = v.async ? await v.run(i) : v.run(i);
    if (!ok) throw new Error(`${v.name} refused a valid signature`);
  }
  v.samples = [];
}

for (let round = 0; round < ROUNDS; round++) {
  for (const v of verifiers) {
    let done = 0;
    const wallStart = performance.now();
    const cpuStart = cpu();
    while (performance.now() - wallStart < ROUND_MS) {
      for (let k = 0; k < 16; k++) {
        const i = done++ % POOL;
        if (v.async) await v.run(i);
        else v.run(i);
      }
    }
    v.samples.push((cpu() - cpuStart) / done);
  }
}

const out = [];
out.push(`Node ${process.version}, ${ROUNDS} rounds × ${ROUND_MS} ms per verifier, ${POOL} distinct signatures; CPU µs per verification (median of rounds; min–max)`);
out.push('');
out.push('| verifier | µs (median) | min–max | vs node:crypto |');
out.push('| --- | --- | --- | --- |');
const byName = Object.fromEntries(verifiers.map((v) => [v.name, median(v.samples)]));
for (const v of verifiers) {
  const m = median(v.samples);
  const peer = byName[`${v.alg} node:crypto`];
  out.push(`| ${v.name} | ${m.toFixed(1)} | ${Math.min(...v.samples).toFixed(1)}–${Math.max(...v.samples).toFixed(1)} | ${(m / peer).toFixed(2)}× |`);
}
out.push('');
out.push(`Key loading: first JWKS (4 keys, builds the generator table too) ${firstLoadMs.toFixed(1)} ms; again ${median(loads).toFixed(1)} ms (median); ES256 key alone ${median(esLoads).toFixed(1)} ms.`);
out.push(`Generator table: ${generator_table_bytes()} bytes per process. Per-key ES256 table: ${harness.table_bytes('es')} bytes.`);
out.push('');
out.push('| window bits | table bytes per key | key load ms (median of 3) |');
out.push('| --- | --- | --- |');
for (const w of [4, 5, 6, 7, 8]) out.push(`| ${w} | ${windows[w].bytes} | ${windows[w].loadMs.toFixed(2)} |`);
console.log(out.join('\n'));
