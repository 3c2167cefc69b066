// The same package through require (CommonJS).
import edgeward = require('edgeward');

const verifier = new edgeward.Verifier('{"providers":{}}');
const result = verifier.verify('t');
const provider: string = result.provider;
void provider;
