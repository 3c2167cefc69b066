// edgeward/web: init, then the same API.
import init, { Verifier, decodeUnverified } from 'edgeward/web';

await init();
await init(new URL('https://example.invalid/edgeward_js_bg.wasm'));
const verifier = new Verifier({ providers: {} });
void [verifier.providers, decodeUnverified('t').claims.iss];
