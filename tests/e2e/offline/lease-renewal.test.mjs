// The offline lease counts from the last online fetch of the trust list. An
// open past the lease fetches the list again, and online the package opens:
// one sealed with a lease of zero seconds, in the portal and in its iframe
// mode, and one whose lease ended while the tab stayed open. Offline the
// package is still refused (offline-open.test.mjs).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launchBrowser, newPage, waitForPortal } from '../lib/browser.mjs';
import { demoCommunity, importIdentity, openPackageFile, waitForOutcome } from '../lib/demo.mjs';
import { startPortal } from '../lib/server.mjs';
import { startEmbedServers } from '../embed/support.mjs';
import { sealWithLease } from './support.mjs';

const LEASE_SECONDS = 3600;

let portal;
let browser;
let demo;

before(async () => {
  demo = demoCommunity();
  portal = await startPortal({ demoDir: demo.dir });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await portal?.close();
});

/** Opens the portal in a new context and unlocks alice. */
async function portalWithAlice() {
  const session = await newPage(browser);
  await session.page.goto(portal.url);
  await waitForPortal(session.page);
  await importIdentity(session.page, demo.dir, 'alice');
  await session.page.locator('#lock-identity').waitFor();
  return session;
}

/** Asserts that the advisory is on screen. */
async function assertAdvisoryShown(page) {
  const frame = await (await page.locator('#document-content iframe.valise-frame').elementHandle()).contentFrame();
  assert.match(await frame.locator('h1').textContent(), /^Advisory DEMO-2026-014/);
}

test('zero lease opens online', async () => {
  const leasePackage = sealWithLease(demo.dir, 0);
  const { context, page, errors } = await portalWithAlice();
  await openPackageFile(page, leasePackage);
  assert.equal(await waitForOutcome(page), 'document');
  await assertAdvisoryShown(page);
  assert.deepEqual(errors, []);
  await context.close();
});

test('lease ended in an open tab renews online', async () => {
  const leasePackage = sealWithLease(demo.dir, LEASE_SECONDS);
  // No check of the page's errors here: Playwright's fake clock tries to run
  // its script in the document's sandboxed frame too, which Chromium blocks
  // and logs.
  const { context, page } = await portalWithAlice();
  // The tab stays open two hours, past the lease of one hour counted from the page load.
  await page.clock.setSystemTime(new Date(Date.now() + 2 * LEASE_SECONDS * 1000));
  await openPackageFile(page, leasePackage);
  assert.equal(await waitForOutcome(page), 'document');
  await assertAdvisoryShown(page);
  await context.close();
});

test('zero lease opens in the frame', async () => {
  const leasePackage = sealWithLease(demo.dir, 0);
  const servers = await startEmbedServers(demo.dir);
  const { context, page } = await newPage(browser);
  try {
    const exampleUrl = new URL('examples/intranet.html', servers.intranet.url);
    exampleUrl.searchParams.set('portal', servers.portal.url);
    await page.goto(exampleUrl.href);
    await page.waitForFunction(() => document.getElementById('frame').dataset.ready === 'true', null, { timeout: 30_000 });
    await page.locator('#frame-file').setInputFiles(leasePackage);

    const form = page.frameLocator('#frame').locator('form.valise-unlock');
    await form.locator('input[name="key"]').setInputFiles(join(demo.dir, 'identities', 'alice.key.pem'));
    await form.locator('input[name="credential"]').setInputFiles(join(demo.dir, 'identities', 'alice.credential.jws'));
    await form.locator('input[name="passphrase"]').fill(demo.manifest.passphrase);
    await form.locator('button[type="submit"]').click();
    await page.waitForFunction(() => /^(Opened|Refused|The viewer reported)/.test(document.getElementById('frame-outcome').textContent), null, { timeout: 30_000 });
    assert.equal(await page.locator('#frame-outcome').textContent(), 'Opened (TLP:GREEN).');
  } finally {
    await context.close();
    await servers.close();
  }
});
