// Keys and tokens for the Node benchmarks and the profile: a fresh key pair per algorithm (node:crypto),
// its public JWK and PEM, and tokens minted with it.
import crypto from 'node:crypto';

export const ISSUER = 'https://idp.example.com';
export const AUDIENCE = 'orders-api';
export const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
export const PSS = { padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };

export function keys(alg) {
  const pair =
    alg === 'ES256'
      ? crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : alg === 'EdDSA'
        ? crypto.generateKeyPairSync('ed25519')
        : crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  // node:crypto's hash and key options for this alg, for signing and (the floor) verifying.
  const hash = alg === 'EdDSA' ? null : 'sha256';
  const options = (key) =>
    alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : alg === 'PS256' ? { key, ...PSS } : key;
  const sign = (input) => crypto.sign(hash, Buffer.from(input), options(pair.privateKey));
  // RSA exports as kty RSA (alg says RS256 or PS256), Ed25519 as kty OKP crv Ed25519.
  const jwk = { ...pair.publicKey.export({ format: 'jwk' }), kid: 'k1', alg };
  const pem = pair.publicKey.export({ type: 'spki', format: 'pem' });
  const now = Math.floor(Date.now() / 1000);
  const mint = (i, claims = {}) => {
    const body = { iss: ISSUER, aud: AUDIENCE, sub: 'bot-7', scope: 'read:orders', iat: now, exp: now + 3600, jti: `t${i}`, ...claims };
    const input = `${b64({ alg, typ: 'JWT', kid: 'k1' })}.${b64(body)}`;
    return `${input}.${sign(input).toString('base64url')}`;
  };
  return { alg, hash, verifyKey: options(pair.publicKey), jwk, pem, publicKey: pair.publicKey, mint };
}
