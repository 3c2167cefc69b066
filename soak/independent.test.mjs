// The soak's second opinion must itself catch what it is there to catch: a check that passes
// everything would make a soak with 0 violations meaningless.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeKey, mint, mintNone, nowSeconds } from '../envoy/tests/lib/harness.mjs';
import { AUDIENCE, ISSUER, IndependentVerifier, Tally, requiredScope } from './independent.mjs';

const known = makeKey('k1');
const unknown = makeKey('k2');
const judge = new IndependentVerifier();
judge.learn([known.jwk]);
const claims = (extra = {}) => ({ iss: ISSUER, aud: AUDIENCE, sub: 'bot-1', exp: nowSeconds() + 60, scope: 'read:orders', ...extra });
const bearer = (token) => `Bearer ${token}`;

test('routes: public, protected with their scope, and no rule', () => {
  assert.equal(requiredScope('GET', '/healthz'), null);
  assert.equal(requiredScope('GET', '/orders/7?x=1'), 'read:orders');
  assert.equal(requiredScope('POST', '/orders'), 'write:orders');
  assert.equal(requiredScope('GET', '/admin'), undefined);
});

test('a request that deserved to get through passes', () => {
  assert.equal(judge.judge('GET', '/orders/1', bearer(mint(known, claims())), 'bot-1'), null);
  assert.equal(judge.judge('GET', '/healthz', undefined, undefined), null);
});

test('every kind of request that did not deserve it is a violation', () => {
  const [h, , s] = mint(known, claims()).split('.');
  const forged = `${h}.${Buffer.from(JSON.stringify(claims({ scope: 'write:orders' }))).toString('base64url')}.${s}`;
  const cases = [
    ['GET', '/orders/1', undefined, undefined, 'no token on a protected route'],
    ['GET', '/admin', bearer(mint(known, claims())), 'bot-1', 'no rule allows GET /admin'],
    ['GET', '/orders/1', bearer(mint(unknown, claims())), 'bot-1', 'key never published by the IdP'],
    ['POST', '/orders', bearer(forged), 'bot-1', 'bad signature'],
    ['GET', '/orders/1', bearer(mintNone(claims())), 'bot-1', 'alg none'],
    ['GET', '/orders/1', bearer(mint(known, claims({ exp: nowSeconds() - 120 }))), 'bot-1', 'expired'],
    ['POST', '/orders', bearer(mint(known, claims())), 'bot-1', 'scope write:orders missing'],
    ['GET', '/orders/1', bearer(mint(known, claims({ scope: 'read:orders x:*' }))), 'bot-1', 'wildcard scope'],
    ['GET', '/orders/1', bearer(mint(known, claims({ iss: 'https://evil' }))), 'bot-1', 'iss'],
    ['GET', '/orders/1', bearer(mint(known, claims({ aud: 'other' }))), 'bot-1', 'aud'],
    ['GET', '/orders/1', bearer(mint(known, claims())), 'admin', 'identity is not the token\'s sub'],
    ['GET', '/healthz', undefined, 'admin', 'an identity on a public route'],
  ];
  const tally = new Tally();
  for (const [method, path, authorization, identity, reason] of cases) {
    const verdict = judge.judge(method, path, authorization, identity);
    assert.equal(verdict, reason, `${method} ${path}: ${reason}`);
    tally.record(verdict);
  }
  tally.record(null);
  assert.deepEqual([tally.forwarded, tally.violations], [cases.length + 1, cases.length]);
});

test('a private JWK is never learned as a verification key', () => {
  const judgeOfPrivate = new IndependentVerifier();
  judgeOfPrivate.learn([{ ...known.privateKey.export({ format: 'jwk' }), kid: 'k1' }]);
  assert.equal(judgeOfPrivate.judge('GET', '/orders/1', bearer(mint(known, claims())), 'bot-1'), 'key never published by the IdP');
});
