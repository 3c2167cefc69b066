// The limits table of SECURITY.md, from JS: each bound driven one step past, with the
// documented error code (never a crash), and a refused key set leaves the current keys.
// The refetch cooldown is in remote.test.mjs ('cooldown: …'); the cache bound in verify.test.mjs.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Verifier, createRemoteJwks } from '../index.mjs';
import { NOW, keyPair, mint, claims, policy } from './helpers.mjs';

const key = keyPair('ES256', 'k1');
const MAX_TOKEN_BYTES = 16 * 1024;
const MAX_JSON_DEPTH = 16;
const MAX_JWKS_BYTES = 256 * 1024;
const MAX_JWKS_KEYS = 64;
const MAX_POLICY_BYTES = 4 * 1024 * 1024;

function codeOf(fn) {
  try {
    fn();
  } catch (error) {
    return error.code ?? `not an EdgewardError: ${error}`;
  }
  return 'no error';
}

const b64 = (value) => Buffer.from(value).toString('base64url');
/** A token whose header and payload are exactly the given texts, signed by `key`. */
function rawToken(header, payload) {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${key.sign(input).toString('base64url')}`;
}
const nested = (n) => `${'['.repeat(n)}1${']'.repeat(n)}`;
const verify = (verifier, token) => verifier.verify(token, { now: NOW });
const jwksText = (keys) => JSON.stringify({ keys: keys.map((k) => k.jwk) });

describe('token', () => {
  test('longer than max_token_bytes: ERR_JWT_INVALID, default and configured', () => {
    const verifier = new Verifier(policy([key.jwk]));
    const padFor = (length) => {
      const base = mint(key, claims({ pad: '' })).length;
      return mint(key, claims({ pad: 'x'.repeat(Math.floor(((length - base) * 3) / 4)) }));
    };
    let token = padFor(MAX_TOKEN_BYTES - 8);
    assert.ok(token.length <= MAX_TOKEN_BYTES);
    assert.equal(verify(verifier, token).claims.sub, 'bot-7');
    token = padFor(MAX_TOKEN_BYTES + 8);
    assert.ok(token.length > MAX_TOKEN_BYTES);
    assert.equal(codeOf(() => verify(verifier, token)), 'ERR_JWT_INVALID');
    // Far past: a megabyte of junk is refused on its length.
    assert.equal(codeOf(() => verify(verifier, '\0'.repeat(1 << 20))), 'ERR_JWT_INVALID');
    const small = new Verifier(policy([key.jwk], {}, { max_token_bytes: 100 }));
    assert.equal(codeOf(() => verify(small, mint(key, claims()))), 'ERR_JWT_INVALID');
  });

  test('JSON nested deeper than 16: ERR_JWT_INVALID, in the header and in the claims', () => {
    const verifier = new Verifier(policy([key.jwk]));
    const header = (x) => `{"alg":"ES256","kid":"k1","x":${x}}`;
    const payload = (x) => JSON.stringify(claims()).replace(/}$/, `,"x":${x}}`);
    assert.ok(verify(verifier, rawToken(header(nested(MAX_JSON_DEPTH - 1)), payload('1'))));
    assert.ok(verify(verifier, rawToken(header('1'), payload(nested(MAX_JSON_DEPTH - 1)))));
    for (const x of [nested(MAX_JSON_DEPTH), nested(4000)]) {
      assert.equal(codeOf(() => verify(verifier, rawToken(header(x), payload('1')))), 'ERR_JWT_INVALID');
      assert.equal(codeOf(() => verify(verifier, rawToken(header('1'), payload(x)))), 'ERR_JWT_INVALID');
    }
  });
});

describe('JWKS given to setJwks', () => {
  test('over 256 KiB: ERR_JWKS_INVALID, and the current keys stay', () => {
    const verifier = new Verifier(policy([key.jwk]));
    const text = jwksText([key]);
    const padded = (total) => `${text.slice(0, -1)},"pad":"${'x'.repeat(total - text.length - 9)}"}`;
    assert.equal(padded(MAX_JWKS_BYTES).length, MAX_JWKS_BYTES);
    verifier.setJwks('corp-idp', padded(MAX_JWKS_BYTES));
    assert.equal(codeOf(() => verifier.setJwks('corp-idp', padded(MAX_JWKS_BYTES + 1))), 'ERR_JWKS_INVALID');
    assert.equal(codeOf(() => verifier.setJwks('corp-idp', new Uint8Array(16 << 20))), 'ERR_JWKS_INVALID');
    assert.equal(verify(verifier, mint(key, claims())).claims.sub, 'bot-7');
  });

  test('more than 64 keys: ERR_JWKS_INVALID, and the current keys stay', () => {
    const verifier = new Verifier(policy([key.jwk]));
    const many = Array.from({ length: MAX_JWKS_KEYS }, (_, i) => ({ ...key.jwk, kid: `k${i}` }));
    verifier.setJwks('corp-idp', { keys: many });
    verifier.setJwks('corp-idp', { keys: [key.jwk] });
    const over = [...many, { ...key.jwk, kid: 'one-too-many' }];
    assert.equal(codeOf(() => verifier.setJwks('corp-idp', { keys: over })), 'ERR_JWKS_INVALID');
    assert.equal(verify(verifier, mint(key, claims())).claims.sub, 'bot-7');
  });
});

test('a policy over 4 MiB or nested too deeply: ERR_POLICY_INVALID', () => {
  const doc = policy([key.jwk]);
  const base = JSON.stringify({ ...doc, pad: '' }).length;
  const over = JSON.stringify({ ...doc, pad: 'x'.repeat(MAX_POLICY_BYTES - base + 1) });
  assert.equal(over.length, MAX_POLICY_BYTES + 1);
  assert.equal(codeOf(() => new Verifier(over)), 'ERR_POLICY_INVALID');
  assert.equal(codeOf(() => new Verifier(`{"providers":${nested(100_000)}}`)), 'ERR_POLICY_INVALID');
  assert.equal(codeOf(() => new Verifier(policy([key.jwk], {}, { token_cache_size: 1_000_001 }))), 'ERR_POLICY_INVALID');
});

describe('createRemoteJwks: a response over 256 KiB is refused without reading it all', () => {
  // The IdP: 'ok' serves the key, 'length' a 300 KiB document with content-length, 'stream' 64 MiB
  // without it (counting what it managed to write before the client hung up).
  const idp = { mode: 'ok', written: 0 };
  let server;
  let uri;
  before(async () => {
    server = http.createServer((req, res) => {
      res.on('error', () => {});
      if (idp.mode === 'ok') return res.end(jwksText([key]));
      if (idp.mode === 'length') return res.end(`${jwksText([key]).slice(0, -1)},"pad":"${'x'.repeat(300 * 1024)}"}`);
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      idp.written = 0;
      res.write('{"keys":[');
      const pump = () => {
        while (idp.written < 64 << 20 && !res.destroyed) {
          idp.written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end(']}');
      };
      pump();
    });
    await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
    uri = `http://127.0.0.1:${server.address().port}/jwks.json`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
  });

  for (const mode of ['length', 'stream']) {
    test(`${mode === 'length' ? 'with' : 'without'} content-length: lastError says so, the last good keys stay`, async () => {
      const verifier = new Verifier(policy([], { local_jwks: undefined, remote_jwks: { uri } }));
      idp.mode = 'ok';
      const remote = createRemoteJwks(verifier, 'corp-idp', uri, { cooldownDuration: 0, cacheMaxAge: 0 });
      await remote.ready;
      idp.mode = mode;
      await assert.rejects(remote.reload(), (error) => error.code === 'ERR_JWKS_UNAVAILABLE');
      assert.match(String(remote.lastError?.message ?? remote.lastError), /larger than 262144 bytes/);
      if (mode === 'stream') assert.ok(idp.written < 32 << 20, `stopped reading early (${idp.written} bytes written)`);
      assert.equal(verify(verifier, mint(key, claims())).claims.sub, 'bot-7');
    });
  }
});
