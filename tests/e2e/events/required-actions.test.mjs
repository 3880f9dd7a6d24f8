// With access events required, a print or an export takes place only once
// its access event is queued in the outbox. When the outbox is full, the
// print dialog does not open, the download does not start, print media
// shows no content, and the document screen states why and what to do.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newPage, waitForPortal } from '../lib/browser.mjs';
import {
  fillOutbox,
  importIdentityWithSigningKey,
  openDemoPackage,
  queuedEvents,
  sealRequiredPackage,
  storedEvents,
  useEventsDemo,
  waitForWaiting,
} from './support.mjs';

/** The outbox bound of www/src/events/outbox.js. */
const MAX_QUEUED = 5000;

/** A package the viewer cannot display, so the document screen offers its export. */
const PACKAGE = 'required-binary.tdf';

const session = useEventsDemo();

/** Opens a page on the portal whose window.print counts its calls instead of opening a dialog. */
async function openPortal() {
  const { context, page, errors } = await newPage(session.browser, { acceptDownloads: true });
  await page.addInitScript(() => {
    window.__printCalls = 0;
    window.print = function print() {
      window.__printCalls += 1;
    };
  });
  await page.goto(session.demo.portal.url);
  await waitForPortal(page);
  await importIdentityWithSigningKey(page, session.demo.dir, 'alice');
  return { context, page, errors };
}

/** Returns whether the document content shows in print media, then returns to screen media. */
async function contentPrints(page) {
  await page.emulateMedia({ media: 'print' });
  const visible = await page.evaluate(() => document.getElementById('document-content').checkVisibility());
  await page.emulateMedia({ media: 'screen' });
  return visible;
}

/** Waits until the collector stored an event of `kind`; returns the stored events. */
async function waitForStored(kind, timeout = 30_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const stored = storedEvents(session.demo.db);
    if (stored.some((event) => event.kind === kind)) {
      return stored;
    }
    if (Date.now() > deadline) {
      assert.fail(`the collector stored no ${kind} event; it stored: ${stored.map((event) => event.kind).join(', ')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

test('queued events: print and export go ahead', async () => {
  sealRequiredPackage(session.demo, { file: PACKAGE, content: Buffer.from([0, 1, 2, 3, 255, 254]), mediaType: 'application/octet-stream' });
  const { context, page } = await openPortal();
  assert.equal(await openDemoPackage(page, session.demo, PACKAGE), 'document');
  assert.equal(await contentPrints(page), false, 'nothing prints before a print is recorded');

  await page.keyboard.press('Control+p');
  await page.waitForFunction(() => window.__printCalls === 1);
  await waitForStored('printed');

  const download = page.waitForEvent('download');
  await page.locator('button.valise-export').click();
  assert.equal((await download).suggestedFilename(), `${PACKAGE}.plain`);
  await waitForStored('exported');
  assert.equal(await page.locator('#action-refused').isHidden(), true);
  assert.equal(await page.locator('#activity-list li[data-type="exported"]').getAttribute('data-delivery'), 'queued');
  await context.close();
});

test('full outbox: print and export refused', async () => {
  sealRequiredPackage(session.demo, { file: PACKAGE, content: Buffer.from([0, 1, 2, 3, 255, 254]), mediaType: 'application/octet-stream' });
  const { context, page } = await openPortal();
  assert.equal(await openDemoPackage(page, session.demo, PACKAGE), 'document');
  await waitForWaiting(page, 0);
  const storedBefore = storedEvents(session.demo.db).length;

  // Offline, so the filler stays queued instead of being sent.
  await context.setOffline(true);
  await fillOutbox(page, session.demo.collector.eventsUrl, MAX_QUEUED);
  await waitForWaiting(page, MAX_QUEUED);

  let downloads = 0;
  page.on('download', () => {
    downloads += 1;
  });
  await page.locator('button.valise-export').click();
  const refusal = page.locator('#action-refused');
  await refusal.waitFor({ state: 'visible' });
  assert.match(await refusal.innerText(), /^The file was not exported, because its access event could not be queued\./);
  assert.match(await refusal.innerText(), /queue of this browser is full \(5000 events wait to be sent\)/);
  assert.match(await refusal.innerText(), /Connect to the network/);
  assert.equal(downloads, 0, 'no download started');

  await page.keyboard.press('Control+p');
  await page.waitForFunction(() => /not printed/.test(document.getElementById('action-refused').textContent));
  assert.match(await refusal.innerText(), /^The document was not printed, because its access event could not be queued\./);
  assert.equal(await page.evaluate(() => window.__printCalls), 0, 'no print dialog opened');
  assert.equal(await contentPrints(page), false, 'print media shows no content');

  assert.equal(await page.locator('#activity-list li[data-type="action_refused"]').count(), 2);
  assert.equal(await page.locator('#activity-list li[data-type="exported"]').count(), 0, 'the panel lists no export');
  assert.equal(await page.locator('#activity-list li[data-type="printed"]').count(), 0, 'the panel lists no print');
  const queued = await queuedEvents(page);
  assert.equal(queued.length, MAX_QUEUED, 'nothing was queued past the bound');
  assert.equal(storedEvents(session.demo.db).length, storedBefore, 'the collector received nothing new');
  assert.equal(downloads, 0, 'no download started');
  await context.close();
});
