// Copy refused: nothing can be selected, and copy or cut puts an empty string
// on the clipboard; each attempt is reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RIGHTS, events, openDocument, withPage } from './support.mjs';

const SECRET = 'indicator 203.0.113.7 beacon';

test('copy refused yields an empty clipboard', async () => {
  await withPage(async ({ page }) => {
    await openDocument(page, { text: SECRET, mediaType: 'text/plain', rights: RIGHTS.viewOnly });
    const result = await page.evaluate(() => {
      const pre = document.querySelector('pre.valise-text');
      const range = document.createRange();
      range.selectNodeContents(pre);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      const data = new DataTransfer();
      data.setData('text/plain', 'before');
      const event = new ClipboardEvent('copy', { clipboardData: data, bubbles: true, cancelable: true });
      pre.dispatchEvent(event);
      return { prevented: event.defaultPrevented, clipboard: data.getData('text/plain') };
    });
    assert.equal(result.prevented, true);
    assert.equal(result.clipboard, '');
    assert.deepEqual((await events(page)).map((event) => [event.kind, event.detail.action]), [['copy_blocked', 'copy']]);
  });
});

test('Ctrl+C copies nothing to the system clipboard', async () => {
  await withPage(
    async ({ page, origin }) => {
      await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
      await openDocument(page, { text: SECRET, mediaType: 'text/plain', rights: RIGHTS.viewOnly });
      await page.evaluate(() => navigator.clipboard.writeText('placeholder'));
      const pre = page.locator('pre.valise-text');
      await pre.click({ clickCount: 3 });
      await page.evaluate(() => {
        const range = document.createRange();
        range.selectNodeContents(document.querySelector('pre.valise-text'));
        getSelection().removeAllRanges();
        getSelection().addRange(range);
      });
      await page.keyboard.press('Control+c');
      const clipboard = await page.evaluate(() => navigator.clipboard.readText());
      assert.ok(!clipboard.includes('203.0.113.7'), `the clipboard must not hold the content, found ${JSON.stringify(clipboard)}`);
      assert.ok((await events(page)).some((event) => event.kind === 'copy_blocked'));
    },
  );
});

test('copy refused blocks selection, cut, drag and context menu', async () => {
  await withPage(async ({ page }) => {
    await openDocument(page, { text: SECRET, mediaType: 'text/plain', rights: RIGHTS.viewOnly });
    const result = await page.evaluate(() => {
      const pre = document.querySelector('pre.valise-text');
      const fire = (event) => {
        pre.dispatchEvent(event);
        return event.defaultPrevented;
      };
      return {
        userSelect: getComputedStyle(pre).userSelect,
        cut: fire(new ClipboardEvent('cut', { clipboardData: new DataTransfer(), bubbles: true, cancelable: true })),
        drag: fire(new DragEvent('dragstart', { bubbles: true, cancelable: true })),
        menu: fire(new MouseEvent('contextmenu', { bubbles: true, cancelable: true })),
        select: fire(new Event('selectstart', { bubbles: true, cancelable: true })),
      };
    });
    assert.deepEqual(result, { userSelect: 'none', cut: true, drag: true, menu: true, select: true });
    assert.deepEqual((await events(page)).map((event) => event.detail.action), ['cut', 'dragstart', 'contextmenu']);
  });
});

test('copy allowed leaves the clipboard alone', async () => {
  await withPage(async ({ page }) => {
    await openDocument(page, { text: SECRET, mediaType: 'text/plain', rights: RIGHTS.copyOnly });
    const prevented = await page.evaluate(() => {
      const event = new ClipboardEvent('copy', { clipboardData: new DataTransfer(), bubbles: true, cancelable: true });
      document.querySelector('pre.valise-text').dispatchEvent(event);
      return event.defaultPrevented;
    });
    assert.equal(prevented, false);
    assert.deepEqual(await events(page), []);
  });
});
