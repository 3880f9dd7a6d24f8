// The npm package installs into a fresh folder from its tarball, with no
// registry, and its custom element opens a demo package in Chromium, served
// as plain files from that folder.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { demoFiles } from '../../../scripts/lib/demo.mjs';
import { serveStatic } from '../../../scripts/lib/serve.mjs';
import { ROOT } from '../../../scripts/lib/setup.mjs';
import { launchBrowser, newPage } from '../lib/browser.mjs';
import { demoCommunity } from '../lib/demo.mjs';

const PACKAGE_DIR = join(ROOT, 'packages', 'valise-viewer');
const SITE_POLICY = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; worker-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'";

let folder;
let site;
let browser;
let demo;

function sh(cmd, args, cwd) {
  const result = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_registry: 'http://127.0.0.1:9/' } });
  if (result.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (status ${result.status}):\n${result.stderr}`);
  }
  return result.stdout;
}

before(async () => {
  demo = demoCommunity();
  folder = mkdtempSync(join(tmpdir(), 'valise-npm-'));
  sh('node', [join(PACKAGE_DIR, 'assemble.mjs')], ROOT);
  const packed = join(folder, 'packed');
  mkdirSync(packed);
  sh('npm', ['pack', '--silent', '--pack-destination', packed], PACKAGE_DIR);
  const tarball = join(packed, readdirSync(packed).find((name) => name.endsWith('.tgz')));

  // A fresh site: the package installed from the tarball, with the registry
  // pointed at a closed port so any registry access fails the test.
  const siteDir = join(folder, 'site');
  mkdirSync(siteDir);
  writeFileSync(join(siteDir, 'package.json'), '{ "name": "intranet-site", "private": true }\n');
  sh('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], siteDir);
  copyFileSync(demoFiles(demo.dir)['/config.json'], join(siteDir, 'config.json'));
  copyFileSync(demoFiles(demo.dir)['/trust-list.jws'], join(siteDir, 'trust-list.jws'));
  copyFileSync(join(demo.dir, 'packages', 'apt1-stix.tdf'), join(siteDir, 'report.tdf'));
  copyFileSync(join(demo.dir, 'packages', 'misp-event.tdf'), join(siteDir, 'not-for-carol.tdf'));
  writeFileSync(
    join(siteDir, 'index.html'),
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Site</title><link rel="icon" href="data:,">\n' +
      '<script type="module" src="main.js"></script></head>\n' +
      '<body><valise-viewer id="viewer" src="report.tdf" config="config.json"></valise-viewer></body></html>\n',
  );
  writeFileSync(
    join(siteDir, 'main.js'),
    "import { ValiseViewerElement } from './node_modules/@valise/viewer/index.js';\n" +
      "document.addEventListener('valise-open', (event) => { document.body.dataset.outcome = 'open'; document.body.dataset.label = event.detail.label?.tlp ?? ''; });\n" +
      "document.addEventListener('valise-denied', (event) => { document.body.dataset.outcome = 'denied'; document.body.dataset.reasons = event.detail.reasons.map((reason) => reason.code).join(','); });\n" +
      "document.addEventListener('valise-error', (event) => { document.body.dataset.outcome = `error: ${event.detail.message}`; });\n" +
      "document.body.dataset.defined = String(customElements.get('valise-viewer') === ValiseViewerElement);\n",
  );
  site = await serveStatic({ mounts: { '/': siteDir }, csp: SITE_POLICY });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await site?.close();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

test('the npm package installed in a fresh folder opens a package', async () => {
  const { context, page, errors, cspViolations } = await newPage(browser);
  await page.goto(site.url);
  const viewer = page.locator('valise-viewer');
  await viewer.locator('form.valise-unlock input[name="key"]').setInputFiles(join(demo.dir, 'identities', 'carol.key.pem'));
  await viewer.locator('form.valise-unlock input[name="credential"]').setInputFiles(join(demo.dir, 'identities', 'carol.credential.jws'));
  await viewer.locator('form.valise-unlock input[name="passphrase"]').fill(demo.manifest.passphrase);
  await viewer.locator('form.valise-unlock button[type="submit"]').click();
  await page.waitForFunction(() => document.body.dataset.outcome, null, { timeout: 30_000 });
  assert.equal(await page.evaluate(() => document.body.dataset.outcome), 'open');
  assert.equal(await page.evaluate(() => document.body.dataset.defined), 'true');
  assert.equal(await page.evaluate(() => document.body.dataset.label), 'GREEN');
  // The STIX bundle is drawn as a report by the package's own renderer.
  await viewer.locator('.valise-stix-object').first().waitFor({ timeout: 10_000 });
  assert.match(await viewer.innerText(), /APT1/);

  // A package sealed for alice only: the element reports the refusal with its reason.
  await page.evaluate(() => {
    delete document.body.dataset.outcome;
    document.getElementById('viewer').setAttribute('src', 'not-for-carol.tdf');
  });
  await page.waitForFunction(() => document.body.dataset.outcome, null, { timeout: 30_000 });
  assert.equal(await page.evaluate(() => document.body.dataset.outcome), 'denied');
  assert.equal(await page.evaluate(() => document.body.dataset.reasons), 'not_recipient');
  assert.equal(await viewer.locator('.valise-refused [data-code="not_recipient"]').count(), 1);
  assert.deepEqual(cspViolations, []);
  assert.deepEqual(errors, []);
  await context.close();
});
