// Equivalence with Envoy's own filters (issue 12): the same routes written once as native
// `jwt_authn` + RBAC and once as an edgeward policy, in two real Envoy 1.40s behind the same
// upstream and the same JWKS server. Every request (the same tokens, minted once) goes to both;
// for each scenario the statuses must agree and be the one expected. Where edgeward is stricter by
// design, or answers with another status, the case is in `intendedDifferences` with both statuses
// asserted (envoy/README.md, "Where edgeward is stricter").
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  envoyConfig, makeKey, metrics, mint, mintNone, nowSeconds, rbacFilter, request, startEchoUpstream, startEnvoy, startJwksServer,
  stopAll, until,
} from './lib/harness.mjs';

const CORP = 'https://idp.corp.test';
const PARTNER = 'https://idp.partner.test';
const AUDIENCE = 'orders-api';
const JWKS_URI = 'http://idp.test/jwks.json';

// corp's keys come from the JWKS server (remote_jwks on both sides); partner's are inline.
const corpKey = makeKey('corp-1');
const partnerKey = makeKey('partner-1');
const strangerKey = makeKey('stranger-1');
const corpRsa = makeRsaKey('corp-rsa');

// ---- tokens ----

const b64url = (data) => Buffer.from(data).toString('base64url');

/** An RS256 key: corp publishes it too, but the edgeward policy allows ES256 only. */
function makeRsaKey(kid) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' } };
}

