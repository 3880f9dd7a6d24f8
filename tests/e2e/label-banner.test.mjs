// The label banner stays in view at the top and the bottom while a long
// document scrolls, and keeps focused and read content clear of itself.
// When printing is allowed, the label is printed at the top and the bottom
// of every page.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { importIdentity, openPackageFile, waitForOutcome } from './lib/demo.mjs';
import { usePortal } from './lib/portal-session.mjs';

const { dir, openPortal } = usePortal();

/** Opens the long CSV indicator list (TLP:AMBER+STRICT, print allowed) as Alice. */
async function openIndicators() {
  const session = await openPortal();
  const { page } = session;
  await page.setViewportSize({ width: 1200, height: 700 });
  await importIdentity(page, dir, 'alice');
  await page.locator('#lock-identity').waitFor();
  await openPackageFile(page, join(dir, 'packages', 'indicators.tdf'));
  assert.equal(await waitForOutcome(page), 'document');
  await page.locator('.valise-csv tbody tr').first().waitFor();
  return session;
}

/** Returns the viewport rectangles of the two banners and the viewport height. */
function bannerBoxes(page) {
  return page.evaluate(() => {
    const box = (position) => {
      const rect = document.querySelector(`#screen-document .tlp-banner[data-position="${position}"]`).getBoundingClientRect();
      return { top: rect.top, bottom: rect.bottom };
    };
    return { top: box('top'), bottom: box('bottom'), viewport: window.innerHeight, scrollable: document.documentElement.scrollHeight - window.innerHeight };
  });
}

test('banners stay in view while scrolling', async () => {
  const { context, page } = await openIndicators();
  const start = await bannerBoxes(page);
  assert.ok(start.scrollable > 2000, `the document is long enough to scroll (${start.scrollable}px)`);

  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight / 2));
  const middle = await bannerBoxes(page);
  assert.ok(Math.abs(middle.top.top) < 1, `the top banner sticks to the top (at ${middle.top.top}px)`);
  assert.ok(Math.abs(middle.bottom.bottom - middle.viewport) < 1, `the bottom banner sticks to the bottom (at ${middle.bottom.bottom}px of ${middle.viewport})`);

  // At the very end the bottom banner is back in its place after the content.
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  const contentBottom = await page.locator('#document-content').evaluate((node) => node.getBoundingClientRect().bottom);
  const end = await bannerBoxes(page);
  assert.ok(end.bottom.top >= contentBottom - 1, 'the bottom banner covers no content at the end');
  await context.close();
});

test('focused and read content stays clear of banners', async () => {
  const { context, page } = await openIndicators();
  const { top, bottom } = await bannerBoxes(page);
  const topHeight = top.bottom - top.top;
  const bottomHeight = bottom.bottom - bottom.top;

  // Keyboard: from the end of the document, focusing the close button scrolls
  // it into view below the top banner, not under it.
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  await page.getByRole('button', { name: 'Close this document' }).focus();
  const button = await page.getByRole('button', { name: 'Close this document' }).evaluate((node) => node.getBoundingClientRect().top);
  assert.ok(button >= topHeight, `the focused button (at ${button}px) is below the top banner (${topHeight}px high)`);

  // A screen reader moving down the table scrolls each row into view; the
  // row lands above the bottom banner, not under it.
  await page.evaluate(() => window.scrollTo(0, 0));
  const rows = page.locator('.valise-csv tbody tr');
  const row = rows.nth(Math.floor((await rows.count()) / 2));
  await row.evaluate((node) => node.scrollIntoView({ block: 'end' }));
  const rowBottom = await row.evaluate((node) => node.getBoundingClientRect().bottom);
  const viewport = await page.evaluate(() => window.innerHeight);
  assert.ok(rowBottom <= viewport - bottomHeight + 1, `the row (bottom at ${rowBottom}px) ends above the bottom banner (${bottomHeight}px high)`);
  await context.close();
});

test('printed pages carry banner at top and bottom', async () => {
  const { context, page } = await openIndicators();
  const pdf = await page.pdf({ format: 'A4', printBackground: false });
  await context.close();

  // pdf.js 6 expects Promise.withResolvers, which Node.js has from version 22.
  Promise.withResolvers ??= () => {
    let resolve;
    let reject;
    const promise = new Promise((done, fail) => {
      resolve = done;
      reject = fail;
    });
    return { promise, resolve, reject };
  };
  const { OPS, getDocument } = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const loading = getDocument({ data: new Uint8Array(pdf), isEvalSupported: false });
  const printout = await loading.promise;
  assert.ok(printout.numPages >= 3, `the indicator list prints on several pages (${printout.numPages})`);
  for (let number = 1; number <= printout.numPages; number += 1) {
    const printed = await printout.getPage(number);
    const height = printed.getViewport({ scale: 1 }).height;
    const { items } = await printed.getTextContent();
    // PDF y coordinates grow upwards from the bottom of the page.
    const labels = items.filter((item) => item.str.includes('TLP:AMBER+STRICT')).map((item) => item.transform[5]);
    assert.ok(labels.some((y) => y > height * 0.85), `page ${number} has the label at its top`);
    assert.ok(labels.some((y) => y < height * 0.15), `page ${number} has the label at its bottom`);
  }

  // A middle page contains no banner of the page itself, so a black fill there
  // is the margin label's background, printed with background graphics off.
  const middle = await printout.getPage(2);
  const operators = await middle.getOperatorList();
  const fills = operators.fnArray.flatMap((operator, index) => (operator === OPS.setFillRGBColor ? operators.argsArray[index] : []));
  assert.ok(fills.includes('#000000'), `the label background prints in black (fill colours: ${[...new Set(fills)]})`);
  await loading.destroy();
});
