// Starts the portal's static server for a test: www/ at "/", and optionally
// a folder of packages and identity files at "/demo/". Listens on a free
// 127.0.0.1 port and sends the same security headers as `npm start`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../../scripts/lib/setup.mjs';
import { contentSecurityPolicy, serveStatic } from '../../../scripts/lib/serve.mjs';
import { demoFiles, demoMounts } from '../../../scripts/lib/demo.mjs';

/** The portal's folder. */
export const WWW = join(ROOT, 'www');

/**
 * Serves the portal. With `demoDir` (a folder made by `buildDemo`), the
 * demo's packages and identity files are at "/demo/" and its config.json
 * and trust list replace the portal's, and the collector origins of its
 * config.json are added to the CSP `connect-src`. `extraMounts` adds URL prefixes
 * (ending in "/") mapped to folders. Resolves to `{ url, close() }`.
 */
export async function startPortal({ demoDir = null, extraMounts = {} } = {}) {
  const mounts = { '/': WWW, ...extraMounts };
  const files = {};
  let connectSources = [];
  if (demoDir) {
    Object.assign(mounts, demoMounts(demoDir));
    Object.assign(files, demoFiles(demoDir));
    connectSources = JSON.parse(readFileSync(files['/config.json'], 'utf8')).events?.collectorOrigins ?? [];
  }
  return serveStatic({ mounts, files, port: 0, csp: contentSecurityPolicy(join(WWW, 'index.html')), connectSources });
}
