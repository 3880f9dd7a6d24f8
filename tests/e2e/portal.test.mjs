// The portal loads the real WebAssembly module under its strict
// Content-Security-Policy, and a Rust panic shows the error panel with the
// panic message instead of a blank page.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, newPage, waitForPortal } from './lib/browser.mjs';
import { startPortal } from './lib/server.mjs';

let portal;
let browser;

before(async () => {
  portal = await startPortal();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await portal?.close();
});

test('portal loads the module under its CSP', async () => {
  const { context, page, errors, cspViolations } = await newPage(browser);
  const response = await page.goto(portal.url);
  const csp = response.headers()['content-security-policy'];
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'/);
  assert.match(csp, /object-src 'none'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|'unsafe-eval'/);

  await waitForPortal(page);
  assert.equal(await page.locator('#fatal').isHidden(), true, 'the error panel is hidden');
  assert.match(await page.evaluate(() => document.documentElement.dataset.coreVersion), /^\d+\.\d+\.\d+/);
  assert.deepEqual(cspViolations, []);
  // Without a demo community the portal has no trust list to load.
  assert.deepEqual(errors.filter((text) => !text.startsWith('Failed to load resource')), []);
  await context.close();
});

test('panic shows the error panel', async () => {
  const { context, page } = await newPage(browser);
  await page.goto(portal.url);
  await waitForPortal(page);
  const thrown = await page.evaluate(async () => {
    const core = await import('/src/core.js');
    try {
      core.debugPanic();
      return null;
    } catch (error) {
      return { name: error.name, details: error.details };
    }
  });
  assert.equal(thrown?.name, 'InternalError');
  assert.match(thrown.details, /debugPanic was called/);

  const panel = page.locator('#fatal');
  await panel.waitFor({ state: 'visible' });
  assert.match(await panel.innerText(), /Something went wrong/);
  assert.match(await panel.locator('.fatal-details').textContent(), /debugPanic was called/);
  await context.close();
});
