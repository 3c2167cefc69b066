// edgeward for Node (import): the same module instance as require('edgeward').
import api from './index.cjs';

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
