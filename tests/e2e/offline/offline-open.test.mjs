// After one visit the portal opens a package from disk with no network,
// using the cached trust list; past the package's offline lease, counted
// from the last online fetch of the trust list, the package is refused with
// that reason.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, newPage, waitForPortal } from '../lib/browser.mjs';
import { demoCommunity, importIdentity, waitForOutcome } from '../lib/demo.mjs';
import { startPortal } from '../lib/server.mjs';
import { sealWithLease } from './support.mjs';

const LEASE_SECONDS = 3600;

let portal;
let browser;
let demo;
let leasePackage;

before(async () => {
  demo = demoCommunity();
  leasePackage = sealWithLease(demo.dir, LEASE_SECONDS);
  portal = await startPortal({ demoDir: demo.dir });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await portal?.close();
});

/** Unlocks alice and opens the lease package through the file chooser. */
async function openFromDisk(page) {
  await importIdentity(page, demo.dir, 'alice');
  await page.locator('#screen-open').waitFor({ state: 'visible' });
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.locator('#package-file').click()]);
  await chooser.setFiles(leasePackage);
  return waitForOutcome(page);
}

test('offline: open from disk within the lease, refused past it', async () => {
  const { context, page, cspViolations } = await newPage(browser);
  await page.goto(portal.url);
  await waitForPortal(page);
  await page.waitForFunction(() => document.documentElement.dataset.offlineReady === 'true', null, { timeout: 30_000 });

  await context.setOffline(true);
  await page.reload();
  await waitForPortal(page);
  assert.equal(await page.evaluate(() => document.body.dataset.trust ?? null), null, 'the cached trust list loads offline');
  assert.match(await page.evaluate(() => document.documentElement.dataset.buildId), /^[0-9a-f]{32}$/);
  const csp = await page.evaluate(async () => (await fetch('/index.html')).headers.get('Content-Security-Policy'));
  assert.match(csp ?? '', /frame-ancestors 'none'/, 'the cached page keeps the server headers');
  assert.equal(await openFromDisk(page), 'document');
  const frame = await (await page.locator('#document-content iframe.valise-frame').elementHandle()).contentFrame();
  assert.match(await frame.locator('h1').textContent(), /^Advisory DEMO-2026-014/);

  // The service worker cached no package and no plaintext.
  const cached = await page.evaluate(async () => {
    const urls = [];
    for (const name of await caches.keys()) {
      for (const request of await (await caches.open(name)).keys()) urls.push(request.url);
    }
    return urls;
  });
  assert.ok(cached.length > 10, `the build is cached (${cached.length} entries)`);
  assert.deepEqual(cached.filter((url) => /\.tdf|\/demo\//.test(url)), []);

  // Two hours later, still offline: the lease of one hour has ended.
  await page.clock.setSystemTime(new Date(Date.now() + 2 * 3600 * 1000));
  await page.reload();
  await waitForPortal(page);
  assert.equal(await openFromDisk(page), 'refused');
  const codes = await page.locator('#screen-refused [data-code]').evaluateAll((items) => items.map((item) => item.dataset.code));
  assert.deepEqual(codes, ['offline_lease_expired']);
  assert.match(await page.locator('#screen-refused').innerText(), /offline for 3600 seconds/);
  assert.deepEqual(cspViolations, []);
  await context.close();
});
