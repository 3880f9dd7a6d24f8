// Runs enforcement and hostile-content scenarios through the real portal:
// the demo community, a demo identity, and packages sealed with the valise
// CLI, opened through the portal's file picker.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_PASSPHRASE, cliPath } from '../../../scripts/lib/demo.mjs';
import { launchBrowser, newPage, waitForPortal } from '../lib/browser.mjs';
import { demoCommunity, importIdentity, openPackageFile, waitForOutcome } from '../lib/demo.mjs';
import { startPortal } from '../lib/server.mjs';

/**
 * Seals a document for one demo person with the demo originator's key.
 * `deny` lists the rights to withhold. Returns the package path.
 */
export function sealFor(dir, person, { document, mediaType, deny = [], watermark = false, label = 'TLP:GREEN', name }) {
  const credential = readFileSync(join(dir, 'identities', `${person}.credential.jws`), 'utf8').trim();
  const kid = JSON.parse(Buffer.from(credential.split('.')[1], 'base64url').toString('utf8')).keyAccessKey.kid;
  const outDir = join(dir, 'extra-packages');
  mkdirSync(outDir, { recursive: true });
  const output = join(outDir, `${name}.tdf`);
  const args = [
    'seal', document,
    '--sign-key', join(dir, 'community', 'alpha-cert.sign.key.pem'),
    '--org', 'alpha-cert',
    '--author', 'Alice Adler',
    '--community', 'https://demo-isac.invalid',
    '--label', label,
    '--media-type', mediaType,
    // A key id is base64url and may start with "-", so it is joined to its flag.
    `--to=${kid}=${join(dir, 'identities', `${person}.pub.pem`)}`,
    // The demo folder may be shared between runs: the package is rebuilt.
    '--force',
    '-o', output,
  ];
  if (deny.length > 0) args.push('--deny', deny.join(','));
  if (watermark) args.push('--watermark');
  const result = spawnSync(cliPath('debug'), args, { encoding: 'utf8', env: { ...process.env, VALISE_PASSPHRASE: DEMO_PASSPHRASE } });
  if (result.status !== 0) {
    throw new Error(`valise seal failed (status ${result.status}): ${result.stderr}`);
  }
  return output;
}

/**
 * Starts the portal with the demo community, imports a demo identity and
 * runs the scenario with `{ page, dir, open(path), observed }`. `open`
 * opens a package and resolves to the outcome ("document", "refused", ...).
 * `contextOptions` go to the browser context (e.g. `acceptDownloads`), and
 * each of `initScripts` runs in every page before the portal's code.
 */
export async function withPortal(person, scenario, { contextOptions = {}, initScripts = [] } = {}) {
  const { dir } = demoCommunity();
  const portal = await startPortal({ demoDir: dir });
  const browser = await launchBrowser();
  try {
    const { context, page, errors, cspViolations } = await newPage(browser, contextOptions);
    for (const script of initScripts) {
      await context.addInitScript(script);
    }
    const origin = new URL(portal.url).origin;
    const observed = { dialogs: [], foreignRequests: [], errors, cspViolations };
    page.on('dialog', async (dialog) => {
      observed.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
      await dialog.dismiss().catch(() => {});
    });
    context.on('request', (request) => {
      const url = request.url();
      if (!url.startsWith(`${origin}/`) && !/^(data|blob|about):/.test(url)) observed.foreignRequests.push(url);
    });
    // Counts print calls and print starts before any portal or document code runs.
    await context.addInitScript(() => {
      window.__printCalls = 0;
      window.__beforePrint = 0;
      window.print = function print() {
        window.__printCalls += 1;
      };
      addEventListener('beforeprint', () => {
        window.__beforePrint += 1;
      });
    });
    await page.goto(portal.url);
    await waitForPortal(page);
    await importIdentity(page, dir, person);
    await page.waitForFunction(() => document.body.dataset.screen === 'open', null, { timeout: 30_000 });
    const open = async (path) => {
      await openPackageFile(page, path);
      return waitForOutcome(page);
    };
    await scenario({ page, dir, open, observed });
  } finally {
    await browser.close();
    await portal.close();
  }
}
