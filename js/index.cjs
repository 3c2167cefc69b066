'use strict';
// edgeward for Node (require). `import 'edgeward'` loads this same module (index.mjs), so both
// share one wasm instance and one EdgewardError class.
const bindings = require('./pkg/edgeward_js.js');
const makeApi = require('./pkg/api.cjs');

module.exports = makeApi(bindings, { crypto: require('node:crypto'), fs: require('node:fs') });
