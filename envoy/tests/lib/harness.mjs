// Test harness for the edgeward Envoy filter: a real Envoy 1.40 with the built .wasm, an upstream
// that echoes the headers it received, a JWKS server that can rotate keys, go down and serve
// garbage, and a token minter (node:crypto, ES256 with ieee-p1363 signatures). Everything binds
// 127.0.0.1 on ports the OS picks; every process and server started here is stopped by `stop()`.

import { spawn } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const WASM = process.env.EDGEWARD_WASM ?? join(ROOT, 'dist/edgeward_filter.wasm');
export const ENVOY = process.env.ENVOY ?? join(ROOT, '.tools/envoy');

// ---- tokens ----

const b64url = (data) => Buffer.from(data).toString('base64url');

/** An ES256 signing key with its public JWK. */
export function makeKey(kid) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' };
  return { kid, privateKey, jwk };
}

/** A compact JWS over `claims` with `key`; `header` entries override the defaults. */
export function mint(key, claims, header = {}) {
  const head = { alg: 'ES256', typ: 'at+jwt', kid: key.kid, ...header };
  const input = `${b64url(JSON.stringify(head))}.${b64url(JSON.stringify(claims))}`;
  const signature = sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64url(signature)}`;
}

/** An unsecured token (`alg: none`). */
export function mintNone(claims) {
  return `${b64url(JSON.stringify({ alg: 'none', typ: 'at+jwt' }))}.${b64url(JSON.stringify(claims))}.`;
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

// ---- loopback servers ----

function listen(server) {
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok(server.address().port));
  });
}

function close(server) {
  server.closeAllConnections?.();
  return new Promise((ok) => server.close(() => ok()));
}

/**
 * An upstream bot that answers 200 with the request it received as JSON. `onRequest(req)`, if
 * given, sees every request first (e.g. to count what got through).
 */
export async function startEchoUpstream({ onRequest } = {}) {
  const server = http.createServer((req, res) => {
    onRequest?.(req);
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers }));
    });
  });
  const port = await listen(server);
  return { port, stop: () => close(server) };
}

/**
 * A JWKS server. `mode`: 'ok' serves `{keys}`, 'down' resets connections, 'error' answers 500,
 * 'garbage' serves a non-JSON 200, 'oversize' serves a 300 KiB 200, 'huge' streams a 200 of
 * `state.hugeBytes` (default 64 MiB) without content-length.
 */
export async function startJwksServer(keys = []) {
  const state = { keys: [...keys], mode: 'ok', requests: 0, hugeBytes: 64 * 1024 * 1024 };
  const server = http.createServer((req, res) => {
    state.requests += 1;
    req.resume();
    switch (state.mode) {
      case 'down':
        req.socket.destroy();
        return;
      case 'error':
        res.statusCode = 500;
        res.end('upstream trouble');
        return;
      case 'garbage':
        res.setHeader('content-type', 'application/json');
        res.end('<html>this is not a JWKS</html>');
        return;
      case 'oversize': {
        const padding = 'x'.repeat(300 * 1024);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ keys: state.keys.map((k) => k.jwk), padding }));
        return;
      }
      case 'huge': {
        res.setHeader('content-type', 'application/json');
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        let left = state.hugeBytes;
        res.write('{"keys":[');
        const pump = () => {
          while (left > 0 && !res.destroyed) {
            left -= chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end(']}');
        };
        res.on('error', () => {});
        pump();
        return;
      }
      default:
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ keys: state.keys.map((k) => k.jwk) }));
    }
  });
  const port = await listen(server);
  return { port, state, stop: () => close(server) };
}

// ---- Envoy ----

/**
 * Envoy with the filter in front of `upstreamPort`. `afterFilter`: HTTP filters between edgeward
 * and the router (e.g. RBAC); `accessLog`: `{ path, format }` of a file access log; `vmEnv`: the VM's
 * environment variables (what Istio's `WasmPlugin` `vmConfig.env` sets); `wasm: null`: no edgeward
 * filter at all. `tls`: `{ cert, key, ca, requireClientCert = true }` (PEM texts) makes the listener
 * https (a DownstreamTlsContext, client certificates verified against `ca`); `forwardClientCert`:
 * `true` or `{ details, set }` sets the x-forwarded-client-cert header for the upstream (default
 * SANITIZE_SET with the URI SANs and the PEM; XFCC always has the certificate's Hash).
 * `routeHeaders`: `{ name: value }` added to every request to the upstream (`request_headers_to_add`;
 * values may use Envoy's formatters, e.g. %DOWNSTREAM_PEER_FINGERPRINT_256%).
 * `accessLogs`: access-log entries as written under the connection manager's `access_log` (e.g.
 * envoy/decision-log.yaml's), after `accessLog`'s.
 */
export function envoyConfig({
  adminPort = 0, listenerPort = 0, upstreamPort, jwksPort, policy, wasm = WASM, vmId = 'edgeward', vmConfiguration,
  afterFilter = [], accessLog, accessLogs = [], vmEnv, tls, forwardClientCert, routeHeaders,
}) {
  const clusters = [staticCluster('upstream', upstreamPort)];
  if (jwksPort) clusters.push(staticCluster('idp', jwksPort));
  return {
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: adminPort } } },
    static_resources: {
      listeners: [
        {
          name: 'main',
          address: { socket_address: { address: '127.0.0.1', port_value: listenerPort } },
          filter_chains: [
            {
              ...(tls ? { transport_socket: downstreamTls(tls) } : {}),
              filters: [
                {
                  name: 'envoy.filters.network.http_connection_manager',
                  typed_config: {
                    '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                    stat_prefix: 'ingress',
                    ...(forwardClientCert ? {
                      forward_client_cert_details: forwardClientCert.details ?? 'SANITIZE_SET',
                      set_current_client_cert_details: forwardClientCert.set ?? { uri: true, cert: true },
                    } : {}),
                    ...(accessLog || accessLogs.length > 0 ? {
                      access_log: [...(accessLog ? [{
                        name: 'envoy.access_loggers.file',
                        typed_config: {
                          '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
                          path: accessLog.path,
                          log_format: { text_format_source: { inline_string: accessLog.format } },
                        },
                      }] : []), ...accessLogs],
                    } : {}),
                    route_config: {
                      virtual_hosts: [{
                        name: 'all',
                        domains: ['*'],
                        routes: [{
                          match: { prefix: '/' },
                          route: { cluster: 'upstream' },
                          ...(routeHeaders ? {
                            request_headers_to_add: Object.entries(routeHeaders).map(([key, value]) => ({
                              header: { key, value }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
                            })),
                          } : {}),
                        }],
                      }],
                    },
                    http_filters: [
                      ...(wasm === null ? [] : [wasmFilter(policy, wasm, vmId, vmConfiguration, vmEnv)]),
                      ...afterFilter,
                      { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters,
    },
  };
}

/** A DownstreamTlsContext with the PEM texts inline: the listener's certificate, the CA its clients' chain to. */
export function downstreamTls({ cert, key, ca, requireClientCert = true }) {
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
      require_client_certificate: requireClientCert,
      common_tls_context: {
        tls_certificates: [{ certificate_chain: { inline_string: cert }, private_key: { inline_string: key } }],
        ...(ca ? { validation_context: { trusted_ca: { inline_string: ca } } } : {}),
      },
    },
  };
}

/**
 * The filter; `vmConfiguration` (e.g. `{ host_crypto: false }`) is the VM's own configuration,
 * `vmEnv` (e.g. `{ EDGEWARD_FILTER_STATE: 'true' }`) its environment.
 */
export function wasmFilter(policy, wasm = WASM, vmId = 'edgeward', vmConfiguration = undefined, vmEnv = undefined) {
  const vmConfig = { vm_id: vmId, runtime: 'envoy.wasm.runtime.v8', code: { local: { filename: wasm } } };
  if (vmEnv !== undefined) vmConfig.environment_variables = { key_values: vmEnv };
  if (vmConfiguration !== undefined) {
    vmConfig.configuration = {
      '@type': 'type.googleapis.com/google.protobuf.StringValue',
      value: typeof vmConfiguration === 'string' ? vmConfiguration : JSON.stringify(vmConfiguration),
    };
  }
  return {
    name: 'envoy.filters.http.wasm',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm',
      config: {
        name: 'edgeward',
        root_id: 'edgeward',
        vm_config: vmConfig,
        configuration: {
          '@type': 'type.googleapis.com/google.protobuf.StringValue',
          value: typeof policy === 'string' ? policy : JSON.stringify(policy),
        },
      },
    },
  };
}

/** Envoy's RBAC HTTP filter allowing what one of `policies` (name → { permissions, principals }) allows. */
export function rbacFilter(policies) {
  return {
    name: 'envoy.filters.http.rbac',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC',
      rules: { action: 'ALLOW', policies },
    },
  };
}

export function staticCluster(name, port) {
  return {
    name,
    type: 'STATIC',
    connect_timeout: '1s',
    load_assignment: {
      cluster_name: name,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }] }],
    },
  };
}

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

/** Polls `probe` until it returns a truthy value or `timeoutMs` passes. */
export async function until(probe, { timeoutMs = 15000, intervalMs = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await probe();
      if (last) return last;
    } catch (e) {
      if (e.fatal) throw e;
      last = e;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
}

/**
 * Starts Envoy with `config` (an object, written as JSON). Resolves once the admin endpoint says
 * LIVE and the listener is bound; rejects (with Envoy's log) if Envoy exits first. `url` is
 * https://… when the first listener has a transport socket (TLS: `requestTls`).
 */
export async function startEnvoy(config, { concurrency = 2, extraArgs = [], logLevel = 'info' } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'edgeward-envoy-'));
  const configPath = join(dir, 'envoy.json');
  const adminPath = join(dir, 'admin-address');
  writeFileSync(configPath, JSON.stringify(config));
  const args = ['-c', configPath, '--concurrency', String(concurrency), '--disable-hot-restart',
    '--admin-address-path', adminPath, '--log-level', logLevel, '--component-log-level', `wasm:${logLevel === 'info' ? 'debug' : logLevel}`, ...extraArgs];
  const child = spawn(ENVOY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((ok) => child.once('exit', (code, signal) => ok({ code, signal })));
  let exitInfo = null;
  exited.then((info) => { exitInfo = info; });

  const envoy = {
    child,
    dir,
    get log() { return log; },
    exited,
    adminUrl: null,
    url: null,
    async stop() {
      if (exitInfo === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await until(async () => {
      if (exitInfo) throw Object.assign(new Error('envoy exited'), { fatal: true });
      if (!existsSync(adminPath)) return false;
      const admin = readFileSync(adminPath, 'utf8').trim();
      if (!admin) return false;
      envoy.adminUrl = `http://${admin}`;
      const ready = await fetch(`${envoy.adminUrl}/ready`);
      if (ready.status !== 200) return false;
      const listeners = await (await fetch(`${envoy.adminUrl}/listeners?format=json`)).json();
      const port = listeners.listener_statuses?.[0]?.local_address?.socket_address?.port_value;
      if (!port) return false;
      const tlsListener = Boolean(config.static_resources?.listeners?.[0]?.filter_chains?.[0]?.transport_socket);
      envoy.url = `${tlsListener ? 'https' : 'http'}://127.0.0.1:${port}`;
      return true;
    }, { timeoutMs: 30000, what: 'envoy to be ready' });
  } catch (e) {
    await envoy.stop();
    throw new Error(`${e.message}\n--- envoy log ---\n${log.slice(-4000)}`);
  }
  return envoy;
}

