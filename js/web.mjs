// edgeward for browsers: `import init, { Verifier } from 'edgeward/web'; await init();`
import initWasm, * as bindings from './pkg-web/edgeward_js.js';
import makeApi from './pkg-web/api.mjs';

const api = makeApi(bindings);

/**
 * Loads the wasm module (once). `input` is optional: a URL, Response, bytes or a
 * WebAssembly.Module; by default `edgeward_js_bg.wasm` beside the glue.
 */
export default async function init(input) {
  await initWasm(input === undefined ? undefined : { module_or_path: input });
}

export const {
  Verifier,
  EdgewardError,
  RemoteJwks,
  createRemoteJwks,
  middleware,
  authenticate,
  requireScopes,
  requireClaims,
  requirePeers,
  fastify,
  decisionLogger,
  memoryReplayStore,
  redisReplayStore,
  decodeUnverified,
  errorCodes,
  wasmMemoryBytes,
} = api;
