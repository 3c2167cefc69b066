// Many tokens of one key at once, on every core: `mintMany(k, count, prefix)` splits the work over
// worker threads (each one runs this file), each minting with keys.mjs's minter() from the key's
// private KeyObject and `now`, so the tokens are exactly what `k.mint(`${prefix}${i}`)` gives.
// For js/bench/frameworks.mjs, whose cold cells need tens of thousands of RS256 tokens.
import os from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { minter } from './keys.mjs';

if (!isMainThread && workerData?.edgewardMint) {
  const { alg, privateKey, now, prefix, from, to } = workerData;
  const mint = minter(alg, privateKey, now);
  const tokens = [];
  for (let i = from; i < to; i++) tokens.push(mint(`${prefix}${i}`));
  parentPort.postMessage(tokens);
}

/** `count` tokens of `k` (from keys()), jti `${prefix}0` … `${prefix}${count - 1}`, in that order. */
export async function mintMany(k, count, prefix = '') {
  const threads = Math.max(1, Math.min(os.availableParallelism?.() ?? os.cpus().length, Math.ceil(count / 500)));
  const per = Math.ceil(count / threads);
  const parts = await Promise.all(Array.from({ length: threads }, (_, t) => new Promise((resolve, reject) => {
    const from = t * per;
    const to = Math.min(count, from + per);
    const worker = new Worker(new URL(import.meta.url), {
      execArgv: [], // not the parent's (node --input-type, --test …)
      workerData: { edgewardMint: true, alg: k.alg, privateKey: k.privateKey, now: k.now, prefix, from, to },
    });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => { if (code !== 0) reject(new Error(`mint worker exited with ${code}`)); });
  })));
  return parts.flat();
}
