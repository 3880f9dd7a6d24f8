// The watermark tiles over the content and comes back when it is removed,
// hidden or restyled; each restoration is reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RIGHTS, WATERMARK, events, openDocument, withPage } from './support.mjs';

async function watermarkState(page) {
  return page.evaluate(() => {
    const overlays = document.querySelectorAll('#content > .valise-watermark');
    const overlay = overlays[0];
    const style = overlay ? getComputedStyle(overlay) : null;
    return {
      count: overlays.length,
      display: style?.display,
      visibility: style?.visibility,
      opacity: style?.opacity,
      image: style ? decodeURIComponent(style.backgroundImage) : '',
    };
  });
}

const removals = async (page) => (await events(page)).filter((event) => event.kind === 'watermark_removed').map((event) => event.detail.how);

test('watermark tiles the reader details over the content', async () => {
  await withPage(async ({ page }) => {
    await openDocument(page, { url: '/documents/csv/volexity-3cx/iocs.csv', mediaType: 'text/csv', rights: RIGHTS.viewOnly, watermark: WATERMARK });
    const state = await watermarkState(page);
    assert.equal(state.count, 1);
    assert.equal(state.display, 'block');
    assert.ok(state.image.includes('Alice Analyst'), state.image);
    assert.ok(state.image.includes('Alpha CERT'), state.image);
    assert.ok(state.image.includes('2026-12-04 20:00 UTC'), state.image);
    assert.deepEqual(await removals(page), [], 'rendering must not count as a removal');
  });
});

test('watermark text is escaped in the SVG', async () => {
  await withPage(async ({ page }) => {
    await openDocument(page, { text: 'x', mediaType: 'text/plain', rights: RIGHTS.viewOnly, watermark: 'Eve </text><script>window.__pwned=true</script> & "Co"' });
    const state = await watermarkState(page);
    assert.ok(state.image.includes('&#60;/text&#62;&#60;script&#62;'), state.image);
    assert.equal(await page.evaluate(() => window.__pwned), false);
  });
});

for (const [name, tamper, how] of [
  ['removed element', (node) => node.remove(), ['removed']],
  ['display none', (node) => node.style.setProperty('display', 'none', 'important'), ['display']],
  ['hidden attribute', (node) => node.setAttribute('hidden', ''), ['hidden']],
  ['class changed', (node) => { node.className = 'other'; }, ['class', 'display']],
  ['opacity zero', (node) => { node.style.opacity = '0'; }, ['opacity']],
  ['background cleared', (node) => node.style.setProperty('background-image', 'none', 'important'), ['background', 'style']],
]) {
  test(`watermark restored after ${name}`, async () => {
    await withPage(async ({ page }) => {
      await openDocument(page, { text: 'protected', mediaType: 'text/plain', rights: RIGHTS.viewOnly, watermark: WATERMARK });
      await page.evaluate(`(${tamper.toString()})(document.querySelector('.valise-watermark'))`);
      await page.waitForFunction(() => window.__events.some((event) => event.kind === 'watermark_removed'));
      const state = await watermarkState(page);
      assert.equal(state.count, 1);
      assert.equal(state.display, 'block');
      assert.equal(state.opacity, '1');
      assert.ok(state.image.includes('Alice Analyst'));
      const reported = await removals(page);
      assert.equal(reported.length, 1, `one report per tampering, found ${JSON.stringify(reported)}`);
      assert.ok(how.includes(reported[0]), `reported ${reported[0]} for ${name}`);
    });
  });
}

for (const [name, rule] of [
  ['visibility', 'visibility: hidden !important'],
  ['display', 'display: none !important'],
  ['opacity', 'opacity: 0 !important'],
  ['scale', 'transform: scale(0) !important'],
  ['clip', 'clip-path: inset(50%) !important'],
  ['stacking', 'z-index: -1 !important'],
  ['width', 'width: 0 !important'],
]) {
  test(`watermark ignores a style sheet ${name} rule`, async () => {
    await withPage(async ({ page }) => {
      await openDocument(page, { text: 'protected', mediaType: 'text/plain', rights: RIGHTS.viewOnly, watermark: WATERMARK });
      await page.evaluate((text) => {
        const sheet = new CSSStyleSheet();
        sheet.replaceSync(`.valise-watermark { ${text}; }`);
        document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
      }, rule);
      const state = await page.evaluate(() => {
        const overlay = document.querySelector('.valise-watermark');
        const style = getComputedStyle(overlay);
        return { visible: overlay.checkVisibility({ opacityProperty: true, visibilityProperty: true }), transform: style.transform, clip: style.clipPath, zIndex: style.zIndex, width: overlay.getBoundingClientRect().width };
      });
      assert.equal(state.visible, true);
      assert.equal(state.transform, 'none');
      assert.equal(state.clip, 'none');
      assert.equal(state.zIndex, '2147483000');
      assert.ok(state.width > 0);
    });
  });
}

test('persistent removal is reported once per interval', async () => {
  await withPage(async ({ page }) => {
    await openDocument(page, { text: 'protected', mediaType: 'text/plain', rights: RIGHTS.viewOnly, watermark: WATERMARK });
    await page.evaluate(() => {
      window.__remover = setInterval(() => document.querySelector('.valise-watermark')?.remove(), 100);
    });
    await page.waitForTimeout(2500);
    const state = await watermarkState(page);
    await page.evaluate(() => clearInterval(window.__remover));
    assert.deepEqual(await removals(page), ['removed'], 'one report for a tampering that repeats');
    assert.ok(state.count <= 1);
  });
});

test('release removes the watermark without a report', async () => {
  await withPage(async ({ page }) => {
    await openDocument(page, { text: 'protected', mediaType: 'text/plain', rights: RIGHTS.viewOnly, watermark: WATERMARK });
    await page.evaluate(() => window.__enforcement.release());
    await page.waitForTimeout(1500);
    assert.equal((await watermarkState(page)).count, 0);
    assert.deepEqual(await removals(page), []);
  });
});
