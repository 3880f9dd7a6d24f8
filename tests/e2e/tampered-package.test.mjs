// A package with one flipped byte in its encrypted payload, and one cut
// short, are refused with a clear message, and nothing of them is rendered.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launchBrowser, newPage, waitForPortal } from './lib/browser.mjs';
import { demoCommunity, importIdentity, openPackageFile, waitForOutcome } from './lib/demo.mjs';
import { startPortal } from './lib/server.mjs';

const { dir } = demoCommunity();
const scratch = mkdtempSync(join(tmpdir(), 'valise-tampered-'));
let portal;
let browser;

before(async () => {
  portal = await startPortal({ demoDir: dir });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await portal?.close();
});

/** Writes a copy of a demo package changed by `change(bytes)` and returns its path. */
function tamperedCopy(name, change) {
  const bytes = new Uint8Array(readFileSync(join(dir, 'packages', name)));
  const path = join(scratch, name);
  writeFileSync(path, change(bytes));
  return path;
}

async function openAsAlice(path) {
  const session = await newPage(browser);
  await session.page.goto(portal.url);
  await waitForPortal(session.page);
  await importIdentity(session.page, dir, 'alice');
  await session.page.locator('#lock-identity').waitFor();
  await openPackageFile(session.page, path);
  return { ...session, outcome: await waitForOutcome(session.page) };
}

test('flipped payload byte is an integrity failure', async () => {
  // The payload is the first ZIP entry: byte 200 is inside the ciphertext
  // of the first segment (the local header and name take 30 + 9 bytes).
  const path = tamperedCopy('advisory.tdf', (bytes) => {
    bytes[200] ^= 0x01;
    return bytes;
  });
  const { context, page, outcome } = await openAsAlice(path);
  assert.equal(outcome, 'refused');
  assert.equal(await page.locator('#screen-refused .refusal').getAttribute('data-error'), 'IntegrityError');
  assert.match(await page.locator('#screen-refused').innerText(), /altered or damaged/);
  assert.equal(await page.locator('#document-content').count(), 0, 'nothing is rendered');
  await context.close();
});

test('truncated package is malformed', async () => {
  const path = tamperedCopy('wiper-alert.tdf', (bytes) => bytes.slice(0, bytes.length - 100));
  const { context, page, outcome } = await openAsAlice(path);
  assert.equal(outcome, 'refused');
  assert.equal(await page.locator('#screen-refused .refusal').getAttribute('data-error'), 'MalformedPackageError');
  assert.equal(await page.locator('#document-content').count(), 0, 'nothing is rendered');
  await context.close();
});
