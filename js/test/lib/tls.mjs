// Test certificates, made when a test starts with the `openssl` command (scripts/setup.sh openssl
// installs it): a CA, and a server certificate it signs for 127.0.0.1 and localhost, both P-256
// and valid for two days. Nothing is kept: the files live in a temporary directory the caller removes.
//
// `fetchTrusting(tls)` is a fetch over node:https trusting exactly that CA, for clients that take a
// custom fetch (openid-client's `customFetch`): Node's own fetch cannot be given a CA.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';

function openssl(args, cwd) {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    if (error.code === 'ENOENT') throw new Error('the `openssl` command is needed for the TLS tests: scripts/setup.sh openssl');
    throw new Error(`openssl ${args[0]} failed: ${error.stderr}`);
  }
}

/**
 * Writes `ca.pem` (and its key) and `server.pem` / `server.key` into `dir`; returns
 * `{ caFile, ca, cert, key }` (the PEM texts, as node:https and node:tls take them).
 */
export function makeCertificates(dir) {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    ['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=edgeward test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  );
  openssl(['req', '-new', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'], dir);
  writeFileSync(
    join(dir, 'server.ext'),
    'subjectAltName = IP:127.0.0.1, DNS:localhost\nbasicConstraints = CA:FALSE\n' +
      'keyUsage = critical, digitalSignature\nextendedKeyUsage = serverAuth\n',
  );
  openssl(
    ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', `0x${randomBytes(8).toString('hex')}`,
      '-days', '2', '-extfile', 'server.ext', '-out', 'server.pem'],
    dir,
  );
  const read = (name) => readFileSync(join(dir, name), 'utf8');
  return { caFile: join(dir, 'ca.pem'), ca: read('ca.pem'), cert: read('server.pem'), key: read('server.key') };
}

/** A Fetch API `fetch(url, { method, headers, body })` over node:https that trusts `tls.ca` only. */
export function fetchTrusting(tls) {
  return (url, { method = 'GET', headers = {}, body } = {}) =>
    new Promise((resolve, reject) => {
      const request = https.request(new URL(url), { method, headers, ca: tls.ca }, (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const status = response.statusCode;
          const bytes = Buffer.concat(chunks);
          const headerList = Object.entries(response.headers).flatMap(([name, value]) =>
            (Array.isArray(value) ? value : [value]).map((one) => [name, one]),
          );
          resolve(new Response([204, 205, 304].includes(status) ? null : bytes, { status, headers: headerList }));
        });
      });
      request.on('error', reject);
      request.end(body === undefined || body === null ? undefined : String(body));
    });
}
