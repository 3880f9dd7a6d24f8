// The example intranet page as `npm start` serves it. The demo portal's
// server serves the page too, and the demo's config.json allows the
// portal's own origin to frame frame.html. So the page's iframe loads the
// viewer, not the browser's error page.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { freePort } from '../../../scripts/lib/collector.mjs';
import { buildDemo, cliPath, serveDemoPortal } from '../../../scripts/lib/demo.mjs';
import { launchBrowser, newPage } from '../lib/browser.mjs';

let folder;
let portal;
let browser;

before(async () => {
  folder = mkdtempSync(join(tmpdir(), 'valise-demo-example-'));
  const port = await freePort();
  buildDemo(folder, { cli: cliPath('debug'), portalOrigin: `http://127.0.0.1:${port}` });
  portal = await serveDemoPortal(folder, { port });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await portal?.close();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

test('demo config allows only the portal origin', () => {
  const config = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8'));
  assert.deepEqual(config.embed.allowedOrigins, [new URL(portal.url).origin]);
  const shipped = JSON.parse(readFileSync(new URL('../../../www/config.json', import.meta.url), 'utf8'));
  assert.deepEqual(shipped.embed.allowedOrigins, [], 'the portal\'s own config.json allows no framing origin');
});

test('demo example page frames the viewer', async () => {
  const { page, cspViolations } = await newPage(browser);
  const exampleUrl = new URL('examples/intranet.html', portal.url);
  exampleUrl.searchParams.set('portal', portal.url);
  exampleUrl.searchParams.set('package', '../demo/packages/advisory.tdf');
  const frameResponse = page.waitForResponse((response) => response.url() === new URL('frame.html', portal.url).href);
  await page.goto(exampleUrl.href);

  const headers = (await frameResponse).headers();
  assert.match(headers['content-security-policy'], new RegExp(`frame-ancestors 'self' ${new URL(portal.url).origin}$`));
  // The frame posts valise:ready to its parent once its script runs, which
  // an error page never does.
  await page.waitForFunction(() => document.getElementById('frame').dataset.ready === 'true', null, { timeout: 30_000 });
  const frame = await (await page.locator('#frame').elementHandle()).contentFrame();
  assert.equal(new URL(frame.url()).pathname, '/frame.html');
  assert.ok(await frame.locator('body').isVisible(), 'the frame shows its page');
  assert.deepEqual(cspViolations, []);
});
