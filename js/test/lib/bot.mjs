// A calling bot, as a machine client of a real IdP would be written: `openid-client` discovers the
// IdP (js/test/lib/idp.mjs, oidc-provider), obtains an access token with the client_credentials
// grant, and obtains the next one BEFORE the current one expires — when less than `refreshMargin`
// of its lifetime (from `expires_in`) is left — so that a steady bot never sends an expired token.
// A bot treats its access token as opaque; the header and claims it decodes are bookkeeping for
// the tests only (which kid signed which call, when each token really expired).
//
// Also here, shared by js/test/idp.test.mjs (the npm middleware) and envoy/tests/idp.test.mjs
// (Envoy with the filter): a bounded traffic loop, and a key rotation at the IdP run while that
// traffic goes on, with the judgement of every answer.

import * as client from 'openid-client';
import { CLIENT_ID, CLIENT_SECRET, OTHER_RESOURCE, RESOURCE } from './idp.mjs';

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

/** The header and claims of a compact JWS, NOT verified (test bookkeeping). */
export function peek(token) {
  const [header, claims] = token.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url')));
  return { header, claims };
}

/**
 * A bot of `issuer`. `token()` gives a current access token (the first grant, or the next one when
 * less than `refreshMargin` × lifetime is left); `call(url, {method})` sends one request with it
 * and resolves `{ status, code, json, headers, token, kid, alg }` (`code`: the refusal's `code`
 * member; `kid` and `alg`: the token's header).
 * `history` lists every token obtained: `{ token, kid, alg, exp, obtainedAt, expiresAt, replacedAt }`
 * (`expiresAt`: when the bot believes it expires, from `expires_in`; `exp`: the claim, seconds).
 */
export async function createBot({
  issuer,
  clientId = CLIENT_ID,
  clientSecret = CLIENT_SECRET,
  scope = 'read:orders',
  resource = RESOURCE,
  refreshMargin = 0.25,
  name = scope,
} = {}) {
  if (!(refreshMargin > 0 && refreshMargin < 1)) throw new RangeError('refreshMargin is a fraction of the lifetime');
  const configuration = await client.discovery(new URL(issuer), clientId, clientSecret, undefined, {
    execute: [client.allowInsecureRequests],
  });
  const history = [];
  let current = null;
  let pending = null;

  async function grant() {
    const sentAt = Date.now();
    const response = await client.clientCredentialsGrant(configuration, { scope, resource });
    const lifetimeMs = response.expires_in * 1000;
    // `exp` is in whole seconds from the IdP's clock: count the lifetime from when the request
    // was sent, less one second, so the bot never believes a token lives longer than it does.
    const entry = {
      token: response.access_token,
      obtainedAt: Date.now(),
      expiresAt: sentAt + lifetimeMs - 1000,
      lifetimeMs,
      replacedAt: null,
      ...(({ header, claims }) => ({ kid: header.kid, alg: header.alg, exp: claims.exp, iat: claims.iat }))(peek(response.access_token)),
    };
    if (current !== null) current.replacedAt = Date.now();
    history.push(entry);
    current = entry;
    return entry;
  }

  const due = () => current === null || current.expiresAt - Date.now() < refreshMargin * current.lifetimeMs;

  /** The current token entry, refreshed first when due (one grant at a time). */
  async function entry() {
    if (!due()) return current;
    pending ??= grant().finally(() => {
      pending = null;
    });
    return pending;
  }

  async function call(url, { method = 'GET', token } = {}) {
    const used = token ?? (await entry()).token;
    const res = await fetch(url, { method, headers: { authorization: `Bearer ${used}` } });
    const text = await res.text();
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    const { header } = peek(used);
    return { status: res.status, code: res.status === 200 ? undefined : json?.code, json, headers: res.headers, token: used, kid: header.kid, alg: header.alg };
  }

  return {
    name,
    history,
    get current() { return current; },
    token: async () => (await entry()).token,
    entry,
    call,
  };
}

/**
 * Runs `concurrency` workers that call `request(i)` one after another, `paceMs` apart, until
 * `done()`, `maxRequests` requests or `maxMs` — whichever comes first. Resolves with every record
 * `request` returned, and whether a bound (not `done()`) stopped it.
 */
