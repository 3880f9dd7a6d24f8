// Bidi control characters in names cannot make text read differently than
// it is. The test community's organization, reader, author, marking, file
// name and CSV cells all contain U+202E (RIGHT-TO-LEFT OVERRIDE). The portal
// shows each such character as the token "⟨U+202E⟩", and each name sits in
// its own <bdi>, in the page and in the watermark.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ROOT } from '../../scripts/lib/setup.mjs';
import { cliPath } from '../../scripts/lib/demo.mjs';
import { launchBrowser, newPage, waitForPortal } from './lib/browser.mjs';
import { openPackageFile, waitForOutcome } from './lib/demo.mjs';
import { startPortal } from './lib/server.mjs';

const RLO = '\u202E';
const TOKEN = '⟨U+202E⟩';
const PASSPHRASE = 'bidi-test-passphrase';
const COMMUNITY_ID = 'https://bidi-test.invalid';

const ORGANIZATION_NAME = `Evil ${RLO}gro Bank`;
const READER_NAME = `Mallory ${RLO}yrolaM`;
const AUTHOR = `Author ${RLO}rohtuA`;
const MARKING = `EVIL:Inter${RLO}nal`;
// The override makes this name display as "invoice-exe.csv", although it ends in ".exe".
const FILE_NAME = `invoice-${RLO}vsc.exe`;
const CSV = `indicator,comment\n${RLO}exe.txt,"looks like txt ${RLO}cod"\nexample[.]com,plain\n`;
const INDICATOR_NAME = `Dropper ${RLO}fdp.exe`;
const STIX = JSON.stringify({
  type: 'bundle',
  id: 'bundle--6f0e8a52-3f5c-4c1e-9a57-0a1f3b2c4d5e',
  objects: [
    {
      type: 'indicator',
      spec_version: '2.1',
      id: 'indicator--1d2c3b4a-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
      created: '2026-01-01T00:00:00.000Z',
      modified: '2026-01-01T00:00:00.000Z',
      name: INDICATOR_NAME,
      pattern: `[file:name = 'invoice${RLO}fdp.exe']`,
      pattern_type: 'stix',
      valid_from: '2026-01-01T00:00:00Z',
    },
  ],
});

let dir;
let portal;
let browser;

/** Runs the debug CLI in `dir`; throws with its stderr on failure. */
function valise(args) {
  const result = spawnSync(cliPath('debug'), args, {
    cwd: dir,
    encoding: 'utf8',
    // The CLI rejects bidi controls in the names it signs; this test needs
    // them, as another tool could sign them.
    env: { ...process.env, VALISE_PASSPHRASE: PASSPHRASE, VALISE_HOME: join(dir, '.valise-home'), VALISE_ALLOW_HIDDEN_NAME_CHARACTERS: '1' },
  });
  if (result.error || result.status !== 0) {
    throw new Error(`valise ${args.join(' ')} failed (status ${result.status}):\n${result.stderr ?? result.error?.message}`);
  }
  return result.stdout;
}

/** Builds a one-member community whose names contain U+202E, in the layout `startPortal` serves. */
function buildCommunity() {
  const community = join(dir, 'community');
  const trust = join(community, 'trust.json');
  const rootKey = join(community, 'root.key.pem');
  const created = valise(['community', 'init', '--name', 'Bidi Test', '--id', COMMUNITY_ID, '--out', community]);
  const fingerprint = created.match(/fingerprint \(RFC 7638\): (\S+)/)?.[1];
  assert.ok(fingerprint, `community init printed a root key fingerprint:\n${created}`);
  valise(['member', 'add', '--trust', trust, '--root-key', rootKey, '--org', 'evil-bank', '--name', ORGANIZATION_NAME, '--sector', 'finance', '--country', 'FR', '--label-map', `${MARKING}=AMBER`]);

  mkdirSync(join(dir, 'identities'));
  mkdirSync(join(dir, 'packages'));
  const identity = join(dir, 'identities', 'mallory');
  valise(['credential', 'issue', '--trust', trust, '--org-key', join(community, 'evil-bank.sign.key.pem'), '--person', 'mallory', '--name', READER_NAME, '--valid-for', '30', `--root-fingerprint=${fingerprint}`, '--out', identity]);

  const seal = (document, mediaType, output) =>
    valise([
      'seal', document,
      '--trust', trust,
      `--root-fingerprint=${fingerprint}`,
      '--sign-key', join(community, 'evil-bank.sign.key.pem'),
      '--author', AUTHOR,
      '--label', 'TLP:AMBER',
      '--marking', MARKING,
      '--media-type', mediaType,
      '--to-person', `${identity}.credential.jws`,
      '--watermark',
      '-o', join(dir, 'packages', output),
    ]);
  writeFileSync(join(dir, FILE_NAME), CSV);
  seal(join(dir, FILE_NAME), 'text/csv', 'bidi.tdf');
  writeFileSync(join(dir, 'bundle.json'), STIX);
  seal(join(dir, 'bundle.json'), 'application/stix+json', 'bidi-stix.tdf');

  const config = JSON.parse(readFileSync(join(ROOT, 'www', 'config.json'), 'utf8'));
  config.rootKeyFingerprints = [fingerprint];
  config.trustListUrl = 'trust-list.jws';
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ packages: [] }));
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'valise-bidi-'));
  buildCommunity();
  portal = await startPortal({ demoDir: dir });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await portal?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Opens the portal in a new context and unlocks the test reader. */
