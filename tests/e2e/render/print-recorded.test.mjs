// Print allowed with access events required: nothing of the document
// prints until the `printed` event is queued. Ctrl+P queues the event, then
// opens the print dialog with the page shown in print media. When the event
// cannot be queued, no dialog opens and the screen shows why. The
// browser's own print command, which cannot wait, prints only a notice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RIGHTS, WATERMARK, events, openDocument, withPage } from './support.mjs';

const RECORDED = { ...RIGHTS.printOnly, eventsRequired: true };

/** Returns whether the content and the print notice show in print media, then returns to screen media. */
async function printMediaState(page) {
  await page.emulateMedia({ media: 'print' });
  const state = await page.evaluate(() => ({
    content: document.getElementById('content').checkVisibility(),
    notice: document.querySelector('.valise-print-notice')?.checkVisibility() ?? false,
  }));
  await page.emulateMedia({ media: 'screen' });
  return state;
}

test('recorded print hides content until queued', async () => {
  await withPage(async ({ page }) => {
    await openDocument(page, { text: 'printable', mediaType: 'text/plain', rights: RECORDED, watermark: WATERMARK });
    assert.deepEqual(await printMediaState(page), { content: false, notice: true });
  });
});

test('recorded print queues before the dialog', async () => {
  await withPage(async ({ page }) => {
    await openDocument(page, { text: 'printable', mediaType: 'text/plain', rights: RECORDED, watermark: WATERMARK });
    await page.keyboard.press('Control+p');
    await page.waitForFunction(() => window.__printCalls === 1);
    assert.deepEqual(await page.evaluate(() => window.__queued.map((event) => event.kind)), ['printed']);
    assert.deepEqual(await page.evaluate(() => window.__printHidden), [false], 'the page shows in print media while the dialog opens');
    assert.deepEqual(await events(page), [], 'the print is not reported a second time');
    assert.deepEqual(await printMediaState(page), { content: false, notice: true }, 'the hiding is back after the print');

    await page.evaluate(() => window.print());
    await page.waitForFunction(() => window.__printCalls === 2);
    assert.equal(await page.evaluate(() => window.__queued.length), 2);
  });
});

test('recorded print refused when queue fails', async () => {
  await withPage(async ({ page }) => {
    const failure = 'The access-event queue of this browser is full.';
    await openDocument(page, { text: 'printable', mediaType: 'text/plain', rights: RECORDED, watermark: WATERMARK, queueFailure: failure });
    await page.keyboard.press('Control+p');
    await page.waitForFunction(() => window.__refusals.length === 1);
    const [message] = await page.evaluate(() => window.__refusals);
    assert.match(message, /^The document was not printed, because its access event could not be queued\./);
    assert.ok(message.endsWith(failure), message);
    assert.equal(await page.evaluate(() => window.__printCalls), 0, 'no print dialog opened');
    assert.deepEqual(await printMediaState(page), { content: false, notice: true });
  });
});

test('browser menu print shows only the notice', async () => {
  await withPage(async ({ page }) => {
    await openDocument(page, { text: 'printable', mediaType: 'text/plain', rights: RECORDED, watermark: WATERMARK });
    await page.evaluate(() => window.dispatchEvent(new Event('beforeprint')));
    const [message] = await page.evaluate(() => window.__refusals);
    assert.match(message, /printed only a notice/);
    assert.deepEqual(await page.evaluate(() => window.__queued), []);
    assert.deepEqual(await events(page), []);
    assert.deepEqual(await printMediaState(page), { content: false, notice: true });
  });
});

test('print without required events unchanged', async () => {
  await withPage(async ({ page }) => {
    await openDocument(page, { text: 'printable', mediaType: 'text/plain', rights: RIGHTS.printOnly, watermark: WATERMARK });
    assert.deepEqual(await printMediaState(page), { content: true, notice: false });
    await page.evaluate(() => window.print());
    assert.equal(await page.evaluate(() => window.__printCalls), 1, 'window.print opens the dialog at once');
    assert.deepEqual(await page.evaluate(() => window.__queued), []);
  });
});