/** A JWS over exactly `payload` (a string: duplicate members are possible) with an ES256 `key`. */
function mintRaw(key, payload) {
  const input = `${b64url(JSON.stringify({ alg: 'ES256', typ: 'at+jwt', kid: key.kid }))}.${b64url(payload)}`;
  const signature = sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64url(signature)}`;
}

function mintRs256(key, claims) {
  const input = `${b64url(JSON.stringify({ alg: 'RS256', typ: 'at+jwt', kid: key.kid }))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${b64url(sign('sha256', Buffer.from(input), key.privateKey))}`;
}

let now;
const corpClaims = (extra = {}) => ({
  iss: CORP, aud: AUDIENCE, sub: 'bot-1', client_id: 'billing-bot', scope: 'read:orders', org: { tenant: 'acme' },
  iat: now - 5, exp: now + 300, ...extra,
});
const corp = (extra) => mint(corpKey, corpClaims(extra));
const partner = (extra) => mint(partnerKey, corpClaims({ iss: PARTNER, ...extra }));
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** One character in the middle of the signature changed: six signature bits flipped. */
function tamper(token) {
  const at = token.lastIndexOf('.') + 10;
  return token.slice(0, at) + B64URL[(B64URL.indexOf(token[at]) + 1) % 64] + token.slice(at + 1);
}
/**
 * The same signature bytes, another encoding: 64 bytes are 86 characters whose last one carries
 * two bits and four unused ones; setting an unused bit gives a different token string.
 */
const nonCanonical = (token) => token.slice(0, -1) + B64URL[B64URL.indexOf(token.at(-1)) | 1];

// Minted once, when both Envoys are up (the clock-skew cases need the time to be close), and
// then sent to both.
let T;
const mintTokens = () => ({
  valid: corp(),
  expired: corp({ iat: now - 600, exp: now - 300 }),
  expiredWithinSkew: corp({ iat: now - 600, exp: now - 10 }),
  expiredPastEdgewardSkew: corp({ iat: now - 600, exp: now - 45 }),
  notYetValid: corp({ nbf: now + 600 }),
  wrongAudience: corp({ aud: 'billing-api' }),
  audienceList: corp({ aud: ['billing-api', AUDIENCE] }),
  wrongIssuer: mint(corpKey, corpClaims({ iss: 'https://idp.evil.test' })),
  stranger: mint(strangerKey, corpClaims({ iss: 'https://idp.stranger.test' })),
  partner: partner(),
  partnerTampered: tamper(partner()),
  tampered: tamper(corp()),
  algNone: mintNone(corpClaims()),
  noScope: corp({ scope: 'write:orders' }),
  scopeLookalike: corp({ scope: 'read:orders-archive' }),
  scopeAmong: corp({ scope: 'write:orders read:orders' }),
  otherClient: corp({ client_id: 'audit-bot' }),
  strangerClient: corp({ client_id: 'scraper-bot' }),
  noClient: corp({ client_id: undefined }),
  otherTenant: corp({ org: { tenant: 'globex' } }),
  flatTenant: corp({ org: undefined, 'org.tenant': 'acme' }),
  // The same "iss" twice, both the right issuer.
  duplicateMember: mintRaw(corpKey, JSON.stringify(corpClaims()).replace(/}$/, `,"iss":"${CORP}"}`)),
  // For the intended differences:
  rs256: mintRs256(corpRsa, corpClaims()),
  idToken: mint(corpKey, corpClaims(), { typ: 'JWT' }),
  noTyp: mint(corpKey, corpClaims(), { typ: undefined }),
  longLived: corp({ exp: now + 7200 }),
  noIat: corp({ iat: undefined }),
  noExp: corp({ exp: undefined }),
  wildcard: corp({ scope: 'read:orders admin:*' }),
  crit: mint(corpKey, corpClaims(), { crit: ['x-unknown'], 'x-unknown': true }),
  nonCanonical: nonCanonical(corp()),
  scpArray: corp({ scope: undefined, scp: ['read:orders'] }),
});

/** The headers of a request carrying the token `T[name]` (read when the request is sent). */
const bearer = (name, scheme = 'Bearer') => () => {
  if (!T[name]) throw new Error(`no token ${name}`);
  return { authorization: `${scheme} ${T[name]}` };
};
const noToken = () => ({});

// ---- the two configurations ----

// The routes, as both sides see them:
//   /public    no token needed (a token, good or bad, is not looked at)
//   /orders    a corp token granting read:orders
//   /billing   a corp token whose client_id is billing-bot or audit-bot
//   /tenant    a corp token whose org.tenant is acme
//   /shared    a token of corp or of partner
//   /optional  a corp token, or none at all
//   (else)     denied

const policy = {
  providers: {
    corp: {
      issuer: CORP,
      audiences: [AUDIENCE],
      algorithms: ['ES256'],
      token_types: ['at+jwt'],
      remote_jwks: { cluster: 'idp', uri: JWKS_URI },
    },
    partner: { issuer: PARTNER, audiences: [AUDIENCE], local_jwks: { keys: [partnerKey.jwk] } },
  },
  rules: [
    { name: 'public', match: { prefix: '/public' } },
    { name: 'orders', match: { prefix: '/orders' }, requires: { provider_name: 'corp', scopes: ['read:orders'] } },
    { name: 'billing', match: { prefix: '/billing' }, requires: { provider_name: 'corp', claims: { client_id: ['billing-bot', 'audit-bot'] } } },
    { name: 'tenant', match: { prefix: '/tenant' }, requires: { provider_name: 'corp', claims: { 'org.tenant': ['acme'] } } },
    { name: 'shared', match: { prefix: '/shared' }, requires_any: [{ provider_name: 'corp' }, { provider_name: 'partner' }] },
    { name: 'optional', match: { prefix: '/optional' }, requires: { provider_name: 'corp', allow_missing: true } },
  ],
};

// jwt_authn verifies (and leaves each verified payload in dynamic metadata under `payload`);
// RBAC, ALLOW-listing per path, does the scope and claim checks and denies everything unlisted.
const jwtAuthn = {
  name: 'envoy.filters.http.jwt_authn',
  typed_config: {
    '@type': 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication',
    providers: {
      corp: {
        issuer: CORP,
        audiences: [AUDIENCE],
        // async_fetch: the listener waits for the first fetch, so no request meets missing keys.
        remote_jwks: { http_uri: { uri: JWKS_URI, cluster: 'idp', timeout: '2s' }, cache_duration: '300s', async_fetch: {} },
        payload_in_metadata: 'payload',
      },
      partner: {
        issuer: PARTNER,
        audiences: [AUDIENCE],
        local_jwks: { inline_string: JSON.stringify({ keys: [partnerKey.jwk] }) },
        payload_in_metadata: 'payload',
      },
    },
    rules: [
      { match: { prefix: '/public' } },
      { match: { prefix: '/orders' }, requires: { provider_name: 'corp' } },
      { match: { prefix: '/billing' }, requires: { provider_name: 'corp' } },
      { match: { prefix: '/tenant' }, requires: { provider_name: 'corp' } },
      { match: { prefix: '/shared' }, requires: { requires_any: { requirements: [{ provider_name: 'corp' }, { provider_name: 'partner' }] } } },
      { match: { prefix: '/optional' }, requires: { requires_any: { requirements: [{ provider_name: 'corp' }, { allow_missing: {} }] } } },
    ],
  },
};

/** An RBAC principal: the verified payload's claim at `path` matches `stringMatch`. */
const claim = (path, stringMatch) => ({
  metadata: {
    filter: 'envoy.filters.http.jwt_authn',
    path: [{ key: 'payload' }, ...path.map((key) => ({ key }))],
    value: { string_match: stringMatch },
  },
});
const onPath = (prefix, principals) => ({ permissions: [{ url_path: { path: { prefix } } }], principals });
const rbac = rbacFilter({
  public: onPath('/public', [{ any: true }]),
  // `scope` is one space-separated string in the payload: one whole word of it.
  orders: onPath('/orders', [claim(['scope'], { safe_regex: { regex: '(^|.* )read:orders( .*|$)' } })]),
  // Principals are ORed: either client.
  billing: onPath('/billing', [claim(['client_id'], { exact: 'billing-bot' }), claim(['client_id'], { exact: 'audit-bot' })]),
  // A metadata path walks into nested objects: payload.org.tenant.
  tenant: onPath('/tenant', [claim(['org', 'tenant'], { exact: 'acme' })]),
  shared: onPath('/shared', [{ any: true }]),
  optional: onPath('/optional', [{ any: true }]),
});

// ---- the cases ----

// The same status from both, and the one written here.
const scenarios = [
  ['valid token with the required scope', '/orders/1', bearer('valid'), 200],
  ['the scope among others', '/orders/1', bearer('scopeAmong'), 200],
  ['aud an array holding the audience', '/orders/1', bearer('audienceList'), 200],
  ['expired 10 s ago (within both clock skews)', '/orders/1', bearer('expiredWithinSkew'), 200],
  ['no token on a protected route', '/orders/1', noToken, 401],
  ['an empty bearer token', '/orders/1', () => ({ authorization: 'Bearer ' }), 401],
  ['expired', '/orders/1', bearer('expired'), 401],
  ['not yet valid (nbf)', '/orders/1', bearer('notYetValid'), 401],
  ['wrong issuer (signed by a corp key)', '/orders/1', bearer('wrongIssuer'), 401],
  ['a token of an issuer neither side knows', '/orders/1', bearer('stranger'), 401],
  ["the partner's token on a corp-only route", '/orders/1', bearer('partner'), 401],
  ['tampered signature', '/orders/1', bearer('tampered'), 401],
  ['alg none', '/orders/1', bearer('algNone'), 401],
  ['not a JWT', '/orders/1', () => ({ authorization: 'Bearer not.a.jwt' }), 401],
  ['a claim twice in the payload', '/orders/1', bearer('duplicateMember'), 401],
  ['the required scope missing', '/orders/1', bearer('noScope'), 403],
  ['a scope that only starts with the required one', '/orders/1', bearer('scopeLookalike'), 403],
  ['client_id in the list (billing-bot)', '/billing/1', bearer('valid'), 200],
  ['client_id in the list (audit-bot)', '/billing/1', bearer('otherClient'), 200],
  ['client_id not in the list', '/billing/1', bearer('strangerClient'), 403],
  ['no client_id', '/billing/1', bearer('noClient'), 403],
  ['nested claim org.tenant matches', '/tenant/1', bearer('valid'), 200],
  ['nested claim org.tenant differs', '/tenant/1', bearer('otherTenant'), 403],
  ['a flat "org.tenant" claim is not the nested one', '/tenant/1', bearer('flatTenant'), 403],
  ['requires_any: the corp token', '/shared/1', bearer('valid'), 200],
  ['requires_any: the partner token', '/shared/1', bearer('partner'), 200],
  ['requires_any: no token', '/shared/1', noToken, 401],
  ['requires_any: a token of neither', '/shared/1', bearer('stranger'), 401],
  ['requires_any: the partner token tampered', '/shared/1', bearer('partnerTampered'), 401],
  ['allow_missing: no token', '/optional/1', noToken, 200],
  ['allow_missing: a valid token', '/optional/1', bearer('valid'), 200],
  ['allow_missing: an expired token', '/optional/1', bearer('expired'), 401],
  ['allow_missing: a tampered token', '/optional/1', bearer('tampered'), 401],
  ["allow_missing: the partner's token (present, so it must be corp's)", '/optional/1', bearer('partner'), 401],
  ['public route, no token', '/public/1', noToken, 200],
  ['public route ignores a bad token', '/public/1', bearer('tampered'), 200],
  ['public route ignores an expired token', '/public/1', bearer('expired'), 200],
  ['a path no rule lists, with a valid token', '/admin', bearer('valid'), 403],
  ['the protected prefix in another case (no rule matches)', '/ORDERS/1', bearer('valid'), 403],
];

// Where the answers differ on purpose: [name, path, headers, native status, edgeward status, why].
const intendedDifferences = [
  ['RS256 token from a key corp publishes', '/orders/1', bearer('rs256'), 200, 401,
    'edgeward accepts only the algorithms the policy lists (ES256); jwt_authn any the JWKS key allows'],
  ['typ JWT (an ID token) on an access-token route', '/orders/1', bearer('idToken'), 200, 401,
    'token_types: ["at+jwt"]; jwt_authn has no typ check'],
  ['no typ header', '/orders/1', bearer('noTyp'), 200, 401,
    'with token_types set a token must say its type'],
  ['lives two hours (exp - iat)', '/orders/1', bearer('longLived'), 200, 401,
    'max_lifetime_seconds defaults to 3600; jwt_authn max_lifetime is unset by default'],
  ['no iat', '/orders/1', bearer('noIat'), 200, 401,
    'the lifetime bound needs iat'],
  ['expired 45 s ago', '/orders/1', bearer('expiredPastEdgewardSkew'), 200, 401,
    'clock skew: edgeward 30 s by default, jwt_authn 60 s'],
  ['a wildcard scope beside the required one', '/orders/1', bearer('wildcard'), 200, 401,
    'deny_wildcard_scopes (default true); RBAC sees read:orders and allows'],
  ['crit header parameter', '/orders/1', bearer('crit'), 200, 401,
    'RFC 7515 §4.1.11: an unknown crit must be refused; jwt_authn ignores it'],
  ['no exp', '/orders/1', bearer('noExp'), 200, 401,
    'edgeward requires exp; jwt_authn only with require_expiration (off by default)'],
  ['the signature in a non-canonical base64url', '/orders/1', bearer('nonCanonical'), 200, 401,
    'edgeward refuses unused bits set in base64url (one token, one string); jwt_authn decodes leniently'],
  ['the token in ?access_token=', () => `/orders/1?access_token=${T.valid}`, noToken, 200, 401,
    "jwt_authn's default locations include the access_token query parameter; edgeward reads only from_headers"],
  ['an encoded slash after the protected prefix', '/orders/..%2Fadmin', bearer('valid'), 200, 403,
    'edgeward denies paths an upstream could read differently; Envoy keeps %2F by default (path_with_escaped_slashes_action)'],
  ['wrong audience', '/orders/1', bearer('wrongAudience'), 403, 401,
    'jwt_authn answers 403 for an audience mismatch; edgeward 401 invalid_token, as for any claim'],
  ['scope granted as an scp array', '/orders/1', bearer('scpArray'), 403, 200,
    'edgeward reads scp too; the RBAC regex sees only the scope string (edgeward is more lenient here)'],
  ['the scheme written "bearer"', '/orders/1', bearer('valid', 'bearer'), 401, 200,
    "the auth scheme is case-insensitive (RFC 9110 §11.1); jwt_authn's value_prefix is not (edgeward is more lenient here)"],
];

describe('native jwt_authn + RBAC and edgeward agree', () => {
  let upstream, jwks, native, edgeward;
  before(async () => {
    upstream = await startEchoUpstream();
    jwks = await startJwksServer([corpKey, corpRsa]);
    const base = { upstreamPort: upstream.port, jwksPort: jwks.port };
    // The same listener, route and clusters; only the HTTP filters differ.
    const nativeConfig = envoyConfig({ ...base, policy });
    nativeConfig.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters.splice(0, 1, jwtAuthn, rbac);
    [native, edgeward] = await Promise.all([
      startEnvoy(nativeConfig, { concurrency: 1 }),
      startEnvoy(envoyConfig({ ...base, policy }), { concurrency: 1 }),
    ]);
    // edgeward fetches in the background: the first good fetch, then every worker has the keys.
    await until(async () => (await metrics(edgeward)).edgeward_jwks_fetch_ok >= 1, { what: "edgeward's first JWKS fetch" });
    now = nowSeconds();
    T = mintTokens();
  });
  after(() => stopAll([upstream, jwks, native, edgeward]));

  // The same request to both; `path` and `headers` are functions when they hold a token.
  const statuses = async (path, headers) => {
    const [url, init] = [typeof path === 'function' ? path() : path, { headers: headers() }];
    return { native: (await request(native, url, init)).status, edgeward: (await request(edgeward, url, init)).status };
  };

  for (const [name, path, headers, status] of scenarios) {
    test(`same answer: ${name} → ${status}`, async () => {
      assert.deepEqual(await statuses(path, headers), { native: status, edgeward: status });
    });
  }

  for (const [name, path, headers, nativeStatus, edgewardStatus, why] of intendedDifferences) {
    test(`intended difference: ${name} → native ${nativeStatus}, edgeward ${edgewardStatus} (${why})`, async () => {
      assert.deepEqual(await statuses(path, headers), { native: nativeStatus, edgeward: edgewardStatus });
    });
  }
});
