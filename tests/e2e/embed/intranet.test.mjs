// The example intranet page, on its own origin, embeds the viewer both ways:
// the <valise-viewer> element opens a package in the page, and the portal's
// frame opens bytes the page sends it. The frame ignores a message from an
// origin its configuration does not allow, and no message the page receives
// contains the document's text or bytes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DOCUMENTS } from '../../../scripts/lib/demo.mjs';
import { launchBrowser, newPage, waitForPortal } from '../lib/browser.mjs';
import { demoCommunity, importIdentity } from '../lib/demo.mjs';
import { startEmbedServers } from './support.mjs';

let servers;
let browser;
let demo;

before(async () => {
  demo = demoCommunity();
  servers = await startEmbedServers(demo.dir);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await servers?.close();
});

/** Fills an unlock form (of the element or of the frame) for alice. */
async function unlock(scope) {
  await scope.locator('form.valise-unlock input[name="key"]').setInputFiles(join(demo.dir, 'identities', 'alice.key.pem'));
  await scope.locator('form.valise-unlock input[name="credential"]').setInputFiles(join(demo.dir, 'identities', 'alice.credential.jws'));
  await scope.locator('form.valise-unlock input[name="passphrase"]').fill(demo.manifest.passphrase);
  await scope.locator('form.valise-unlock button[type="submit"]').click();
}

