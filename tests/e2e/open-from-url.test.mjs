// `?src=URL` opens a package from the portal's origin: the portal asks for
// an identity first, then opens the package it was waiting for.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { importIdentity, waitForOutcome } from './lib/demo.mjs';
import { usePortal } from './lib/portal-session.mjs';

const { dir, openPortal } = usePortal();

test('src parameter opens after unlock', async () => {
  const { context, page } = await openPortal('?src=demo/packages/apt1-stix.tdf');
  assert.equal(await waitForOutcome(page), 'identity', 'the portal asks for an identity first');
  assert.match(await page.locator('#screen-identity').innerText(), /Unlock an identity to open apt1-stix\.tdf/);

  await importIdentity(page, dir, 'bob');
  await page.waitForFunction(() => document.body.dataset.screen !== 'identity');
  assert.equal(await waitForOutcome(page), 'document');
  assert.match(await page.locator('.tlp-banner').first().innerText(), /TLP:GREEN/);
  await context.close();
});

test('src outside http is refused', async () => {
  const { context, page } = await openPortal(`?src=${encodeURIComponent('file:///etc/passwd')}`);
  assert.equal(await waitForOutcome(page), 'refused');
  assert.match(await page.locator('#screen-refused').innerText(), /Only http and https addresses can be opened/);
  await context.close();
});

test('src on another origin names the cause', async () => {
  // Port 1 of this machine: another origin, which the portal's connect-src
  // blocks before any request leaves the browser.
  const { context, page } = await openPortal(`?src=${encodeURIComponent('http://127.0.0.1:1/report.tdf')}`);
  assert.equal(await waitForOutcome(page), 'refused');
  const text = await page.locator('#screen-refused').innerText();
  assert.match(text, /could not be downloaded/);
  assert.match(text, /another origin \(http:\/\/127\.0\.0\.1:1\)/);
  await context.close();
});

test('src not found is not a refusal', async () => {
  const { context, page } = await openPortal('?src=demo/packages/missing.tdf');
  assert.equal(await waitForOutcome(page), 'refused');
  assert.match(await page.locator('#screen-refused .next-step').innerText(), /^Next step: Check the address/);
  const entry = page.locator('#activity-list li').first();
  assert.equal(await entry.getAttribute('data-type'), 'not_downloaded');
  const text = await entry.innerText();
  assert.match(text, /Package not downloaded: demo\/packages\/missing\.tdf/);
  assert.match(text, /HTTP 404/);
  assert.doesNotMatch(text, /Access refused/);
  await context.close();
});
