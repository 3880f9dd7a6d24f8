// The identity screen names the expected file when a file is chosen for the
// wrong field, and gives a next step when the credential is not valid. The
// cases: a key file chosen as the credential, the signing key chosen as the
// key file, and the credential of an organization that left the community.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { cliPath } from '../../scripts/lib/demo.mjs';
import { launchBrowser, newPage, waitForPortal } from './lib/browser.mjs';
import { demoCommunity } from './lib/demo.mjs';
import { startPortal } from './lib/server.mjs';

let demo;
let departedDir;
let portal;
let departedPortal;
let browser;

/** Copies the demo community and marks beta-bank, Carol's organization, as departed. */
function departedCommunity() {
  const dir = mkdtempSync(join(tmpdir(), 'valise-departed-'));
  cpSync(demo.dir, dir, { recursive: true });
  const community = join(dir, 'community');
  const result = spawnSync(
    cliPath('debug'),
    [
      'member', 'set-status',
      '--trust', join(community, 'trust.json'),
      '--root-key', join(community, 'root.key.pem'),
      '--org', 'beta-bank',
      '--status', 'departed',
    ],
    { encoding: 'utf8', env: { ...process.env, VALISE_PASSPHRASE: demo.manifest.passphrase, VALISE_HOME: join(dir, '.valise-home') } },
  );
  if (result.status !== 0) {
    throw new Error(`valise member set-status failed (status ${result.status}):\n${result.stderr}`);
  }
  return dir;
}

before(async () => {
  demo = demoCommunity();
  departedDir = departedCommunity();
  portal = await startPortal({ demoDir: demo.dir });
  departedPortal = await startPortal({ demoDir: departedDir });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await portal?.close();
  await departedPortal?.close();
  if (departedDir) rmSync(departedDir, { recursive: true, force: true });
});

/** Imports the given files on the identity screen of `url`; resolves to the error shown. */
async function unlockError(url, { keyFile, credentialFile }) {
  const { context, page } = await newPage(browser);
  try {
    await page.goto(url);
    await waitForPortal(page);
    await page.locator('#choose-identity').click();
    await page.locator('#key-file').setInputFiles(keyFile);
    await page.locator('#credential-file').setInputFiles(credentialFile);
    await page.locator('#passphrase').fill(JSON.parse(readFileSync(join(demo.dir, 'demo.json'), 'utf8')).passphrase);
    await page.locator('#import-identity button[type="submit"]').click();
    const error = page.locator('#import-identity .form-error');
    await page.waitForFunction(() => document.querySelector('#import-identity .form-error')?.textContent !== '', null, { timeout: 30_000 });
    return await error.textContent();
  } finally {
    await context.close();
  }
}

const identity = (dir, file) => join(dir, 'identities', file);

test('key file as credential names both files', async () => {
  const text = await unlockError(portal.url, { keyFile: identity(demo.dir, 'alice.key.pem'), credentialFile: identity(demo.dir, 'alice.key.pem') });
  assert.match(text, /credential is a PEM key file/);
  assert.match(text, /NAME\.credential\.jws/);
  assert.match(text, /NAME\.key\.pem/);
  assert.doesNotMatch(text, /malformed JWS/);
});

test('signing key as key file names the key file', async () => {
  const text = await unlockError(portal.url, { keyFile: identity(demo.dir, 'alice.sign.key.pem'), credentialFile: identity(demo.dir, 'alice.credential.jws') });
  assert.match(text, /signing key/);
  assert.match(text, /Choose NAME\.key\.pem as the key file/);
  assert.doesNotMatch(text, /credential was issued for another key/, 'the credential is not blamed');
});

test('departed organization names the operator', async () => {
  const text = await unlockError(departedPortal.url, { keyFile: identity(departedDir, 'carol.key.pem'), credentialFile: identity(departedDir, 'carol.credential.jws') });
  assert.match(text, /is departed/);
  assert.match(text, /Contact the community operator\./);
});
