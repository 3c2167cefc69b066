// Compiled by test/types.test.mjs with tsc --strict: the public types as an ESM user sees them.
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import {
  Verifier,
  EdgewardError,
  createRemoteJwks,
  middleware,
  decisionLogger,
  memoryReplayStore,
  redisReplayStore,
  decodeUnverified,
  errorCodes,
  type Policy,
  type VerifyResult,
  type ErrorCode,
  type ReplayStore,
  type ReplayAnswer,
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
// Decision lines to a file or a stream.
const logged = middleware(verifier, { decisionLog: '/var/log/decisions.log' });
const dropped: number | undefined = logged.decisionLog?.dropped;
const toStdout = decisionLogger(process.stdout, { now: () => Date.now() });
middleware(verifier, { onDecision: toStdout });
const closed: Promise<void> = toStdout.close();
void [dropped, closed];
// @ts-expect-error a log is a path or a stream
middleware(verifier, { decisionLog: 5 });

const { header, claims } = decodeUnverified('t');
const codes: ErrorCode[] = errorCodes();
void [sub, scopes, viaRemote, header.alg, claims.exp, codes];

// @ts-expect-error scopes must be strings
verifier.verify('t', { scopes: [1] });
// @ts-expect-error unknown policy field
new Verifier({ providers: {}, bogus: true });

// Proof of possession: the connection, the proof on an answer, replay stores.
const answer = verifier.authorize('GET', '/orders', ['authorization', 'DPoP t', 'dpop', 'p'], {
  connection: { scheme: 'https', authority: 'api.example.com', peerCertificate: new Uint8Array(8), peerUriSan: 'spiffe://x/y' },
});
if (answer.access === 'granted' && answer.proof !== undefined) {
  const ttl: number = answer.proof.ttlSeconds;
  const refusal: EdgewardError = verifier.proofRefusal(answer, 'unavailable', new Error('down'));
  void [ttl, refusal.record?.code];
}
const memory = memoryReplayStore({ buckets: 16, entriesPerBucket: 4 });
const held: number = memory.size + verifier.replayStore.size;
const custom: ReplayStore = { record: async (): Promise<ReplayAnswer> => 'fresh' };
declare const nodeRedis: { set(key: string, value: string, options: { NX: true; EX: number }): Promise<string | null> };
declare const ioredis: { set(key: string, value: string, ex: 'EX', seconds: number, nx: 'NX'): Promise<'OK' | null> };
const shared = redisReplayStore(nodeRedis);
redisReplayStore(ioredis, { prefix: 'api:', api: 'ioredis' });
// @ts-expect-error the bound is the middleware's replayTimeoutMs
redisReplayStore(nodeRedis, { timeoutMs: 500 });
https.createServer({ requestCert: true, rejectUnauthorized: false }, (req, res) => middleware(verifier, { replayStore: shared, replayTimeoutMs: 500 })(req, res));
http2.createSecureServer({}, (req, res) => middleware(verifier, { replayStore: custom })(req, res));
void held;
// @ts-expect-error a store answers 'fresh' or 'replayed'
const wrong: ReplayStore = { record: () => true };
// @ts-expect-error the certificate is DER bytes, not PEM text
verifier.authorize('GET', '/', {}, { connection: { peerCertificate: '-----BEGIN' } });
