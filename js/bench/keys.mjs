// Keys and tokens for the Node benchmarks and the profile: a fresh key pair per algorithm (node:crypto),
// its public JWK and PEM, and tokens minted with it.
import crypto from 'node:crypto';

export const ISSUER = 'https://idp.example.com';
export const AUDIENCE = 'orders-api';
export const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** PS256's PSS options (salt length = hash length, RFC 7518 §3.5); `pss(alg)` for the others. */
export const PSS = { padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };

/** Every algorithm the core verifies, in the order the benchmark tables list them. */
export const ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA'];

const CURVES = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };
const bits = (alg) => Number(alg.slice(2)); // 256, 384, 512
const pss = (alg) => ({ padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: bits(alg) / 8 });

/** A short description of the key behind `alg`, for the reports. */
export const keyDescription = (alg) =>
  alg === 'EdDSA' ? 'Ed25519' : alg.startsWith('ES') ? CURVES[alg] : `RSA 2048${alg.startsWith('PS') ? `, salt ${bits(alg) / 8}` : ''}`;

export function keys(alg) {
  if (!ALGORITHMS.includes(alg)) throw new Error(`no benchmark key for ${alg}`);
  const pair =
    alg === 'EdDSA'
      ? crypto.generateKeyPairSync('ed25519')
      : alg.startsWith('ES')
        ? crypto.generateKeyPairSync('ec', { namedCurve: CURVES[alg] })
        : crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  // node:crypto's hash and key options for this alg, for verifying (the floor); minter() signs with the same.
  const hash = alg === 'EdDSA' ? null : `sha${bits(alg)}`;
  const options = (key) =>
    alg.startsWith('ES') ? { key, dsaEncoding: 'ieee-p1363' } : alg.startsWith('PS') ? { key, ...pss(alg) } : key;
  // RSA exports as kty RSA (alg says RS*/PS*), EC as kty EC with its crv, Ed25519 as kty OKP crv Ed25519.
  const jwk = { ...pair.publicKey.export({ format: 'jwk' }), kid: 'k1', alg };
  const pem = pair.publicKey.export({ type: 'spki', format: 'pem' });
  const now = Math.floor(Date.now() / 1000);
  const mint = minter(alg, pair.privateKey, now);
  return { alg, hash, verifyKey: options(pair.publicKey), jwk, pem, publicKey: pair.publicKey, privateKey: pair.privateKey, now, mint };
}

/**
 * `mint(i, claims)` of `keys(alg)`, from its private key and `now` alone (a worker thread can be
 * handed both: js/bench/mint.mjs): iss, aud, sub, scope read:orders, iat now, exp an hour on,
 * jti `t${i}`, then `claims` over them.
 */
export function minter(alg, privateKey, now) {
  const hash = alg === 'EdDSA' ? null : `sha${bits(alg)}`;
  const key = alg.startsWith('ES') ? { key: privateKey, dsaEncoding: 'ieee-p1363' } : alg.startsWith('PS') ? { key: privateKey, ...pss(alg) } : privateKey;
  const header = b64({ alg, typ: 'JWT', kid: 'k1' });
  return (i, claims = {}) => {
    const body = { iss: ISSUER, aud: AUDIENCE, sub: 'bot-7', scope: 'read:orders', iat: now, exp: now + 3600, jti: `t${i}`, ...claims };
    const input = `${header}.${b64(body)}`;
    return `${input}.${crypto.sign(hash, Buffer.from(input), key).toString('base64url')}`;
  };
}
