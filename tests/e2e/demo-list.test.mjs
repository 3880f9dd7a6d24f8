// A portal that serves a demo community lists its packages on the open
// screen, each with its label and a `?src=` link that opens it. A portal
// without one, such as a member's own deployment, lists nothing.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, newPage, waitForPortal } from './lib/browser.mjs';
import { demoCommunity, importIdentity, waitForOutcome } from './lib/demo.mjs';
import { startPortal } from './lib/server.mjs';

const { dir, manifest } = demoCommunity();
let demoPortal;
let plainPortal;
let browser;

before(async () => {
  demoPortal = await startPortal({ demoDir: dir });
  plainPortal = await startPortal();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await demoPortal?.close();
  await plainPortal?.close();
});

test('open screen lists demo packages', async () => {
  const { context, page } = await newPage(browser);
  await page.goto(demoPortal.url);
  await waitForPortal(page);
  const list = page.locator('#demo-packages');
  await list.waitFor();

  const entries = list.locator('li[data-package]');
  assert.equal(await entries.count(), manifest.packages.length, 'every demo package is listed');
  for (const pkg of manifest.packages) {
    const entry = list.locator(`li[data-package="${pkg.file}"]`);
    assert.equal(await entry.locator('a').getAttribute('href'), `?src=${encodeURIComponent(`demo/${pkg.path}`)}`);
    assert.ok((await entry.innerText()).includes(pkg.label), `${pkg.file} shows its label ${pkg.label}`);
  }
  await context.close();
});

test('demo link opens package in page', async () => {
  const { context, page } = await newPage(browser);
  await page.goto(demoPortal.url);
  await waitForPortal(page);
  await importIdentity(page, dir, 'alice');
  await page.locator('#lock-identity').waitFor();

  await page.locator('#demo-packages li[data-package="apt1-stix.tdf"] a').click();
  assert.equal(await waitForOutcome(page), 'document');
  assert.match(await page.locator('#document-heading').innerText(), /stix-apt1\.json/);
  assert.match(await page.locator('.tlp-banner').first().innerText(), /TLP:GREEN/);
  assert.match(await page.locator('#identity-name').innerText(), /Alice/, 'the identity stays unlocked');
  await context.close();
});

test('demo link works as plain src URL', async () => {
  const { context, page } = await newPage(browser);
  await page.goto(demoPortal.url);
  await waitForPortal(page);
  const href = await page.locator('#demo-packages li[data-package="advisory.tdf"] a').getAttribute('href');
  await page.goto(new URL(href, demoPortal.url).href);
  await waitForPortal(page);
  assert.equal(await waitForOutcome(page), 'identity', 'the portal asks for an identity, then opens the package');
  assert.match(await page.locator('#screen-identity').innerText(), /Unlock an identity to open advisory\.tdf/);
  await context.close();
});

test('portal without demo lists nothing', async () => {
  const { context, page } = await newPage(browser);
  const requested = page.waitForResponse((response) => response.url().endsWith('/demo/index.json'));
  await page.goto(plainPortal.url);
  await waitForPortal(page);
  assert.equal((await requested).status(), 404, 'the portal looked for the index');
  assert.equal(await page.locator('#demo-packages').isHidden(), true);
  assert.equal(await page.locator('#demo-packages li').count(), 0);
  await context.close();
});
