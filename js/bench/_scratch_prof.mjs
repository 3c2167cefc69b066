import { spawn } from 'node:child_process';
import readline from 'node:readline';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { AUDIENCE, ISSUER, keys } from './keys.mjs';
import { mintMany } from './mint.mjs';
const require = createRequire(import.meta.url);
const autocannon = require('autocannon');
const name = process.argv[2];
const regime = process.argv[3] ?? 'cold';
const k = keys('RS256');
const jwks = { keys: [k.jwk] };
const tokens = regime === 'cold' ? await mintMany(k, 40000, 'c') : [k.mint('r')];
const config = { server: name, issuer: ISSUER, audience: AUDIENCE, scope: 'read:orders', jwks };
const child = spawn('taskset', ['-c', '0', process.execPath, '--cpu-prof', '--cpu-prof-dir=/tmp/prof/' + name + '-' + regime, 'bench/frameworks-servers.mjs'], { env: { ...process.env, EDGEWARD_FRAMEWORKS_SERVER: JSON.stringify(config), NODE_ENV: 'production' }, stdio: ['pipe', 'pipe', 'inherit'] });
const { port } = JSON.parse(await new Promise((r) => readline.createInterface({ input: child.stdout }).once('line', r)));
let next = 0;
const opts = { url: `http://127.0.0.1:${port}/orders`, connections: 10 };
if (tokens.length === 1) { opts.duration = 5; opts.headers = { authorization: `Bearer ${tokens[0]}` }; }
else { opts.amount = tokens.length - 10; opts.requests = [{ method: 'GET', setupRequest: (q) => { q.headers = { authorization: `Bearer ${tokens[next++]}` }; return q; } }]; }
const res = await autocannon(opts);
console.log(name, regime, res.requests.average, '2xx', res['2xx'], 'non2xx', res.non2xx);
child.stdin.end();
await new Promise((r) => child.once('exit', r));