export async function runTraffic({ request, done = () => false, concurrency = 4, maxRequests = 2000, maxMs = 20000, paceMs = 50 }) {
  const records = [];
  const deadline = Date.now() + maxMs;
  let issued = 0;
  let bounded = false;
  async function worker() {
    for (;;) {
      if (done()) return;
      if (issued >= maxRequests || Date.now() >= deadline) {
        bounded = true;
        return;
      }
      const i = issued;
      issued += 1;
      records.push(await request(i));
      await sleep(paceMs);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { records, bounded };
}

/**
 * Calls `url` with `bot` every `intervalMs` until the bot has refreshed its token once (or
 * `maxMs`). Resolves with every answer `{ status, code, kid, at }`.
 */
export async function callUntilRefreshed(bot, url, { intervalMs = 500, maxMs = 30000 } = {}) {
  const answers = [];
  const deadline = Date.now() + maxMs;
  const first = (await bot.entry()).token;
  while (Date.now() < deadline) {
    const { status, code, kid, token } = await bot.call(url);
    answers.push({ status, code, kid, at: Date.now(), refreshed: token !== first });
    if (token !== first) break;
    await sleep(intervalMs);
  }
  return answers;
}

/**
 * A key rotation at the IdP while bots call `baseUrl` (a service whose policy allows GET /orders…
 * with `read:orders` and other methods with `write:orders`, for RESOURCE):
 *
 * 1. `old`: the IdP publishes and signs with its current key. Waits until the verifier's next
 *    fetch of the JWKS arrives (it then holds only the old key, for a whole cache duration).
 * 2. `publish`: the new key (of `newAlg`, default the IdP's: `newAlg` ≠ the old key's algorithm is
 *    a migration, e.g. RS256 → ES256) is published beside the old one; tokens are still signed by
 *    the old.
 * 3. `switch` (300 ms later, well within the verifier's cache duration: the worst case, where the
 *    verifier can only learn the new key by the unknown-kid refetch): tokens are signed with the
 *    new key; a bot that starts now gets one at once, the running bots at their next refresh.
 * 4. `retire`: once every token the old key signed has expired (`exp` + clock skew), the old key
 *    is removed.
 * 5. Until `keysSettled()` says the verifier dropped the old key, then one more second.
 *
 * The mix, round robin: `read` (GET, 200), `write` (POST with both scopes, 200), `under` (POST
 * with `read:orders` only, 403), `foreign` (a token for OTHER_RESOURCE, 401), `expired` (the read
 * bot's first token, sent only once it is past `exp` + skew + 1 s, 401), `late` (the bot started
 * at the switch, GET, 200). Tokens live `ttlSeconds`, so every bot refreshes during the run.
 */
export async function rotateKeysUnderTraffic({
  idp,
  baseUrl,
  skewSeconds,
  keysSettled,
  ttlSeconds = 5,
  newKid = undefined,
  newAlg = undefined,
  concurrency = 4,
  maxRequests = 2000,
  maxMs = 20000,
  paceMs = 50,
  fetchWaitMs = 8000,
}) {
  const previousTtl = idp.ttlSeconds;
  idp.ttlSeconds = ttlSeconds;
  const oldKid = idp.state.signingKid;
  newKid ??= `${oldKid}-next`;
  const t0 = Date.now();
  const timeline = { t0 };
  const mark = (what) => {
    timeline[what] = Date.now();
  };
  try {
    const [reader, writer, foreign] = await Promise.all([
      createBot({ issuer: idp.issuer, scope: 'read:orders', name: 'read' }),
      createBot({ issuer: idp.issuer, scope: 'read:orders write:orders', name: 'write' }),
      createBot({ issuer: idp.issuer, scope: 'read:orders', resource: OTHER_RESOURCE, name: 'foreign' }),
    ]);
    const kept = await reader.entry();
    let late = null;
    let finished = false;

    const url = `${baseUrl}/orders/7`;
    const kinds = ['read', 'write', 'under', 'foreign', 'expired', 'late'];
    async function request(i) {
      let kind = kinds[i % kinds.length];
      if (kind === 'late' && late === null) kind = 'read';
      if (kind === 'expired' && Date.now() / 1000 <= kept.exp + skewSeconds + 1) kind = 'read';
      const sentAt = Date.now();
      let answer;
      try {
        switch (kind) {
          case 'read': answer = await reader.call(url); break;
          case 'write': answer = await writer.call(`${baseUrl}/orders`, { method: 'POST' }); break;
          case 'under': answer = await reader.call(`${baseUrl}/orders`, { method: 'POST' }); break;
          case 'foreign': answer = await foreign.call(url); break;
          case 'expired': answer = await reader.call(url, { token: kept.token }); break;
          default: answer = await late.call(url);
        }
      } catch (error) {
        answer = { status: 0, code: `request failed: ${error.message}` };
      }
      return { kind, kid: answer.kid, alg: answer.alg, status: answer.status, code: answer.code, sentAt, doneAt: Date.now() };
    }

    async function controller() {
      try {
        await idp.createKey(newKid, newAlg ?? idp.state.signingAlg);
        await sleep(1000);
        const before = idp.state.jwksRequests;
        const deadline = Date.now() + fetchWaitMs;
        while (idp.state.jwksRequests === before && Date.now() < deadline) await sleep(20);
        if (idp.state.jwksRequests === before) throw new Error(`no JWKS fetch within ${fetchWaitMs} ms`);
        mark('fetched');
        idp.publish([oldKid, newKid]);
        mark('publish');
        await sleep(300);
        idp.signWith(newKid);
        mark('switch');
        late = await createBot({ issuer: idp.issuer, scope: 'read:orders', name: 'late' });
        await late.entry();
        // Every token signed by the old key was requested before the switch: exp <= switch + ttl.
        const lastOldExpMs = (Math.ceil(timeline.switch / 1000) + ttlSeconds) * 1000;
        await sleep(Math.max(0, lastOldExpMs + (skewSeconds + 0.5) * 1000 - Date.now()));
        // Marked first: a request whose answer came after this mark may have met either key set.
        mark('retire');
        idp.publish([newKid]);
        const settleBy = t0 + maxMs - 1500;
        while (!(await keysSettled()) && Date.now() < settleBy) await sleep(100);
        if (await keysSettled()) mark('settled');
        await sleep(1000);
      } finally {
        finished = true;
      }
    }

    const [control, traffic] = await Promise.allSettled([
      controller(),
      runTraffic({ request, done: () => finished, concurrency, maxRequests, maxMs, paceMs }),
    ]);
    if (control.status === 'rejected') throw control.reason;
    if (traffic.status === 'rejected') throw traffic.reason;
    mark('end');
    return { ...traffic.value, timeline, oldKid, newKid, kept, bots: [reader, writer, foreign, late].filter(Boolean) };
  } finally {
    idp.ttlSeconds = previousTtl;
  }
}

const EXPECTED = {
  read: [200, undefined],
  write: [200, undefined],
  late: [200, undefined],
  under: [403, 'ERR_SCOPE_INSUFFICIENT'],
  foreign: [401, 'ERR_JWT_CLAIM_VALIDATION_FAILED'],
  expired: [401, 'ERR_JWT_EXPIRED'],
};

/**
 * Judges every answer of a rotation. Right: the kind's answer (above); the kept expired token may
 * also be refused as ERR_JWKS_NO_MATCHING_KEY when the answer came after its (old) key was retired. Tolerated: a token
 * signed by the NEW key refused 401 ERR_JWKS_NO_MATCHING_KEY when sent at most `windowMs` after the
 * first new-kid token was — the documented unknown-kid window. Everything else is wrong (including
 * every 5xx and any token accepted that should not be).
 */
export function judgeRotation(run, { windowMs }) {
  const { records, timeline, newKid, oldKid } = run;
  const firstNew = Math.min(...records.filter((r) => r.kid === newKid).map((r) => r.sentAt));
  const wrong = [];
  const tolerated = [];
  const counts = {};
  for (const r of records) {
    const key = `${r.kind} ${r.status}${r.code ? ` ${r.code}` : ''}`;
    counts[key] = (counts[key] ?? 0) + 1;
    const [status, code] = EXPECTED[r.kind];
    if (r.status === status && r.code === code) continue;
    // Judged by when the answer came, not when the request left: one in flight across the retirement
    // may meet the new key set.
    if (r.kind === 'expired' && r.status === 401 && r.code === 'ERR_JWKS_NO_MATCHING_KEY' && r.kid === oldKid && r.doneAt >= timeline.retire) continue;
    if (r.status === 401 && r.code === 'ERR_JWKS_NO_MATCHING_KEY' && r.kid === newKid && r.kind !== 'expired' && r.sentAt - firstNew <= windowMs) {
      tolerated.push(r);
      continue;
    }
    wrong.push({ ...r, sentAt: r.sentAt - timeline.t0, doneAt: r.doneAt - timeline.t0 });
  }
  const windowMeasuredMs = tolerated.length === 0 ? 0 : Math.max(...tolerated.map((r) => r.sentAt)) - firstNew;
  const relative = Object.fromEntries(Object.entries(timeline).map(([k, v]) => [k, v - timeline.t0]));
  return { wrong, tolerated: tolerated.length, windowMeasuredMs, firstNewMs: firstNew - timeline.t0, counts, timeline: relative, total: records.length };
}

/** Every token a bot replaced was replaced before it expired (by its `exp` claim). */
export function refreshedBeforeExpiry(bot) {
  return bot.history.filter((e) => e.replacedAt !== null).every((e) => e.replacedAt < e.exp * 1000);
}

/**
 * The expiry scenario both surfaces run: a token issued with a 1 s TTL is accepted, then refused
 * as ERR_JWT_EXPIRED once past exp + `skewSeconds`, while the bot itself refreshes instead of
 * sending it. `call(path, options)` calls the surface; `idp` lends its mutable TTL.
 */
export async function expectExpiredThenRefreshed(assert, { idp, bot, call, path, skewSeconds, ttlSeconds }) {
  let first;
  idp.ttlSeconds = 1;
  try {
    first = await bot.entry();
  } finally {
    idp.ttlSeconds = ttlSeconds;
  }
  assert.equal(first.exp - first.iat, 1);
  assert.equal((await call(path, { token: first.token })).status, 200, 'valid while not expired');
  // Past exp + clock skew, at most ~3 s from now.
  await new Promise((ok) => setTimeout(ok, Math.max(0, (first.exp + skewSeconds + 1) * 1000 - Date.now())));
  const expired = await call(path, { token: first.token });
  assert.equal(expired.status, 401);
  assert.equal(expired.code, 'ERR_JWT_EXPIRED');
  const again = await call(path);
  assert.equal(again.status, 200, 'the bot itself refreshed');
  // Compared, never printed: a failing assert.notEqual would show the token.
  assert.ok(again.token !== first.token, 'a new token');
}

/**
 * The refresh scenario both surfaces run: a bot calling every 500 ms refreshes its token once
 * less than 25 % of `ttlSeconds` is left, at least a second before exp, and no call is refused.
 */
export async function expectRefreshBeforeExpiry(assert, { bot, url, ttlSeconds }) {
  const answers = await callUntilRefreshed(bot, url, { intervalMs: 500, maxMs: 25000 });
  assert.deepEqual(answers.filter((a) => a.status !== 200), [], 'every call 200');
  assert.equal(bot.history.length, 2, 'one refresh');
  const [first, second] = bot.history;
  assert.equal(first.exp - first.iat, ttlSeconds);
  const leftMs = first.exp * 1000 - first.replacedAt;
  // Refreshed with less than 25 % of the lifetime left (the bot counts from the request, minus
  // 1 s for exp's whole seconds, plus the grant's own time), and at least a second before exp.
  assert.ok(leftMs <= 0.25 * ttlSeconds * 1000 + 1500, `refreshed ${leftMs} ms before exp: not too early`);
  assert.ok(leftMs >= 1000, `refreshed ${leftMs} ms before exp`);
  assert.ok(second.exp > first.exp && answers.at(-1).refreshed);
}
