// An independent JWS implementation for the interop tests: Node's own node:crypto (OpenSSL),
// sharing no code with edgeward. Two commands, JSON in on stdin, JSON out on stdout:
//
//   node node_jws.mjs sign ALG     stdin {"claims": {...}, "kid": "..."}
//                                  stdout {"jwk": <public JWK>, "token": "<compact JWS>"}
//   node node_jws.mjs verify       stdin {"jwk": <public JWK>, "token": "<compact JWS>"}
//                                  stdout {"valid": bool, "alg": ..., "claims": {...}}
//
// ECDSA signatures are IEEE P1363 (r||s), PSS uses a salt as long as the hash (RFC 7518 §3.5).
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';

const ALGORITHMS = {
  ES256: { kind: 'ec', options: { namedCurve: 'P-256' }, hash: 'sha256', dsaEncoding: 'ieee-p1363' },
  ES384: { kind: 'ec', options: { namedCurve: 'P-384' }, hash: 'sha384', dsaEncoding: 'ieee-p1363' },
  ES512: { kind: 'ec', options: { namedCurve: 'P-521' }, hash: 'sha512', dsaEncoding: 'ieee-p1363' },
  RS256: { kind: 'rsa', options: { modulusLength: 2048 }, hash: 'sha256', padding: crypto.constants.RSA_PKCS1_PADDING },
  RS384: { kind: 'rsa', options: { modulusLength: 2048 }, hash: 'sha384', padding: crypto.constants.RSA_PKCS1_PADDING },
  RS512: { kind: 'rsa', options: { modulusLength: 2048 }, hash: 'sha512', padding: crypto.constants.RSA_PKCS1_PADDING },
  PS256: {
    kind: 'rsa', options: { modulusLength: 2048 }, hash: 'sha256',
    padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32,
  },
  PS384: {
    kind: 'rsa', options: { modulusLength: 2048 }, hash: 'sha384',
    padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 48,
  },
  PS512: {
    kind: 'rsa', options: { modulusLength: 2048 }, hash: 'sha512',
    padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 64,
  },
  EdDSA: { kind: 'ed25519', options: {}, hash: null },
};

const b64url = (buffer) => Buffer.from(buffer).toString('base64url');
const fromB64url = (text) => Buffer.from(text, 'base64url');

function keyOptions(spec, key) {
  const options = { key };
  if (spec.dsaEncoding) options.dsaEncoding = spec.dsaEncoding;
  if (spec.padding !== undefined) options.padding = spec.padding;
  if (spec.saltLength !== undefined) options.saltLength = spec.saltLength;
  return options;
}

function sign(alg, input) {
  const spec = ALGORITHMS[alg];
  if (!spec) throw new Error(`unsupported alg ${alg}`);
  const { publicKey, privateKey } = crypto.generateKeyPairSync(spec.kind, spec.options);
  const jwk = { ...publicKey.export({ format: 'jwk' }), alg, use: 'sig' };
  const header = { alg, typ: 'at+jwt' };
  if (input.kid) {
    jwk.kid = input.kid;
    header.kid = input.kid;
  }
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(input.claims))}`;
  const signature = crypto.sign(spec.hash, Buffer.from(signingInput), keyOptions(spec, privateKey));
  return { jwk, token: `${signingInput}.${b64url(signature)}` };
}

function verify(input) {
  const segments = input.token.split('.');
  if (segments.length !== 3) return { valid: false, reason: 'not three segments' };
  const [headerPart, payloadPart, signaturePart] = segments;
  const header = JSON.parse(fromB64url(headerPart).toString('utf8'));
  const spec = ALGORITHMS[header.alg];
  if (!spec || header.alg !== input.jwk.alg) return { valid: false, reason: 'alg mismatch' };
  const publicKey = crypto.createPublicKey({ key: input.jwk, format: 'jwk' });
  let valid;
  try {
    valid = crypto.verify(
      spec.hash,
      Buffer.from(`${headerPart}.${payloadPart}`),
      keyOptions(spec, publicKey),
      fromB64url(signaturePart),
    );
  } catch {
    valid = false; // OpenSSL may throw on a malformed signature instead of returning false
  }
  return { valid, alg: header.alg, kid: header.kid, claims: JSON.parse(fromB64url(payloadPart).toString('utf8')) };
}

const [command, alg] = process.argv.slice(2);
const input = JSON.parse(readFileSync(0, 'utf8'));
const output = command === 'sign' ? sign(alg, input) : command === 'verify' ? verify(input) : null;
if (!output) {
  process.stderr.write(`usage: node_jws.mjs sign ALG | verify\n`);
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(output)}\n`);
