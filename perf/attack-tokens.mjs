// The keys and tokens of the attack benchmarks (envoy/bench/attack.mjs through Envoy,
// js/bench/attack.mjs through the npm package), made once here with node:crypto so both benches
// measure the same loads: valid ES256/RS256 tokens, bogus ones (a random signature of the right
// length), 16 KiB junk of ~1,100 small members, and a valid 16 KiB token.
import { generateKeyPair, generateKeyPairSync, randomBytes, randomInt, sign } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

/** The policy's default max_token_bytes. */
export const MAX_TOKEN_BYTES = 16384;

export const b64url = (data) => Buffer.from(data).toString('base64url');
const b64json = (value) => b64url(JSON.stringify(value));
const now = () => Math.floor(Date.now() / 1000);

/** `claims(sub, extra)`: valid one-hour claims for `issuer` and `audience`. */
export const claimsFor = (issuer, audience) => (sub, extra = {}) =>
  ({ iss: issuer, aud: audience, sub, iat: now(), exp: now() + 3600, ...extra });

export function esKey(kid) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid, privateKey, alg: 'ES256', jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' } };
}

export function rsKey(kid, bits) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return { kid, privateKey, alg: 'RS256', jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' } };
}

/**
 * An 8192-bit RSA key takes Node 5–60 s to generate: its public half is kept in
 * `<root>/target/bench-attack/` (bogus tokens need no private key).
 */
export async function rs8192(kid, root) {
  const cache = join(root, 'target/bench-attack/rsa-8192.public.json');
  let jwk;
  try { jwk = JSON.parse(readFileSync(cache, 'utf8')); } catch { /* not there yet */ }
  if (!jwk || Buffer.from(jwk.n, 'base64url').length !== 1024) {
    console.log('generating an 8192-bit RSA key (once; kept in target/bench-attack/)…');
    const { publicKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 8192 });
    const { kty, n, e } = publicKey.export({ format: 'jwk' });
    jwk = { kty, n, e };
    mkdirSync(dirname(cache), { recursive: true });
    writeFileSync(cache, JSON.stringify(jwk));
  }
  return { kid, alg: 'RS256', jwk: { ...jwk, kid, alg: 'RS256', use: 'sig' } };
}

/** A compact JWS of `body` signed by `key` (ES256 as raw r‖s). */
export function mint(key, body) {
  const input = `${b64json({ alg: key.alg, typ: 'at+jwt', kid: key.kid })}.${b64json(body)}`;
  const options = key.alg === 'ES256' ? { key: key.privateKey, dsaEncoding: 'ieee-p1363' } : key.privateKey;
  return `${input}.${b64url(sign('sha256', Buffer.from(input), options))}`;
}

// A bogus signature an attacker would send: random, but of the right length and below the RSA
// modulus (one at or above it is refused before any arithmetic), or with 1 ≤ r, s < n for ES256
// (random 32-byte values are below n but with probability 2^-32).
function bogusSignature(key) {
  if (key.alg === 'ES256') return b64url(randomBytes(64));
  const n = Buffer.from(key.jwk.n, 'base64url');
  const s = randomBytes(n.length);
  s[0] = randomInt(0, n[0]);
  return b64url(s);
}

/** `body` under `key`'s header with a bogus signature. */
export const bogus = (key, body) => `${b64json({ alg: key.alg, typ: 'at+jwt', kid: key.kid })}.${b64json(body)}.${bogusSignature(key)}`;

/** ~1,100 small members ("m0001":12, …) filling a token to MAX_TOKEN_BYTES, with a random signature. */
export function junkToken(kid) {
  const header = b64json({ alg: 'ES256', typ: 'at+jwt', kid });
  const budget = Math.floor((MAX_TOKEN_BYTES - header.length - 2 - 86) * 3 / 4); // 86: 64 bytes of base64url
  const members = [];
  let bytes = 2;
  for (let i = 0; ; i += 1) {
    const member = `"m${String(i).padStart(4, '0')}":${10 + (i % 90)}`;
    if (bytes + member.length + 1 > budget) break;
    members.push(member);
    bytes += member.length + 1;
  }
  return { token: `${header}.${b64url(`{${members.join(',')}}`)}.${b64url(randomBytes(64))}`, members: members.length };
}

/** A valid token of exactly MAX_TOKEN_BYTES: `claims(sub)` plus one long padding claim. */
export function bigValidToken(key, claims, i) {
  const at = (pad) => mint(key, claims(`big-${i}`, { pad: 'x'.repeat(pad) }));
  let pad = 10000;
  while (at(pad + 100).length <= MAX_TOKEN_BYTES) pad += 100;
  while (at(pad + 1).length <= MAX_TOKEN_BYTES) pad += 1;
  return at(pad);
}
