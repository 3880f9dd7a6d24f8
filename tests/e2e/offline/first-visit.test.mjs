// A first visit works offline as soon as the service worker is active: the
// worker takes control of the page that registered it, so the renderer
// modules the page imports only when a package opens come from its cache.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launchBrowser, newPage, waitForPortal } from '../lib/browser.mjs';
import { demoCommunity, importIdentity, openPackageFile, waitForOutcome } from '../lib/demo.mjs';
import { startPortal } from '../lib/server.mjs';

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

test('first visit opens a package offline', async () => {
  const { context, page, errors } = await newPage(browser);
  await page.goto(portal.url);
  await waitForPortal(page);
  await page.waitForFunction(() => document.documentElement.dataset.offlineReady === 'true', null, { timeout: 30_000 });
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 30_000 });
  // The page requests its build id from the worker once the worker claimed it.
  await page.waitForFunction(() => document.documentElement.dataset.buildId !== undefined, null, { timeout: 30_000 });
  assert.match(
    await page.evaluate(() => document.documentElement.dataset.buildId ?? ''),
    /^[0-9a-f]{32}$/,
    'the claimed page knows its build',
  );

  await context.setOffline(true);
  await importIdentity(page, demo.dir, 'alice');
  await page.locator('#lock-identity').waitFor();
  await openPackageFile(page, join(demo.dir, 'packages', 'advisory.tdf'));
  assert.equal(await waitForOutcome(page), 'document');
  const frame = await (await page.locator('#document-content iframe.valise-frame').elementHandle()).contentFrame();
  assert.match(await frame.locator('h1').textContent(), /^Advisory DEMO-2026-014/);
  assert.deepEqual(errors, []);
  await context.close();
});
