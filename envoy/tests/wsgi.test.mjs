// A Python WSGI upstream (wsgiref) behind a real Envoy with the filter. WSGI servers map both
// `x-bot-id` and `x_bot_id` to HTTP_X_BOT_ID, and Envoy forwards underscores by default
// (headers_with_underscores_action: ALLOW): the filter must remove the twin, so the app reads
// only the verified claim (never `admin`, never `admin,bot-7`).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { envoyConfig, makeKey, mint, nowSeconds, request, startEnvoy, stopAll } from './lib/harness.mjs';

const ISSUER = 'https://idp.test';
const key = makeKey('k1');
const APP = `
import json, sys
from wsgiref.simple_server import make_server, WSGIRequestHandler
class Quiet(WSGIRequestHandler):
    def log_message(self, *args): pass
def app(environ, start):
    start('200 OK', [('content-type', 'application/json')])
    return [json.dumps({k: v for k, v in environ.items() if k.startswith('HTTP_')}).encode()]
server = make_server('127.0.0.1', 0, app, handler_class=Quiet)
print(server.server_port, flush=True)
server.serve_forever()
`;
let wsgi, envoy;

async function startWsgi() {
  const child = spawn('python3', ['-c', APP], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(Number(String(d).trim())));
    child.once('exit', (code) => reject(new Error(`wsgi app exited ${code}`)));
  });
  return { port, stop: async () => { child.kill('SIGTERM'); } };
}

before(async () => {
  wsgi = await startWsgi();
  const policy = {
    providers: {
      idp: {
        issuer: ISSUER, audiences: ['api'], local_jwks: { keys: [key.jwk] },
        claim_to_headers: [{ claim_name: 'sub', header_name: 'x-bot-id' }],
      },
    },
    rules: [{ match: { prefix: '/public' } }, { match: { prefix: '/' }, requires: { provider_name: 'idp' } }],
  };
  envoy = await startEnvoy(envoyConfig({ upstreamPort: wsgi.port, policy }));
});
after(() => stopAll([wsgi, envoy]));

test('a public route: the app sees no HTTP_X_BOT_ID from either spelling', async () => {
  const res = await request(envoy, '/public', { headers: { x_bot_id: 'admin', 'x-bot-id': 'admin' } });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.HTTP_X_BOT_ID, undefined);
});

test('a protected route: HTTP_X_BOT_ID is the verified claim alone', async () => {
  const token = mint(key, { iss: ISSUER, aud: 'api', sub: 'bot-7', iat: nowSeconds(), exp: nowSeconds() + 300 });
  const res = await request(envoy, '/orders', { headers: { authorization: `Bearer ${token}`, x_bot_id: 'admin' } });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.HTTP_X_BOT_ID, 'bot-7');
  assert.equal(res.json.HTTP_AUTHORIZATION, undefined);
});
