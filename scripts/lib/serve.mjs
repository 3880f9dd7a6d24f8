// A small static file server for the portal and the demo packages, used by
// `npm start` and the browser tests. It listens on 127.0.0.1 only and sends
// the security headers a member's web server should send (docs/hosting.md):
// the Content-Security-Policy is read from the meta tag of www/index.html,
// so the header and the page can never disagree, and the header adds what a
// meta tag cannot carry (frame-ancestors). The header also narrows the meta
// tag's `connect-src`, which allows any HTTPS collector, to the portal's own
// origin and the access-event collectors of config.json.
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';

const MEDIA_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
  '.bcmap': 'application/octet-stream',
  '.pfb': 'application/octet-stream',
  '.ttf': 'font/ttf',
  '.pem': 'text/plain; charset=utf-8',
  '.jws': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.tdf': 'application/zip',
  '.zip': 'application/zip',
};

/** Reads the policy from the `Content-Security-Policy` meta tag of an HTML file. */
export function contentSecurityPolicy(indexHtml) {
  const html = readFileSync(indexHtml, 'utf8');
  const match = html.match(/<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]+)"/i);
  if (!match) {
    throw new Error(`${indexHtml} has no Content-Security-Policy meta tag`);
  }
  return match[1].replace(/\s+/g, ' ').trim();
}

/**
 * Files the sandboxed document frame loads. The frame has an opaque origin,
 * so `Cross-Origin-Resource-Policy: same-origin` would block them and
 * Markdown and HTML documents would lose their styles, the copy-refusal
 * rules included. They hold no secret.
 */
export const FRAME_RESOURCES = new Set(['/src/render/frame.css']);

/**
 * Returns the headers sent with every response. `frameAncestors` lists the
 * origins that may frame the portal (the iframe mode); none by default.
 * `connectSources` lists the access-event collector origins the page may
 * send to (config.json `events.collectorOrigins`); with none, only the
 * portal's own origin.
 */
export function securityHeaders(csp, frameAncestors = [], connectSources = []) {
  const ancestors = frameAncestors.length > 0 ? `'self' ${frameAncestors.join(' ')}` : "'none'";
  const connect = ["'self'", ...connectSources].join(' ');
  const policy = csp.replace(/connect-src [^;]*/, `connect-src ${connect}`);
  return {
    'Content-Security-Policy': `${policy}; frame-ancestors ${ancestors}`,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
    'Cache-Control': 'no-cache',
  };
}

/**
 * Starts a static server. `mounts` maps URL prefixes ending in "/" to
 * folders, e.g. `{ '/': 'www', '/demo/': 'demo/packages' }`; the longest
 * matching prefix wins. `files` maps exact URL paths to single files and
 * takes precedence, e.g. `{ '/config.json': 'demo/config.json' }`.
 * `frameAncestors` lists the origins allowed to frame the pages (the
 * config's `embed.allowedOrigins`), `connectSources` the collector origins
 * (`events.collectorOrigins`). Resolves to `{ server, url, close() }`.
 */
export function serveStatic({ mounts, files = {}, port = 0, csp, frameAncestors = [], connectSources = [] }) {
  const entries = Object.entries(mounts)
    .map(([prefix, folder]) => [prefix, resolve(folder)])
    .sort((a, b) => b[0].length - a[0].length);
  const singleFiles = new Map(Object.entries(files).map(([path, file]) => [path, resolve(file)]));
  const headers = securityHeaders(csp, frameAncestors, connectSources);

  const server = createServer((request, response) => {
    if (!isAllowedHost(request.headers.host, server.address()?.port)) {
      console.warn(`rejected a request for ${request.url}: Host ${JSON.stringify(request.headers.host ?? null)} is not a loopback name`);
      response.writeHead(421, { 'Content-Type': 'text/plain; charset=utf-8' }).end('misdirected request: unexpected Host\n');
      return;
    }
    for (const [name, value] of Object.entries(headers)) {
      response.setHeader(name, value);
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    const file = resolveSingleFile(singleFiles, request.url ?? '/') ?? resolveFile(entries, request.url ?? '/');
    if (!file) {
      response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    if (FRAME_RESOURCES.has(new URL(request.url ?? '/', 'http://127.0.0.1').pathname)) {
      response.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    }
    response.writeHead(200, {
      'Content-Type': MEDIA_TYPES[extname(file.path).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': file.size,
    });
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    createReadStream(file.path).pipe(response);
  });

  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: actual } = server.address();
      resolvePromise({
        server,
        url: `http://127.0.0.1:${actual}/`,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

/** Maps a request path to one of the single files, or null. */
function resolveSingleFile(singleFiles, rawUrl) {
  const pathname = new URL(rawUrl, 'http://127.0.0.1').pathname;
  const path = singleFiles.get(pathname);
  if (!path) {
    return null;
  }
  try {
    const stats = statSync(path);
    return stats.isFile() ? { path, size: stats.size } : null;
  } catch {
    return null;
  }
}

/** Maps a request path to a regular file inside one of the mounted folders, or null. */
function resolveFile(entries, rawUrl) {
  let pathname;
  try {
    pathname = decodeURIComponent(new URL(rawUrl, 'http://127.0.0.1').pathname);
  } catch {
    return null;
  }
  if (pathname.includes('\0')) {
    return null;
  }
  for (const [prefix, folder] of entries) {
    if (!pathname.startsWith(prefix)) {
      continue;
    }
    let path = resolve(folder, `.${sep}${pathname.slice(prefix.length)}`);
    if (path !== folder && !path.startsWith(folder + sep)) {
      return null;
    }
    try {
      let stats = statSync(path);
      if (stats.isDirectory()) {
        path = join(path, 'index.html');
        stats = statSync(path);
      }
      return stats.isFile() ? { path, size: stats.size } : null;
    } catch {
      return null;
    }
  }
  return null;
}

/**
 * Returns whether a `Host` header names this loopback server: localhost,
 * 127.0.0.1 or [::1] with the listening port. Any other name may be a DNS
 * rebinding page that made its own name resolve to 127.0.0.1.
 */
export function isAllowedHost(host, port) {
  if (typeof host !== 'string' || port === undefined) {
    return false;
  }
  const allowed = ['localhost', '127.0.0.1', '[::1]'].map((name) => `${name}:${port}`);
  return allowed.includes(host.toLowerCase());
}
