// Writes www/build.json: the build id and the SHA-256 of every file the
// portal's service worker precaches. The service worker installs a build only
// when every file it downloads matches this list, and the same list lets a
// member verify a deployment (`node scripts/build.mjs --checksums`).
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/**
 * Files of the portal folder that are not part of a build: the list itself,
 * the service worker (the browser checks it on its own), the deployment's
 * configuration and trust list (fetched fresh, kept as the last good copy),
 * the examples, and the type declarations and metadata wasm-pack writes.
 */
const EXCLUDED = [
  /^build\.json$/,
  /^sw\.js$/,
  /^config\.json$/,
  /^trust-list/,
  /^examples\//,
  /\.d\.ts$/,
  /^pkg(-sanitize)?\/(package\.json|\.gitignore|README\.md)$/,
  /(^|\/)\./,
];

/** Lists the precached files of a portal folder, as sorted '/'-separated paths. */
export function precachedFiles(www) {
  return readdirSync(www, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(www, join(entry.parentPath ?? entry.path, entry.name)).split(sep).join('/'))
    .filter((path) => !EXCLUDED.some((pattern) => pattern.test(path)))
    .sort();
}

/** Computes `{ buildId, files: { path: sha256 } }` for a portal folder. */
export function buildManifest(www) {
  const files = {};
  for (const path of precachedFiles(www)) {
    files[path] = createHash('sha256').update(readFileSync(join(www, path))).digest('hex');
  }
  const listing = Object.entries(files).map(([path, hash]) => `${hash}  ${path}\n`).join('');
  const buildId = createHash('sha256').update(listing).digest('hex').slice(0, 32);
  return { buildId, files };
}

/** Writes `build.json` into the portal folder and returns its content. */
export function writeBuildManifest(www) {
  const manifest = buildManifest(www);
  writeFileSync(join(www, 'build.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
