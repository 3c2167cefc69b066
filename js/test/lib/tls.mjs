// Test certificates, made when a test starts with the `openssl` command (scripts/setup.sh openssl
// installs it): a CA, and a server certificate it signs for 127.0.0.1 and localhost, both P-256
// and valid for two days. Nothing is kept: the files live in a temporary directory the caller removes.
// For mutual TLS (RFC 8705, SPIFFE): client certificates a CA signs (`makeClientCertificate`), and
// more CAs (`makeCa`), e.g. one the server does not trust.
//
// `fetchTrusting(tls, client?)` is a fetch over node:https trusting exactly that CA (and presenting
// a client certificate), for clients that take a custom fetch (openid-client's `customFetch`):
// Node's own fetch cannot be given a CA.

import { execFileSync } from 'node:child_process';
import { X509Certificate, createHash, randomBytes } from 'node:crypto';
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

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
const serial = () => `0x${randomBytes(8).toString('hex')}`;

/**
 * Writes a self-signed P-256 CA, `<file>.pem` and `<file>.key`, into `dir`; returns
 * `{ caFile, caKeyFile, ca }` (`ca`: the PEM text), which `makeClientCertificate` takes.
 */
export function makeCa(dir, { name = 'edgeward test CA', file = 'ca' } = {}) {
  if (/[/\\\n]/.test(name) || !/^[\w.-]+$/.test(file)) throw new RangeError('a CA name without / or \\, a plain file name');
  openssl(
    ['req', '-x509', ...EC, '-keyout', `${file}.key`, '-out', `${file}.pem`, '-days', '2', '-subj', `/CN=${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  );
  return { caFile: join(dir, `${file}.pem`), caKeyFile: join(dir, `${file}.key`), ca: readFileSync(join(dir, `${file}.pem`), 'utf8') };
}

/**
 * Writes `ca.pem` (and its key) and `server.pem` / `server.key` into `dir`; returns
 * `{ caFile, caKeyFile, ca, cert, key }` (the PEM texts, as node:https and node:tls take them).
 */
export function makeCertificates(dir) {
  const { caFile, caKeyFile, ca } = makeCa(dir);
  openssl(['req', '-new', ...EC, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'], dir);
  writeFileSync(
    join(dir, 'server.ext'),
    'subjectAltName = IP:127.0.0.1, DNS:localhost\nbasicConstraints = CA:FALSE\n' +
      'keyUsage = critical, digitalSignature\nextendedKeyUsage = serverAuth\n',
  );
  openssl(
    ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', serial(),
      '-days', '2', '-extfile', 'server.ext', '-out', 'server.pem'],
    dir,
  );
  const read = (name) => readFileSync(join(dir, name), 'utf8');
  return { caFile, caKeyFile, ca, cert: read('server.pem'), key: read('server.key') };
}

/**
 * A P-256 client certificate (`extendedKeyUsage = clientAuth`, `CN=name`, the URI SANs given, e.g.
 * `spiffe://example.org/ns/bots/sa/billing`) signed by `ca` (from `makeCertificates` or `makeCa`),
 * valid for two days. Every call makes a new key, unless `key` (a PEM private key or KeyObject)
 * is given: the same name and SANs again give "the right subject with another key".
 * Returns `{ cert, key, certFile, keyFile, der, x5tS256, sha256Hex }`: `der` the certificate's DER
 * (a Buffer), `x5tS256` its base64url SHA-256 (RFC 8705 `cnf["x5t#S256"]`), `sha256Hex` the same
 * digest as lowercase hex (Envoy's `connection.sha256_peer_certificate_digest`, XFCC `Hash`).
 */
export function makeClientCertificate(dir, ca, { name, uriSans = [], key } = {}) {
  if (typeof name !== 'string' || name === '' || /[/\\\n]/.test(name)) throw new RangeError('name: a common name without / or \\');
  for (const uri of uriSans) {
    if (!/^[a-z][a-z0-9+.-]*:[^\s,]+$/i.test(uri)) throw new RangeError(`uriSans: ${JSON.stringify(uri)} is not a URI without spaces or commas`);
  }
  if (!ca?.caFile || !ca?.caKeyFile) throw new TypeError('ca: { caFile, caKeyFile } from makeCertificates or makeCa');
  const base = `client-${randomBytes(6).toString('hex')}`;
  const keyArgs = key === undefined ? [...EC, '-keyout', `${base}.key`] : ['-key', `${base}.key`];
  if (key !== undefined) {
    const pem = typeof key === 'string' ? key : key.export({ format: 'pem', type: 'pkcs8' });
    writeFileSync(join(dir, `${base}.key`), pem, { mode: 0o600 });
  }
  openssl(['req', '-new', ...keyArgs, '-out', `${base}.csr`, '-subj', `/CN=${name}`], dir);
  writeFileSync(
    join(dir, `${base}.ext`),
    `${uriSans.length ? `subjectAltName = ${uriSans.map((uri) => `URI:${uri}`).join(', ')}\n` : ''}` +
      'basicConstraints = CA:FALSE\nkeyUsage = critical, digitalSignature\nextendedKeyUsage = clientAuth\n',
  );
  openssl(
    ['x509', '-req', '-in', `${base}.csr`, '-CA', ca.caFile, '-CAkey', ca.caKeyFile, '-set_serial', serial(),
      '-days', '2', '-extfile', `${base}.ext`, '-out', `${base}.pem`],
    dir,
  );
  const cert = readFileSync(join(dir, `${base}.pem`), 'utf8');
  const der = new X509Certificate(cert).raw;
  const digest = createHash('sha256').update(der).digest();
  return {
    cert,
    key: readFileSync(join(dir, `${base}.key`), 'utf8'),
    certFile: join(dir, `${base}.pem`),
    keyFile: join(dir, `${base}.key`),
    der,
    x5tS256: digest.toString('base64url'),
    sha256Hex: digest.toString('hex'),
  };
}

/**
 * A Fetch API `fetch(url, { method, headers, body })` over node:https that trusts `tls.ca` only;
 * with `client` (`{ cert, key }`, e.g. from `makeClientCertificate`) it presents that certificate.
 */
export function fetchTrusting(tls, client = undefined) {
  const options = { ca: tls.ca, ...(client ? { cert: client.cert, key: client.key } : {}) };
  return (url, { method = 'GET', headers = {}, body } = {}) =>
    new Promise((resolve, reject) => {
      const request = https.request(new URL(url), { method, headers, ...options }, (response) => {
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
