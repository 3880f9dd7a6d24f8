// The embedded viewer queues and delivers access events as the portal does,
// both ways: the <valise-viewer> element in a host page on its own
// 127.0.0.1 port, and the portal's frame.html in an iframe of the example
// intranet page. A package whose rights require events opens once its
// `opened` event is queued, and the enforcement events of the document
// reach the collector too. Without the reader's signing key the element
// does not open such a package.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { freePort, startCollector } from '../../../scripts/lib/collector.mjs';
import { buildDemo, cliPath, demoFiles, demoMounts } from '../../../scripts/lib/demo.mjs';
import { contentSecurityPolicy, serveStatic } from '../../../scripts/lib/serve.mjs';
import { launchBrowser, newPage } from '../lib/browser.mjs';
import { WWW } from '../lib/server.mjs';
import { storedEvents } from '../events/support.mjs';

/** The host page's policy; the server adds the collector's origin to connect-src. */
const HOST_POLICY = [
  "default-src 'none'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "frame-src 'self' http://127.0.0.1:*",
  "object-src 'none'",
  "base-uri 'none'",
].join('; ');

const HOST_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Member intranet</title>
<link rel="stylesheet" href="/style.css">
<script type="module" src="/host/host.js"></script></head>
<body><valise-viewer id="viewer" config="/config.json" src="/demo/packages/misp-event.tdf"></valise-viewer></body></html>
`;

/** Records the element's outcome event in its data-outcome attribute, and the message of an error. */
const HOST_MODULE = `import '/src/embed/define.js';
const viewer = document.getElementById('viewer');
for (const type of ['valise-open', 'valise-denied', 'valise-error']) {
  viewer.addEventListener(type, (event) => {
    viewer.dataset.message = event.detail.message ?? '';
    viewer.dataset.outcome = type;
  });
}
`;

let demo;
let host;
let portal;
let collector;
let browser;
let folder;

before(async () => {
  folder = mkdtempSync(join(tmpdir(), 'valise-element-events-'));
  const dir = join(folder, 'demo');
  writeFileSync(join(folder, 'host.html'), HOST_PAGE);
  writeFileSync(join(folder, 'host.js'), HOST_MODULE);
  const cli = cliPath('debug');
  const port = await freePort();
  const manifest = buildDemo(dir, { cli, eventsUrl: `http://127.0.0.1:${port}/events` });
  const collectorOrigin = `http://127.0.0.1:${port}`;
  host = await serveStatic({
    mounts: { '/': WWW, ...demoMounts(dir) },
    files: { ...demoFiles(dir), '/host/host.html': join(folder, 'host.html'), '/host/host.js': join(folder, 'host.js') },
    csp: HOST_POLICY,
    connectSources: [collectorOrigin],
  });
  // The portal allows the host page to frame it.
  const portalConfig = join(folder, 'portal-config.json');
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  config.embed = { allowedOrigins: [new URL(host.url).origin] };
  writeFileSync(portalConfig, `${JSON.stringify(config, null, 2)}\n`);
  portal = await serveStatic({
    mounts: { '/': WWW, ...demoMounts(dir) },
    files: { ...demoFiles(dir), '/config.json': portalConfig },
    csp: contentSecurityPolicy(join(WWW, 'index.html')),
    frameAncestors: [new URL(host.url).origin],
    connectSources: [collectorOrigin],
  });
  collector = await startCollector({
    cli,
    trust: join(dir, 'community', 'trust.json'),
    rootFingerprint: manifest.rootFingerprint,
    db: join(dir, 'events.db'),
    port,
    allowOrigins: [new URL(host.url).origin, new URL(portal.url).origin],
    home: join(dir, 'collector-home'),
  });
  demo = { dir, manifest, db: join(dir, 'events.db') };
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await collector?.close();
  await portal?.close();
  await host?.close();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

/** Fills an unlock form (of the element or of the frame) for alice, with her signing key file when `signKey` is true. */
async function unlock(viewer, { signKey }) {
  const identities = join(demo.dir, 'identities');
  await viewer.locator('form.valise-unlock input[name="key"]').setInputFiles(join(identities, 'alice.key.pem'));
  await viewer.locator('form.valise-unlock input[name="credential"]').setInputFiles(join(identities, 'alice.credential.jws'));
  if (signKey) {
    await viewer.locator('form.valise-unlock input[name="sign-key"]').setInputFiles(join(identities, 'alice.sign.key.pem'));
  }
  await viewer.locator('form.valise-unlock input[name="passphrase"]').fill(demo.manifest.passphrase);
  await viewer.locator('form.valise-unlock button[type="submit"]').click();
}

