// `edgeward/fastify`: the Fastify plugin (the default export, also `fastify` in 'edgeward'), and
// `request.auth` typed on every FastifyRequest (a module augmentation: needs fastify's types).
import type { VerifyResult } from './index.js';
import { fastify as plugin } from './index.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by edgeward's plugin or `authenticate`: the verified token (undefined on a public route). */
    auth?: VerifyResult;
  }
}

export = plugin;
