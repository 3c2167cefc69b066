// Compiled by test/types.test.mjs with tsc --strict: the public types as an ESM user sees them.
import http from 'node:http';
import {
  Verifier,
  EdgewardError,
  createRemoteJwks,
  middleware,
  decodeUnverified,
  errorCodes,
  type Policy,
  type VerifyResult,
  type ErrorCode,
} from 'edgeward';

const policy: Policy = {
  providers: {
    'corp-idp': {
      issuer: 'https://idp.example.com',
      audiences: ['orders-api'],
      algorithms: ['ES256', 'EdDSA'],
      local_jwks: { keys: [{ kty: 'EC', crv: 'P-256', kid: 'k1', x: 'x', y: 'y' }] },
      from_headers: [{ name: 'authorization', value_prefix: 'Bearer ' }],
    },
  },
  rules: [{ match: { prefix: '/orders', methods: ['GET'] }, requires: { provider_name: 'corp-idp', scopes: ['read:orders'] } }],
  deny_wildcard_scopes: true,
};

const verifier = new Verifier(policy);
const result: VerifyResult = verifier.verify('t', { scopes: ['read:orders'], now: 1_800_000_000 });
const sub: string | undefined = typeof result.claims.sub === 'string' ? result.claims.sub : undefined;
const scopes: readonly string[] = result.scopes;
verifier.setJwks('corp-idp', { keys: [] });

try {
  verifier.verify('t');
} catch (error) {
  if (error instanceof EdgewardError) {
    const code: ErrorCode = error.code;
    const status: number = error.denial.status;
    void [code, status, error.claim, error.path];
  }
}

const outcome = verifier.authorize('GET', '/orders', { authorization: 'Bearer t' });
if (outcome.access === 'granted') void outcome.result.provider;

const remote = createRemoteJwks(verifier, 'corp-idp', 'https://idp.example.com/jwks', {
  cooldownDuration: 30_000,
  cacheMaxAge: 600_000,
  timeoutDuration: 5_000,
  fetch: (url, init) => fetch(url, init),
});
await remote.ready;
const viaRemote: Promise<VerifyResult> = remote.verify('t', { scopes: 'read:orders' });

const mw = middleware(verifier);
http.createServer((req, res) => mw(req, res, () => res.end(JSON.stringify(req.headers))));

const { header, claims } = decodeUnverified('t');
const codes: ErrorCode[] = errorCodes();
void [sub, scopes, viaRemote, header.alg, claims.exp, codes];

// @ts-expect-error scopes must be strings
verifier.verify('t', { scopes: [1] });
// @ts-expect-error unknown policy field
new Verifier({ providers: {}, bogus: true });
