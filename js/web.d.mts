// Types of `edgeward/web`: the same API as the Node entry, after `await init()`.
export * from './index.js';

/** Where the wasm module comes from: by default `pkg-web/edgeward_js_bg.wasm` beside the glue. */
export type InitInput = string | URL | Request | Response | BufferSource | WebAssembly.Module;

/** Loads the wasm module (once); call it before anything else. */
export default function init(input?: InitInput | Promise<InitInput>): Promise<void>;
