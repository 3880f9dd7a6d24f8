// Starts the portal's static server for a test: www/ at "/", and optionally
// a folder of packages and identity files at "/demo/". Listens on a free
// 127.0.0.1 port and sends the same security headers as `npm start`.
import { join } from 'node:path';
import { ROOT } from '../../../scripts/lib/setup.mjs';
import { contentSecurityPolicy, serveStatic } from '../../../scripts/lib/serve.mjs';
import { demoFiles, demoMounts } from '../../../scripts/lib/demo.mjs';

/** The portal's folder. */
export const WWW = join(ROOT, 'www');

/**
 * Serves the portal. With `demoDir` (a folder made by `buildDemo`), the
 * demo's packages and identity files are at "/demo/" and its config.json
 * and trust list replace the portal's. `extraMounts` adds URL prefixes
 * (ending in "/") mapped to folders. Resolves to `{ url, close() }`.
 */
export async function startPortal({ demoDir = null, extraMounts = {} } = {}) {
  const mounts = { '/': WWW, ...extraMounts };
  const files = {};
  if (demoDir) {
    Object.assign(mounts, demoMounts(demoDir));
    Object.assign(files, demoFiles(demoDir));
  }
  return serveStatic({ mounts, files, port: 0, csp: contentSecurityPolicy(join(WWW, 'index.html')) });
}
