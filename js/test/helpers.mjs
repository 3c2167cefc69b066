// Test keys and tokens, made with node:crypto only (no code shared with edgeward's signer).
import crypto from 'node:crypto';

// A fixed "now" for the tests: 2027-01-15T08:00:00Z.
export const NOW = 1_800_000_000;
export const ISSUER = 'https://idp.example.com';
export const AUDIENCE = 'orders-api';

const b64 = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A key pair with its public JWK (`kid` given) and a `sign(input)` for its algorithm. */
export function keyPair(alg, kid) {
  let pair;
  let sign;
  switch (alg) {
    case 'ES256':
    case 'ES384': {
      const curve = alg === 'ES256' ? 'P-256' : 'P-384';
      const hash = alg === 'ES256' ? 'sha256' : 'sha384';
      pair = crypto.generateKeyPairSync('ec', { namedCurve: curve });
      // JWS wants raw r||s (IEEE P1363), not DER.
      sign = (input) => crypto.sign(hash, Buffer.from(input), { key: pair.privateKey, dsaEncoding: 'ieee-p1363' });
      break;
    }
    case 'RS256':
      pair = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
      sign = (input) => crypto.sign('sha256', Buffer.from(input), pair.privateKey);
      break;
    case 'PS256':
      pair = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
      sign = (input) =>
        crypto.sign('sha256', Buffer.from(input), {
          key: pair.privateKey,
          padding: crypto.constants.RSA_PKCS1_PSS_PADDING,
          saltLength: 32,
        });
      break;
    case 'EdDSA':
      pair = crypto.generateKeyPairSync('ed25519');
      sign = (input) => crypto.sign(null, Buffer.from(input), pair.privateKey);
      break;
    default:
      throw new Error(`no test key for ${alg}`);
  }
  const jwk = { ...pair.publicKey.export({ format: 'jwk' }), kid };
  return { alg, kid, jwk, sign, privateKey: pair.privateKey, publicKey: pair.publicKey };
}

/** A compact JWS of `claims` signed by `key`; `header` adds to (or overrides) alg/kid/typ. */
export function mint(key, claims, header = {}) {
  const fullHeader = { alg: key.alg, typ: 'at+jwt', kid: key.kid, ...header };
  for (const name of Object.keys(fullHeader)) if (fullHeader[name] === undefined) delete fullHeader[name];
  const input = `${b64(fullHeader)}.${b64(claims)}`;
  return `${input}.${key.sign(input).toString('base64url')}`;
}

/** Claims that pass the standard policy at NOW, with `extra` merged in. */
export function claims(extra = {}) {
  return { iss: ISSUER, aud: AUDIENCE, sub: 'bot-7', iat: NOW - 60, exp: NOW + 540, scope: 'read:orders', ...extra };
}

/** The README-style policy with one provider `corp-idp` using `keys` (public JWKs). */
export function policy(keys, provider = {}, top = {}) {
  return {
    providers: {
      'corp-idp': {
        issuer: ISSUER,
        audiences: [AUDIENCE],
        algorithms: ['ES256'],
        local_jwks: { keys },
        ...provider,
      },
    },
    rules: [
      { match: { prefix: '/healthz' } },
      { match: { prefix: '/orders', methods: ['GET'] }, requires: { provider_name: 'corp-idp', scopes: ['read:orders'] } },
      { match: { prefix: '/orders' }, requires: { provider_name: 'corp-idp', scopes: ['write:order_status'] } },
    ],
    ...top,
  };
}

/** Whether `fn` throws an EdgewardError with `code`; returns the error. */
export function codeOf(fn) {
  try {
    fn();
  } catch (error) {
    return error.code ?? `not an EdgewardError: ${error}`;
  }
  return 'no error';
}
