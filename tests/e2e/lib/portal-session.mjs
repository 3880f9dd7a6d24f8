// The set-up most portal scenarios share: one portal server and one Chromium
// for the whole test file, and a fresh browser context per test that has
// loaded the portal.
import { after, before } from 'node:test';
import { launchBrowser, newPage, waitForPortal } from './browser.mjs';
import { demoCommunity } from './demo.mjs';
import { startPortal } from './server.mjs';

/**
 * Registers `before` and `after` hooks that start the portal (serving the
 * demo community in `demoDir`, by default the shared one) and Chromium, and
 * stop both. Call it once at the top level of a test file.
 *
 * Returns `{ dir, openPortal(path) }`. `openPortal` opens the portal URL
 * followed by `path` (for example `?src=...`) in a new context, waits until
 * the portal is ready, and resolves to what `newPage` returns.
 * Close the context at the end of the test.
 */
export function usePortal({ demoDir = null } = {}) {
  const dir = demoDir ?? demoCommunity().dir;
  let portal = null;
  let browser = null;

  before(async () => {
    portal = await startPortal({ demoDir: dir });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await portal?.close();
  });

  async function openPortal(path = '') {
    const session = await newPage(browser);
    await session.page.goto(`${portal.url}${path}`);
    await waitForPortal(session.page);
    return session;
  }

  return { dir, openPortal };
}