test('intranet page embeds the element and the frame; the host never sees plaintext', async () => {
  const { context, page, cspViolations } = await newPage(browser);
  // Record every message any window of the intranet's origin receives, with
  // binary data written out as hex.
  await context.addInitScript((origin) => {
    if (location.origin !== origin) return;
    globalThis.recordedMessages = [];
    window.addEventListener('message', (event) => {
      const hex = (bytes) => Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
      const text = JSON.stringify(event.data, (key, value) => {
        if (value instanceof ArrayBuffer) return { hex: hex(new Uint8Array(value)) };
        if (ArrayBuffer.isView(value)) return { hex: hex(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)) };
        return value;
      });
      globalThis.recordedMessages.push({ origin: event.origin, text });
    }, true);
  }, servers.intranet.origin);

  // Alice is remembered on the portal, so the frame asks only for her passphrase.
  const portalPage = await context.newPage();
  await portalPage.goto(servers.portal.url);
  await waitForPortal(portalPage);
  await importIdentity(portalPage, demo.dir, 'alice', { remember: true });
  await portalPage.locator('#identity-name').waitFor();
  await portalPage.close();

  const exampleUrl = new URL('examples/intranet.html', servers.intranet.url);
  exampleUrl.searchParams.set('identity', 'alpha-cert/alice');
  exampleUrl.searchParams.set('portal', servers.portal.url);
  exampleUrl.searchParams.set('package', '/demo/packages/advisory.tdf');
  const frameResponse = page.waitForResponse((response) => response.url() === new URL('frame.html', servers.portal.url).href);
  await page.goto(exampleUrl.href);
  const frameHeaders = (await frameResponse).headers();
  assert.match(frameHeaders['content-security-policy'], new RegExp(`frame-ancestors 'self' ${servers.intranet.origin}$`));

  // The element, in the intranet's own origin.
  const viewer = page.locator('valise-viewer');
  await unlock(viewer);
  await page.waitForFunction(() => document.getElementById('viewer').dataset.outcome, null, { timeout: 30_000 });
  assert.equal(await viewer.getAttribute('data-outcome'), 'valise-open');
  const elementFrame = await (await viewer.locator('iframe.valise-frame').elementHandle()).contentFrame();
  assert.match(await elementFrame.locator('h1').textContent(), /^Advisory DEMO-2026-014/);
  assert.equal(await viewer.locator('.tlp-banner').first().textContent(), 'TLP:AMBER');

  // The frame, on the portal's origin: the page sends the package bytes.
  await page.waitForFunction(() => document.getElementById('frame').dataset.ready === 'true', null, { timeout: 30_000 });
  await page.locator('#frame-file').setInputFiles(join(demo.dir, 'packages', 'advisory.tdf'));
  const valiseFrame = page.frameLocator('#frame');
  await valiseFrame.locator('.valise-unlock-remembered', { hasText: 'Unlock Alice Adler' }).waitFor({ timeout: 30_000 });
  assert.equal(await valiseFrame.locator('form.valise-unlock input[name="key"]').count(), 0, 'no key file is asked for');
  await valiseFrame.locator('form.valise-unlock input[name="passphrase"]').fill(demo.manifest.passphrase);
  await valiseFrame.locator('form.valise-unlock button[type="submit"]').click();
  await page.locator('#frame-outcome', { hasText: 'Opened (TLP:AMBER).' }).waitFor({ timeout: 30_000 });
  const rendered = valiseFrame.frameLocator('#document-content iframe.valise-frame');
  assert.match(await rendered.locator('h1').textContent(), /^Advisory DEMO-2026-014/);
  assert.equal(await page.evaluate(() => document.getElementById('frame').contentDocument), null, 'the page cannot reach into the frame');

  // A malformed request from the allowed page gets an error, not a result.
  await page.evaluate(() => {
    document.getElementById('frame').contentWindow.postMessage({ type: 'valise:open', requestId: 'malformed', bytes: 'not a buffer' }, '*');
  });
  await page.waitForFunction(() => globalThis.recordedMessages.some((message) => message.text.includes('"requestId":"malformed"')), null, { timeout: 10_000 });
  const malformedReply = JSON.parse((await page.evaluate(() => globalThis.recordedMessages)).find((message) => message.text.includes('"requestId":"malformed"')).text);
  assert.equal(malformedReply.type, 'valise:error');
  assert.match(malformedReply.error.message, /bytes must be an ArrayBuffer/);

  // A window of another origin sends the frame a valid open request.
  await page.evaluate((url) => {
    const other = document.createElement('iframe');
    other.src = url;
    other.id = 'other';
    document.body.append(other);
    return new Promise((resolve) => other.addEventListener('load', resolve));
  }, servers.other.url);
  const otherFrame = page.frames().find((frame) => frame.url().startsWith(servers.other.url));
  const packageBytes = [...readFileSync(join(demo.dir, 'packages', 'advisory.tdf'))];
  await otherFrame.evaluate((bytes) => {
    for (let index = 0; index < parent.frames.length; index += 1) {
      const buffer = new Uint8Array(bytes).buffer;
      parent.frames[index].postMessage({ type: 'valise:open', requestId: 'from-another-origin', bytes: buffer, name: 'x.tdf' }, '*', [buffer]);
    }
  }, packageBytes);
  const refused = valiseFrame.locator('#activity-list li[data-type="message_refused"]');
  await refused.first().waitFor({ timeout: 10_000 });
  assert.match(await refused.first().textContent(), new RegExp(servers.other.origin.replaceAll('.', '\\.')));

  // What the intranet's windows received: the frame's replies, never text or
  // bytes of the document.
  const messages = await page.evaluate(() => globalThis.recordedMessages);
  const fromPortal = messages.filter((message) => message.origin === servers.portal.origin);
  assert.ok(fromPortal.some((message) => message.text.includes('"verdict":"permit"')), JSON.stringify(fromPortal));
  assert.ok(!messages.some((message) => message.text.includes('from-another-origin')), 'the frame did not answer the other origin');
  const plaintext = readFileSync(join(DOCUMENTS, 'advisory.md'));
  const lines = plaintext.toString('utf8').split('\n').filter((line) => line.trim().length > 12);
  const plaintextHex = plaintext.subarray(0, 48).toString('hex');
  for (const message of messages) {
    assert.ok(!message.text.includes(plaintextHex), `a message carries the document's bytes: ${message.text.slice(0, 200)}`);
    for (const line of lines) {
      assert.ok(!message.text.includes(line.trim()), `a message carries the document's text: ${line}`);
    }
  }
  assert.deepEqual(cspViolations, []);
  await context.close();
});
