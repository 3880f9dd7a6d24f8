// A remembered identity is stored in IndexedDB only as its encrypted PEM
// and credential, unlocks again after a reload with its passphrase, and
// locking it closes the open document.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launchBrowser, newPage, waitForPortal } from './lib/browser.mjs';
import { DEMO_PASSPHRASE, demoCommunity, importIdentity, openPackageFile, waitForOutcome } from './lib/demo.mjs';
import { startPortal } from './lib/server.mjs';

const { dir } = demoCommunity();
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

/** Reads every stored identity record from the portal's IndexedDB. */
function storedIdentities(page) {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const request = indexedDB.open('valise');
        request.onerror = () => reject(request.error);
        request.onsuccess = () => {
          const read = request.result.transaction('identities').objectStore('identities').getAll();
          read.onsuccess = () => resolve(read.result);
          read.onerror = () => reject(read.error);
        };
      }),
  );
}

test('remembered identity is stored encrypted', async () => {
  const { context, page } = await newPage(browser);
  await page.goto(portal.url);
  await waitForPortal(page);
  await importIdentity(page, dir, 'carol', { remember: true });
  await page.locator('#lock-identity').waitFor();

  const records = await storedIdentities(page);
  assert.equal(records.length, 1);
  assert.match(records[0].keyPem, /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
  assert.doesNotMatch(JSON.stringify(records[0]), /BEGIN PRIVATE KEY|BEGIN EC PRIVATE KEY/);
  assert.doesNotMatch(JSON.stringify(records[0]), new RegExp(DEMO_PASSPHRASE));

  await page.reload();
  await waitForPortal(page);
  await page.locator('#choose-identity').click();
  const form = page.locator('form.unlock-remembered');
  await page.locator('#screen-identity').waitFor();
  await form.first().waitFor({ timeout: 10_000 }).catch(() => {});
  assert.equal(await form.count(), 1, 'the remembered identity is offered');
  await form.getByLabel(/Passphrase for Carol/).fill(DEMO_PASSPHRASE);
  await form.getByRole('button', { name: 'Unlock' }).click();
  await page.locator('#lock-identity').waitFor();
  assert.match(await page.locator('#identity-name').innerText(), /Carol Colin/);
  await context.close();
});

test('lock closes the open document', async () => {
  const { context, page } = await newPage(browser);
  await page.goto(portal.url);
  await waitForPortal(page);
  await importIdentity(page, dir, 'alice');
  await page.locator('#lock-identity').waitFor();
  await openPackageFile(page, join(dir, 'packages', 'advisory.tdf'));
  assert.equal(await waitForOutcome(page), 'document');

  await page.locator('#lock-identity').click();
  await page.locator('#choose-identity').waitFor();
  assert.equal(await page.locator('#document-content').count(), 0, 'the content is gone');
  assert.equal(await page.evaluate(() => document.body.dataset.screen), 'open');
  await context.close();
});