async function unlockReader() {
  const session = await newPage(browser);
  const { page } = session;
  await page.goto(portal.url);
  await waitForPortal(page);
  await page.locator('#choose-identity').click();
  await page.locator('#key-file').setInputFiles(join(dir, 'identities', 'mallory.key.pem'));
  await page.locator('#credential-file').setInputFiles(join(dir, 'identities', 'mallory.credential.jws'));
  await page.locator('#passphrase').fill(PASSPHRASE);
  await page.locator('#import-identity button[type="submit"]').click();
  await page.locator('#lock-identity').waitFor();
  return session;
}

test('bidi controls are shown and isolated', async () => {
  const { context, page } = await unlockReader();
  const status = await page.locator('#identity-name bdi').allTextContents();
  // The status line names the organization by its id.
  assert.deepEqual(status, [READER_NAME.replace(RLO, TOKEN), 'evil-bank'], 'the reader name is isolated and revealed');

  await openPackageFile(page, join(dir, 'packages', 'bidi.tdf'));
  assert.equal(await waitForOutcome(page), 'document');
  await page.locator('.valise-csv tbody tr').first().waitFor();

  const screen = page.locator('#screen-document');
  assert.equal(await page.locator('#document-heading bdi').textContent(), FILE_NAME.replace(RLO, TOKEN), 'the file name is isolated and revealed');
  const banner = page.locator('.tlp-banner[data-position="top"] .marking bdi');
  assert.equal(await banner.textContent(), MARKING.replace(':', ': ').replace(RLO, TOKEN), 'the marking in the banner');
  const values = await screen.locator('.document-meta dd bdi').allTextContents();
  assert.ok(values.includes(ORGANIZATION_NAME.replace(RLO, TOKEN)), `the originator organization is revealed: ${values}`);
  assert.ok(values.includes(AUTHOR.replace(RLO, TOKEN)), `the author is revealed: ${values}`);

  const cells = await page.locator('.valise-csv td').allTextContents();
  assert.equal(cells[0], `${TOKEN}exe.txt`, 'a CSV cell');
  assert.equal(cells[1], `looks like txt ${TOKEN}cod`, 'a quoted CSV cell');
  assert.equal(cells[2], 'example[.]com', 'a cell without controls is unchanged');

  const watermark = await page.locator('#document-content .valise-watermark').evaluate((node) => decodeURIComponent(getComputedStyle(node).backgroundImage));
  assert.ok(watermark.includes(READER_NAME.replace(RLO, TOKEN)), 'the watermark names the reader with the control revealed');
  assert.ok(!watermark.includes(RLO), 'the watermark contains no raw override');

  const text = await page.evaluate(() => document.body.innerText);
  assert.ok(!text.includes(RLO), 'no raw override is left in the page text');
  await context.close();
});

test('STIX fields reveal bidi controls', async () => {
  const { context, page } = await unlockReader();
  await openPackageFile(page, join(dir, 'packages', 'bidi-stix.tdf'));
  assert.equal(await waitForOutcome(page), 'document');
  const report = page.locator('#document-content .valise-render');
  await report.locator('[data-stix-id]').first().waitFor();

  const text = await report.innerText();
  assert.ok(text.includes(INDICATOR_NAME.replace(RLO, TOKEN)), `the indicator name is revealed: ${text}`);
  assert.ok(text.includes(`invoice${TOKEN}fdp.exe`), 'the pattern is revealed');
  assert.ok(!text.includes(RLO), 'no raw override is left in the report');
  await context.close();
});
