// The demo community for browser tests. `npm test` builds it once and
// passes its folder in VALISE_E2E_DEMO; a test file run on its own builds
// a fresh one in a temporary folder with the debug CLI.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDemo, cliPath } from '../../../scripts/lib/demo.mjs';

export { DEMO_PASSPHRASE, DEMO_PACKAGES, PEOPLE } from '../../../scripts/lib/demo.mjs';

let cached = null;

/**
 * Seals `input` for Alice into `output` with the debug CLI, signed by
 * alpha-cert of the demo community in `dir`. `args` adds seal options
 * (label, media type, segment size, watermark).
 */
export function sealForAlice(dir, passphrase, input, output, args) {
  const token = readFileSync(join(dir, 'identities', 'alice.credential.jws'), 'utf8').trim();
  const kid = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')).keyAccessKey.kid;
  execFileSync(cliPath('debug'), [
    'seal', input,
    '--to', `${kid}=${join(dir, 'identities', 'alice.pub.pem')}`,
    '--sign-key', join(dir, 'community', 'alpha-cert.sign.key.pem'),
    '--org', 'alpha-cert',
    '--community', 'https://demo-isac.invalid',
    ...args,
    // The demo folder may be shared between runs: the package is rebuilt.
    '--force',
    '-o', output,
  ], { env: { ...process.env, VALISE_PASSPHRASE: passphrase }, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Returns `{ dir, manifest }` of the demo community, building it if needed. */
export function demoCommunity() {
  if (cached) {
    return cached;
  }
  const shared = process.env.VALISE_E2E_DEMO;
  if (shared && existsSync(join(shared, 'demo.json'))) {
    cached = { dir: shared, manifest: JSON.parse(readFileSync(join(shared, 'demo.json'), 'utf8')) };
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'valise-demo-'));
    cached = { dir, manifest: buildDemo(dir, { cli: cliPath('debug') }) };
  }
  return cached;
}

/**
 * Imports and unlocks a demo person's identity through the identity screen.
 * `passphrase` defaults to the demo passphrase.
 */
export async function importIdentity(page, dir, person, { passphrase, remember = false } = {}) {
  if (await page.locator('#screen-identity').isHidden()) {
    await page.locator('#choose-identity').click();
  }
  await page.locator('#key-file').setInputFiles(join(dir, 'identities', `${person}.key.pem`));
  await page.locator('#credential-file').setInputFiles(join(dir, 'identities', `${person}.credential.jws`));
  await page.locator('#passphrase').fill(passphrase ?? JSON.parse(readFileSync(join(dir, 'demo.json'), 'utf8')).passphrase);
  await page.locator('#remember').setChecked(remember);
  await page.locator('#import-identity button[type="submit"]').click();
}

/** Opens a demo package through the file picker of the open screen. */
export async function openPackageFile(page, path) {
  await page.locator('#package-file').setInputFiles(path);
}

/** Waits for the outcome of an open: "document", "refused", "identity" or "fatal". */
export async function waitForOutcome(page) {
  const handle = await page.waitForFunction(
    () => {
      if (!document.getElementById('fatal').hidden) {
        return 'fatal';
      }
      const screen = document.body.dataset.screen;
      if (screen === 'refused' || screen === 'identity') {
        return screen;
      }
      if (screen === 'document' && document.body.dataset.opened) {
        return 'document';
      }
      return null;
    },
    null,
    { timeout: 30_000 },
  );
  return handle.jsonValue();
}
