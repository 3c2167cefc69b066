// Serves the harness page and the edgeward/web build on 127.0.0.1 (make harness: port 8080).
//   node js/harness/serve.mjs [--port 8080]     (--port 0 picks a free port)
// The page is /harness/ (printed on start); / and /harness redirect there.
// Only the page's own files are served, with a Content-Security-Policy that lets the page talk to
// nothing but this origin (its scripts and the .wasm): what is pasted stays in the page.
import http from 'node:http';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const js = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
};
const ALLOWED = [/^\/harness\/(index\.html|harness\.mjs|harness\.css)$/, /^\/web\.mjs$/, /^\/pkg-web\/(edgeward_js\.js|edgeward_js_bg\.wasm|api\.mjs)$/];

const PAGE = '/harness/';

const SECURITY = {
  'content-security-policy':
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; connect-src 'self'; " +
    "img-src 'self' data:; form-action 'none'; base-uri 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};

export function createHarnessServer() {
  return http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://localhost');
    let pathname = url.pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    // The page lives at /harness/ (its module imports ../web.mjs): send the other ways in there.
    if (pathname === '/' || pathname === '/index.html' || pathname === '/harness') {
      res.writeHead(302, { location: PAGE, 'content-type': 'text/plain', ...SECURITY }).end(`see ${PAGE}\n`);
      return;
    }
    if (pathname === PAGE) pathname = '/harness/index.html';
    if (!ALLOWED.some((pattern) => pattern.test(pathname))) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    try {
      const body = await fs.readFile(path.join(js, pathname));
      res.writeHead(200, { 'content-type': TYPES[path.extname(pathname)], ...SECURITY });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not built: run make build-js\n');
    }
  });
}

/** Listens on 127.0.0.1:`port`; resolves to { server, url }. */
export async function serve(port) {
  const server = createHarnessServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return { server, url: `http://127.0.0.1:${server.address().port}${PAGE}` };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const flag = process.argv.indexOf('--port');
  const port = flag > 0 ? Number(process.argv[flag + 1]) : 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`harness: --port ${process.argv[flag + 1]} is not a port number`);
    process.exit(2);
  }
  try {
    const { url } = await serve(port);
    console.log(`edgeward harness: ${url}  (Ctrl-C to stop)`);
  } catch (error) {
    if (error.code !== 'EADDRINUSE') throw error;
    console.error(`harness: port ${port} is in use (set HARNESS_PORT=... to use another)`);
    process.exit(1);
  }
}