/** Runs Envoy with `config` and resolves with its exit code and log (for configs it must refuse). */
export async function runEnvoyUntilExit(config, { timeoutMs = 30000, extraArgs = [] } = {}) {
  const envoy = startEnvoy(config, { extraArgs, concurrency: 1 });
  return envoy.then(
    async (running) => {
      const log = running.log;
      await running.stop();
      return { code: 0, log, started: true };
    },
    (e) => ({ code: 1, log: e.message, started: false }),
  );
}

/** The `edgeward_*` metrics, from /stats (names without the `wasmcustom.` prefix). */
export async function metrics(envoy) {
  const text = await (await fetch(`${envoy.adminUrl}/stats?filter=edgeward`)).text();
  const out = {};
  for (const line of text.split('\n')) {
    const m = line.match(/^wasmcustom\.(edgeward_\w+): (\d+)$/);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

/** Sends a request through Envoy; resolves with status, headers, text body and parsed JSON. */
export async function request(envoy, path, { method = 'GET', headers = {} } = {}) {
  const res = await fetch(`${envoy.url}${path}`, { method, headers });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, text, json };
}

/**
 * A request to a TLS listener over node:https, trusting `ca` only and presenting the client
 * certificate `cert` / `key` (PEM texts; none if omitted); a new connection each time. Resolves
 * like `request` (status, headers as a Headers, text, json); a refused handshake rejects with
 * Node's error (its `code`, e.g. ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED).
 */
export function requestTls(envoy, path, { method = 'GET', headers = {}, body, cert, key, ca } = {}) {
  return new Promise((resolve, reject) => {
    const options = { method, headers, ca, agent: false, ...(cert ? { cert, key } : {}) };
    const req = https.request(new URL(path, envoy.url), options, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json = null;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        const list = Object.entries(res.headers).flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((one) => [name, one]));
        resolve({ status: res.statusCode, headers: new Headers(list), text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Stops everything in `things` (servers and Envoys), ignoring ones that are already gone. */
export async function stopAll(things) {
  for (const thing of things.reverse()) {
    try { await thing?.stop(); } catch { /* already stopped */ }
  }
}
