// `?src=URL` opens a package from the portal's origin: the portal asks for
// an identity first, then opens the package it was waiting for.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, newPage, waitForPortal } from './lib/browser.mjs';
import { demoCommunity, importIdentity, waitForOutcome } from './lib/demo.mjs';
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

test('src parameter opens after unlock', async () => {
  const { context, page } = await newPage(browser);
  await page.goto(`${portal.url}?src=demo/packages/apt1-stix.tdf`);
  await waitForPortal(page);
  assert.equal(await waitForOutcome(page), 'identity', 'the portal asks for an identity first');
  assert.match(await page.locator('#screen-identity').innerText(), /Unlock an identity to open apt1-stix\.tdf/);

  await importIdentity(page, dir, 'bob');
  await page.waitForFunction(() => document.body.dataset.screen !== 'identity');
  assert.equal(await waitForOutcome(page), 'document');
  assert.match(await page.locator('.tlp-banner').first().innerText(), /TLP:GREEN/);
  await context.close();
});

test('src outside http is refused', async () => {
  const { context, page } = await newPage(browser);
  await page.goto(`${portal.url}?src=${encodeURIComponent('file:///etc/passwd')}`);
  await waitForPortal(page);
  assert.equal(await waitForOutcome(page), 'refused');
  assert.match(await page.locator('#screen-refused').innerText(), /Only http and https addresses can be opened/);
  await context.close();
});
