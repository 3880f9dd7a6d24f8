// Servers of the embedding tests, each on its own 127.0.0.1 port: the
// community portal, a member's intranet that serves the example page and
// the viewer element, and optionally an origin no configuration allows.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoFiles, demoMounts } from '../../../scripts/lib/demo.mjs';
import { contentSecurityPolicy, serveStatic } from '../../../scripts/lib/serve.mjs';
import { WWW } from '../lib/server.mjs';

/**
 * The policy of the intranet page: its own scripts, and frames from any
 * local port (the portal's port is not known before the intranet starts).
 */
const INTRANET_POLICY = [
  "default-src 'none'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "frame-src 'self' http://127.0.0.1:*",
  "object-src 'none'",
  "base-uri 'none'",
].join('; ');

/**
 * Starts the portal, the intranet and an unlisted origin. The portal's
 * config.json allows only the intranet's origin, and the portal sends it in
 * frame-ancestors. Resolves to `{ portal, intranet, other, close() }`, each
 * server with `url` and `origin`.
 */
export async function startEmbedServers(demoDir) {
  const folder = mkdtempSync(join(tmpdir(), 'valise-embed-'));
  const configPath = join(folder, 'config.json');
  writeFileSync(join(folder, 'index.html'), '<!doctype html><title>Another site</title><p>Another site</p>\n');
  const files = { ...demoFiles(demoDir), '/config.json': configPath };
  const mounts = { '/': WWW, ...demoMounts(demoDir) };
  const servers = [];
  const withOrigin = (server) => {
    servers.push(server);
    return { ...server, origin: new URL(server.url).origin };
  };
  try {
    const intranet = withOrigin(await serveStatic({ mounts, files, csp: INTRANET_POLICY }));
    const other = withOrigin(await serveStatic({ mounts: { '/': folder }, csp: "default-src 'none'", frameAncestors: [intranet.origin] }));
    const config = JSON.parse(readFileSync(demoFiles(demoDir)['/config.json'], 'utf8'));
    config.embed = { allowedOrigins: [intranet.origin] };
    writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
    const portal = withOrigin(
      await serveStatic({ mounts, files, csp: contentSecurityPolicy(join(WWW, 'index.html')), frameAncestors: [intranet.origin] }),
    );
    return {
      portal,
      intranet,
      other,
      async close() {
        await Promise.all(servers.map((server) => server.close()));
        rmSync(folder, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await Promise.all(servers.map((server) => server.close()));
    throw error;
  }
}
