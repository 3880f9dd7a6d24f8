// The benchmark server: static files on 127.0.0.1 with the headers that make
// the page cross-origin isolated (COOP same-origin, COEP require-corp), so
// performance.now() resolves to microseconds and
// performance.measureUserAgentSpecificMemory() is available.
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';

const MEDIA_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.pem': 'text/plain; charset=utf-8',
  '.jws': 'text/plain; charset=utf-8',
  '.pdf': 'application/pdf',
  '.tdf': 'application/zip',
  '.bin': 'application/octet-stream',
  '.bcmap': 'application/octet-stream',
  '.pfb': 'application/octet-stream',
  '.ttf': 'font/ttf',
};

const HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
};

/**
 * Serves `mounts` (URL prefix ending in "/" → folder) on 127.0.0.1 at a free
 * port. Resolves to `{ url, close() }`.
 */
export function serveBench(mounts) {
  const entries = Object.entries(mounts)
    .map(([prefix, folder]) => [prefix, resolve(folder)])
    .sort((a, b) => b[0].length - a[0].length);
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname);
    const entry = entries.find(([prefix]) => path.startsWith(prefix));
    const file = entry ? resolve(join(entry[1], path.slice(entry[0].length))) : null;
    if (!file || (file !== entry[1] && !file.startsWith(entry[1] + sep))) {
      response.writeHead(404, HEADERS).end();
      return;
    }
    let stats;
    try {
      stats = statSync(file);
    } catch {
      stats = null;
    }
    if (!stats?.isFile()) {
      response.writeHead(404, HEADERS).end();
      return;
    }
    response.writeHead(200, {
      ...HEADERS,
      'Content-Type': MEDIA_TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Length': stats.size,
    });
    createReadStream(file).pipe(response);
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolvePromise({ url: `http://127.0.0.1:${port}`, close: () => new Promise((done) => server.close(done)) });
    });
  });
}