/**
 * Waits until the collector stored an event of each kind, not counting the
 * events whose ids are in `ignored`; returns the events counted.
 */
async function waitForStored(kinds, { ignored = new Set(), timeout = 30_000 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const stored = storedEvents(demo.db).filter((event) => !ignored.has(event.id));
    if (kinds.every((kind) => stored.some((event) => event.kind === kind))) {
      return stored;
    }
    if (Date.now() > deadline) {
      assert.fail(`the collector stored ${stored.map((event) => event.kind).join(', ') || 'nothing'}, not ${kinds.join(', ')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

test('element without signing key refuses', async () => {
  const { context, page } = await newPage(browser);
  await page.goto(new URL('host/host.html', host.url).href);
  const viewer = page.locator('valise-viewer');
  await unlock(viewer, { signKey: false });
  await page.waitForFunction(() => document.getElementById('viewer').dataset.outcome, null, { timeout: 30_000 });
  assert.equal(await viewer.getAttribute('data-outcome'), 'valise-error');
  assert.match(await viewer.getAttribute('data-message'), /without its signing key/);
  assert.equal(await viewer.locator('.valise-viewer-content').count(), 0, 'nothing of the document is shown');
  assert.deepEqual(storedEvents(demo.db), []);
  await context.close();
});

test('element delivers opened and enforcement events', async () => {
  const { context, page, cspViolations } = await newPage(browser);
  await page.addInitScript(() => {
    window.__printCalls = 0;
    window.print = function print() {
      window.__printCalls += 1;
    };
  });
  await page.goto(new URL('host/host.html', host.url).href);
  const viewer = page.locator('valise-viewer');
  await unlock(viewer, { signKey: true });
  await page.waitForFunction(() => document.getElementById('viewer').dataset.outcome, null, { timeout: 30_000 });
  assert.equal(await viewer.getAttribute('data-outcome'), 'valise-open', await viewer.getAttribute('data-message'));
  await viewer.locator('.valise-viewer-content .valise-render').waitFor();

  // TLP:RED refuses print, so the attempt is blocked and reported.
  await page.keyboard.press('Control+p');
  assert.equal(await page.evaluate(() => window.__printCalls), 0, 'no print dialog opened');
  // The watermark guard restores a removed overlay and reports it.
  await page.evaluate(() => document.querySelector('valise-viewer .valise-watermark').remove());

  const stored = await waitForStored(['opened', 'print_blocked', 'watermark_removed']);
  for (const event of stored) {
    assert.equal(event.readerPerson, 'alice');
  }
  assert.equal(new Set(stored.map((event) => event.subject)).size, 1, 'every event names the one package');
  assert.equal(stored.find((event) => event.kind === 'opened').chain, 'first');
  assert.deepEqual(cspViolations, []);
  await context.close();
});

test('frame delivers opened and enforcement events', async () => {
  const { context, page, cspViolations } = await newPage(browser);
  const exampleUrl = new URL('examples/intranet.html', host.url);
  exampleUrl.searchParams.set('portal', portal.url);
  await page.goto(exampleUrl.href);
  await page.waitForFunction(() => document.getElementById('frame').dataset.ready === 'true', null, { timeout: 30_000 });
  const storedBefore = new Set(storedEvents(demo.db).map((event) => event.id));

  await page.locator('#frame-file').setInputFiles(join(demo.dir, 'packages', 'misp-event.tdf'));
  const valiseFrame = page.frameLocator('#frame');
  await unlock(valiseFrame, { signKey: true });
  await page.locator('#frame-outcome', { hasText: 'Opened (TLP:RED).' }).waitFor({ timeout: 30_000 });
  const frame = page.frames().find((candidate) => candidate.url().startsWith(new URL('frame.html', portal.url).href));
  await frame.evaluate(() => document.querySelector('#document-content > .valise-watermark').remove());

  const stored = await waitForStored(['opened', 'watermark_removed'], { ignored: storedBefore });
  for (const event of stored) {
    assert.equal(event.readerPerson, 'alice');
  }
  assert.equal(await valiseFrame.locator('#activity-list li[data-type="opened"]').getAttribute('data-delivery'), 'queued');
  assert.deepEqual(cspViolations, []);
  await context.close();
});
