// `edgeward/node`: the package ('edgeward'), with `req.auth` typed on node:http's IncomingMessage
// (a module augmentation: needs @types/node). Express's Request gets it from 'edgeward' itself.
import type { VerifyResult } from './index.js';

export * from './index.js';

declare module 'http' {
  interface IncomingMessage {
    /** Set by edgeward's middleware or `authenticate`: the verified token (undefined on a public route). */
    auth?: VerifyResult;
  }
}
