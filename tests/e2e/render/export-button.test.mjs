// The document screen's "Save decrypted file" button: offered for a
// displayed document when the rights grant export, never without the
// export right, and for a streamed PDF only once the whole plaintext is
// verified. Saving records the `exported` event and downloads the exact
// plaintext.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeLargePdf } from '../../../bench/lib/pdf.mjs';
import { withPortal, sealFor } from './portal-support.mjs';

const scratch = mkdtempSync(join(tmpdir(), 'valise-export-button-'));
const HTML = join(scratch, 'bulletin.html');
writeFileSync(HTML, '<!doctype html><html><head><title>Bulletin</title></head><body><h1>Public bulletin</h1><p>Patch the VPN gateways.</p></body></html>\n');

/** Returns the event types the portal's activity panel recorded. */
const activity = (page) => page.locator('#activity-list li').evaluateAll((nodes) => nodes.map((node) => node.dataset.type));

/** Clicks the save button and resolves to the downloaded file's name and bytes. */
async function saveDownload(page) {
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#save-decrypted').click()]);
  return { name: download.suggestedFilename(), bytes: readFileSync(await download.path()) };
}

test('save button downloads an HTML document', async () => {
  await withPortal(
    'alice',
    async ({ page, dir, open }) => {
      const sealed = sealFor(dir, 'alice', { document: HTML, mediaType: 'text/html', label: 'TLP:CLEAR', name: 'export-html' });
      assert.equal(await open(sealed), 'document');
      await page.locator('#document-content .valise-render').waitFor();
      assert.equal(await page.locator('#rights-list li[data-right="export"]').getAttribute('data-allowed'), 'true');
      assert.equal(await page.locator('#save-decrypted').textContent(), 'Save decrypted file');

      const saved = await saveDownload(page);
      assert.equal(saved.name, 'bulletin.html');
      assert.deepEqual(saved.bytes, readFileSync(HTML));
      await page.waitForFunction(() => document.querySelector('#activity-list li[data-type="exported"]') !== null);
      assert.deepEqual((await activity(page)).filter((type) => type === 'exported'), ['exported']);
    },
    { contextOptions: { acceptDownloads: true } },
  );
});

test('save button absent without export', async () => {
  await withPortal('alice', async ({ page, dir, open }) => {
    const denied = sealFor(dir, 'alice', { document: HTML, mediaType: 'text/html', label: 'TLP:CLEAR', deny: ['export'], name: 'export-denied' });
    assert.equal(await open(denied), 'document');
    await page.locator('#document-content .valise-render').waitFor();
    assert.equal(await page.locator('#rights-list li[data-right="export"]').getAttribute('data-allowed'), 'false');
    assert.equal(await page.locator('#save-decrypted').count(), 0);

    // TLP:GREEN caps export even when the package does not deny it.
    await page.locator('#screen-document button', { hasText: 'Close this document' }).click();
    const green = sealFor(dir, 'alice', { document: HTML, mediaType: 'text/html', label: 'TLP:GREEN', name: 'export-green' });
    assert.equal(await open(green), 'document');
    await page.locator('#document-content .valise-render').waitFor();
    assert.equal(await page.locator('#rights-list li[data-right="export"]').getAttribute('data-allowed'), 'false');
    assert.equal(await page.locator('#save-decrypted').count(), 0);
  });
});

/**
 * Installed before the portal loads: holds back the page's SHA-256 of the
 * whole plaintext (the one `crypto.subtle.digest` call over 8 MiB or more)
 * until `window.releaseDigest()`, so the stream's whole-plaintext check
 * cannot finish before the test allows it. Segments pass at once, so the
 * PDF still draws.
 */
function holdPlaintextDigest() {
  if (typeof SubtleCrypto === 'undefined') return;
  const nativeDigest = SubtleCrypto.prototype.digest;
  let release;
  const released = new Promise((resolve) => {
    release = resolve;
  });
  window.releaseDigest = () => release();
  SubtleCrypto.prototype.digest = function (algorithm, data) {
    if ((data?.byteLength ?? 0) >= 8 * 1024 * 1024) {
      return released.then(() => nativeDigest.call(this, algorithm, data));
    }
    return nativeDigest.call(this, algorithm, data);
  };
}

test('streamed PDF offers save once verified', async () => {
  const pdf = join(scratch, 'large.pdf');
  writeLargePdf(pdf, 9 * 1024 * 1024);
  await withPortal(
    'alice',
    async ({ page, dir, open }) => {
      const sealed = sealFor(dir, 'alice', { document: pdf, mediaType: 'application/pdf', label: 'TLP:CLEAR', name: 'export-stream' });
      // The open outcome waits for the whole stream, so it is not awaited
      // while the whole-plaintext digest is held back.
      const outcome = open(sealed);
      await page.locator('#document-content .valise-pdf-page[data-page-number="1"][data-rendered="true"]').waitFor({ timeout: 60_000 });
      assert.equal(await page.locator('#rights-list li[data-right="export"]').getAttribute('data-allowed'), 'true');
      assert.equal(await page.locator('#save-decrypted').count(), 0, 'no save button while the stream is not verified');

      // A script clicks the save button the moment it appears.
      await page.evaluate(() => {
        new MutationObserver((_, observer) => {
          const button = document.getElementById('save-decrypted');
          if (button) {
            observer.disconnect();
            button.click();
          }
        }).observe(document.body, { childList: true, subtree: true });
      });
      const download = page.waitForEvent('download');
      await page.evaluate(() => window.releaseDigest());
      assert.equal(await outcome, 'document');
      const saved = readFileSync(await (await download).path());
      assert.equal(saved.byteLength, readFileSync(pdf).byteLength);
      assert.ok(saved.equals(readFileSync(pdf)), 'the download is the sealed PDF');
      // Newest first: the export is recorded after the open, even so fast.
      await page.waitForFunction(() => document.querySelector('#activity-list li[data-type="exported"]') !== null);
      const types = await activity(page);
      assert.ok(types.indexOf('opened') > types.indexOf('exported'), `opened before exported (newest first: ${types.join(', ')})`);
    },
    { contextOptions: { acceptDownloads: true }, initScripts: [holdPlaintextDigest] },
  );
});
