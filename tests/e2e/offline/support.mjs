// Helpers of the offline tests: a package sealed with an offline lease, and a
// copy of the portal whose modules record which build they belong to.
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOCUMENTS, cliPath } from '../../../scripts/lib/demo.mjs';
import { writeBuildManifest } from '../../../scripts/lib/precache.mjs';
import { WWW } from '../lib/server.mjs';

/**
 * Seals the demo Markdown advisory for alice with an offline lease of
 * `seconds`, into the demo's packages folder. Returns the package path.
 */
export function sealWithLease(demoDir, seconds) {
  const token = readFileSync(join(demoDir, 'identities', 'alice.credential.jws'), 'utf8').trim();
  const kid = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')).keyAccessKey.kid;
  const out = join(demoDir, 'packages', `advisory-lease-${seconds}.tdf`);
  const result = spawnSync(
    cliPath('debug'),
    [
      'seal', join(DOCUMENTS, 'advisory.md'),
      '--sign-key', join(demoDir, 'community', 'alpha-cert.sign.key.pem'),
      '--org', 'alpha-cert',
      '--author', 'Alice Adler',
      '--community', 'https://demo-isac.invalid',
      '--label', 'TLP:GREEN',
      '--media-type', 'text/markdown',
      '--offline-lease', String(seconds),
      `--to=${kid}=${join(demoDir, 'identities', 'alice.pub.pem')}`,
      // The demo folder may be shared between runs: the package is rebuilt.
      '--force',
      '-o', out,
    ],
    { encoding: 'utf8', env: { ...process.env, VALISE_PASSPHRASE: JSON.parse(readFileSync(join(demoDir, 'demo.json'), 'utf8')).passphrase } },
  );
  if (result.status !== 0) {
    throw new Error(`valise seal failed: ${result.stderr}`);
  }
  return out;
}

/**
 * Writes a build of the portal into `dir`: a copy of www/ whose every module
 * under src/ records `[its URL, tag]` in `globalThis.valiseModules` when it
 * runs, and a build.json for it. Returns the build id.
 */
export function writeTaggedBuild(dir, tag) {
  cpSync(WWW, dir, { recursive: true, filter: (path) => !path.endsWith('build.json') });
  for (const entry of readdirSync(join(dir, 'src'), { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.js')) {
      appendFileSync(
        join(entry.parentPath ?? entry.path, entry.name),
        `\n(globalThis.valiseModules ??= []).push([import.meta.url, ${JSON.stringify(tag)}]);\n`,
      );
    }
  }
  return writeBuildManifest(dir).buildId;
}

/** Creates a new empty temporary folder. */
export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), prefix));
}
