// Launches Debian's Chromium through playwright-core. The tests never
// download a browser: a missing /usr/bin/chromium is an error that names the
// package to install (`npm test` installs it).
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { CHROMIUM_PATH } from '../../../scripts/lib/setup.mjs';

/** Flags that keep Chromium from reaching any host but 127.0.0.1. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

/** Launches headless Chromium. */
export async function launchBrowser() {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} is missing: install Debian's chromium package (npm test does this)`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

/**
 * Opens a page in a new context and records what the page logs: `errors`
 * (uncaught exceptions and console errors) and `cspViolations` (blocked
 * loads reported by Chromium). Returns `{ context, page, errors, cspViolations }`.
 */
export async function newPage(browser, options = {}) {
  const context = await browser.newContext({ acceptDownloads: false, ...options });
  const page = await context.newPage();
  const errors = [];
  const cspViolations = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() !== 'error') {
      return;
    }
    const text = message.text();
    if (text.includes('Content Security Policy') || text.includes('Content-Security-Policy')) {
      cspViolations.push(text);
    } else {
      errors.push(text);
    }
  });
  return { context, page, errors, cspViolations };
}

/** Waits until the portal has loaded the module (or shown its error panel). */
export async function waitForPortal(page) {
  await page.waitForFunction(
    () => document.body.dataset.state === 'ready' || !document.getElementById('fatal').hidden,
    null,
    { timeout: 30_000 },
  );
}
