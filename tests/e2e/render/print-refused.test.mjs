// Print refused: print media hides the document and shows a notice, Ctrl+P
// and window.print open nothing, and every attempt is reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RIGHTS, WATERMARK, events, openDocument, withPage } from './support.mjs';

test('print refused hides content in print media', async () => {
  await withPage(async ({ page }) => {
    await openDocument(page, { url: '/documents/stix/apt1.json', mediaType: 'application/stix+json', rights: RIGHTS.viewOnly, watermark: WATERMARK });
    const visible = () => page.evaluate(() => {
      const content = document.getElementById('content');
      const notice = document.querySelector('.valise-print-notice');
      const shown = (node) => node.checkVisibility() && getComputedStyle(node).display !== 'none';
      return { content: shown(content), notice: shown(notice), noticeText: notice.textContent };
    });

    const screen = await visible();
    assert.equal(screen.content, true, 'the content shows on screen');
    assert.equal(screen.notice, false, 'the notice is hidden on screen');

    await page.emulateMedia({ media: 'print' });
    const print = await visible();
    assert.equal(print.content, false, 'the content must not show in print media');
    assert.equal(print.notice, true, 'the notice shows in print media');
    assert.match(print.noticeText, /did not allow printing/);
  });
});

test('print refused intercepts Ctrl+P and window.print', async () => {
  await withPage(async ({ page }) => {
    await openDocument(page, { text: 'secret text', mediaType: 'text/plain', rights: RIGHTS.viewOnly });
    await page.locator('pre.valise-text').click();
    await page.keyboard.press('Control+p');
    await page.keyboard.press('Meta+p');
    const calls = await page.evaluate(() => {
      window.print();
      return window.__printCalls;
    });
    assert.equal(calls, 0, 'the original window.print must not run');

    await page.evaluate(() => window.dispatchEvent(new Event('beforeprint')));
    const kinds = (await events(page)).filter((event) => event.kind === 'print_blocked').map((event) => event.detail.via);
    assert.deepEqual(kinds, ['shortcut', 'shortcut', 'window.print', 'browser']);
  });
});

test('Ctrl+P is cancelled before the page sees it', async () => {
  await withPage(async ({ page }) => {
    await openDocument(page, { text: 'secret text', mediaType: 'text/plain', rights: RIGHTS.viewOnly });
    const defaultPrevented = await page.evaluate(() => {
      const event = new KeyboardEvent('keydown', { key: 'p', code: 'KeyP', ctrlKey: true, bubbles: true, cancelable: true });
      document.body.dispatchEvent(event);
      return event.defaultPrevented;
    });
    assert.equal(defaultPrevented, true);
  });
});

test('release restores printing', async () => {
  await withPage(async ({ page }) => {
    await openDocument(page, { text: 'secret text', mediaType: 'text/plain', rights: RIGHTS.viewOnly });
    const after = await page.evaluate(() => {
      window.__enforcement.release();
      window.print();
      return { calls: window.__printCalls, refused: document.documentElement.classList.contains('valise-print-refused'), notices: document.querySelectorAll('.valise-print-notice').length };
    });
    assert.deepEqual(after, { calls: 1, refused: false, notices: 0 });
  });
});
