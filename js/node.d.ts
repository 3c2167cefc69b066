// `edgeward/node`: the package ('edgeward'), with `req.auth` typed on node:http's IncomingMessage
// and node:http2's Http2ServerRequest (module augmentations: need @types/node). Express's Request gets it from 'edgeward' itself.
import type { VerifyResult } from './index.js';

export * from './index.js';

declare module 'http' {
  interface IncomingMessage {
    /** Set by edgeward's middleware or `authenticate`: the verified token (undefined on a public route). */
    auth?: VerifyResult;
  }
}

declare module 'http2' {
  interface Http2ServerRequest {
    /** Set by edgeward's middleware or `authenticate`: the verified token (undefined on a public route). */
    auth?: VerifyResult;
  }
}
