'use strict';
// `edgeward/fastify`: the Fastify plugin of 'edgeward' (one module instance: index.cjs).
module.exports = require('./index.cjs').fastify;
