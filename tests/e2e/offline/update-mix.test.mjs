// A new build deployed while a tab is open: the tab keeps running the build
// it loaded with, every module it loads later included, and only a reload
// moves it to the new build.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { contentSecurityPolicy, serveStatic } from '../../../scripts/lib/serve.mjs';
import { demoFiles, demoMounts } from '../../../scripts/lib/demo.mjs';
import { launchBrowser, newPage, waitForPortal } from '../lib/browser.mjs';
import { demoCommunity, importIdentity, openPackageFile, waitForOutcome } from '../lib/demo.mjs';
import { WWW } from '../lib/server.mjs';
import { tempDir, writeTaggedBuild } from './support.mjs';

let portal;
let browser;
let demo;
let www;

before(async () => {
  demo = demoCommunity();
  www = tempDir('valise-www-');
  portal = await serveStatic({
    mounts: { '/': www, ...demoMounts(demo.dir) },
    files: demoFiles(demo.dir),
    csp: contentSecurityPolicy(join(WWW, 'index.html')),
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await portal?.close();
  rmSync(www, { recursive: true, force: true });
});

/** Returns the tags of the modules the page ran, and the build id it reports. */
async function pageBuild(page) {
  // The portal is ready before the service worker has replied which build
  // served the page, so wait for that reply too.
  await page.waitForFunction(() => document.documentElement.dataset.buildId !== undefined, null, { timeout: 30_000 });
  return page.evaluate(() => ({
    buildId: document.documentElement.dataset.buildId,
    tags: [...new Set((globalThis.valiseModules ?? []).map(([, tag]) => tag))],
    modules: (globalThis.valiseModules ?? []).length,
  }));
}

test('an open tab never mixes files of two builds', async () => {
  const buildA = writeTaggedBuild(www, 'A');
  const { context, page } = await newPage(browser);
  await page.goto(portal.url);
  await waitForPortal(page);
  await page.waitForFunction(() => document.documentElement.dataset.offlineReady === 'true', null, { timeout: 30_000 });
  // The first visit came from the network; from the reload on, the service
  // worker serves the page from its build.
  await page.reload();
  await waitForPortal(page);
  const before = await pageBuild(page);
  assert.equal(before.buildId, buildA);
  assert.deepEqual(before.tags, ['A']);

  // Deploy build B under the running server and let the worker install it.
  const buildB = writeTaggedBuild(www, 'B');
  assert.notEqual(buildB, buildA);
  const installed = await page.evaluate(() => import('/src/offline.js').then((module) => module.checkForUpdate()));
  assert.equal(installed.build, buildB);

  // The open tab now loads modules it had not needed yet (the Markdown
  // renderer and the enforcement): all of build A.
  await importIdentity(page, demo.dir, 'alice');
  await page.locator('#lock-identity').waitFor();
  await openPackageFile(page, join(demo.dir, 'packages', 'advisory.tdf'));
  assert.equal(await waitForOutcome(page), 'document');
  const during = await pageBuild(page);
  assert.ok(during.modules > before.modules, `lazy modules loaded (${before.modules} then ${during.modules})`);
  assert.equal(during.buildId, buildA);
  assert.deepEqual(during.tags, ['A']);

  // A reload moves the tab to build B, whole.
  await page.reload();
  await waitForPortal(page);
  const after = await pageBuild(page);
  assert.equal(after.buildId, buildB);
  assert.deepEqual(after.tags, ['B']);
  await context.close();
});
