// PDF documents draw on canvas page by page as they scroll into view; the
// text layer exists only when copy is allowed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RIGHTS, WATERMARK, openDocument, withPage } from './support.mjs';

const REPORT = '/documents/reports/TA14-353A_wiper.pdf';

/** Page slots the renderer makes at once (SLOT_BATCH in www/src/render/pdf.js). */
const SLOT_BATCH = 100;

/** Returns the text of a PDF of `count` blank pages, all kids of one page tree node. */
function blankPdf(count) {
  const kids = Array.from({ length: count }, (_, index) => `${index + 3} 0 R`).join(' ');
  const objects = ['<< /Type /Catalog /Pages 2 0 R >>', `<< /Type /Pages /Count ${count} /Kids [${kids}] >>`];
  for (let index = 0; index < count; index += 1) {
    objects.push('<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] >>');
  }
  let text = '%PDF-1.4\n';
  const offsets = [];
  objects.forEach((body, index) => {
    offsets.push(text.length);
    text += `${index + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = text.length;
  text += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  text += offsets.map((offset) => `${String(offset).padStart(10, '0')} 00000 n \n`).join('');
  return `${text}trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
}

/** Returns how many pixels of the first page's canvas are not white. */
function inkedPixels(page) {
  return page.evaluate(() => {
    const canvas = document.querySelector('.valise-pdf-page[data-page-number="1"] canvas');
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let count = 0;
    for (let index = 0; index < data.length; index += 4) {
      if (data[index] < 200 || data[index + 1] < 200 || data[index + 2] < 200) count += 1;
    }
    return count;
  });
}

test('pdf draws the first page on canvas', async () => {
  await withPage(async ({ page, observed }) => {
    const result = await openDocument(page, { url: REPORT, mediaType: 'application/pdf', rights: RIGHTS.viewOnly, watermark: WATERMARK });
    assert.equal(result.kind, 'pdf');
    await page.locator('.valise-pdf-page[data-page-number="1"][data-rendered="true"]').waitFor();
    assert.ok((await inkedPixels(page)) > 5000, 'the first page has visible content');
    assert.deepEqual(observed.foreignRequests, []);
  });
});

test('pdf without copy right has no text layer', async () => {
  await withPage(async ({ page }) => {
    await openDocument(page, { url: REPORT, mediaType: 'application/pdf', rights: RIGHTS.viewOnly });
    await page.locator('.valise-pdf-page[data-page-number="1"][data-rendered="true"]').waitFor();
    assert.equal(await page.locator('.valise-pdf-text').count(), 0);
    const text = await page.locator('#content').innerText();
    assert.ok(!/wiper/i.test(text), 'no document text reaches the DOM');
  });
});

test('pdf with copy right has a selectable text layer', async () => {
  await withPage(async ({ page }) => {
    await openDocument(page, { url: REPORT, mediaType: 'application/pdf', rights: RIGHTS.everything });
    await page.locator('.valise-pdf-page[data-page-number="1"][data-rendered="true"]').waitFor();
    const text = await page.locator('.valise-pdf-page[data-page-number="1"] .valise-pdf-text').textContent();
    assert.match(text, /Wiper/i);
    assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('.valise-pdf-text span')).userSelect), 'auto');
  });
});

test('pdf renders later pages only when scrolled to', async () => {
  await withPage(
    async ({ page }) => {
      await openDocument(page, { url: REPORT, mediaType: 'application/pdf', rights: RIGHTS.viewOnly });
      await page.locator('.valise-pdf-page[data-page-number="1"][data-rendered="true"]').waitFor();
      const count = await page.locator('.valise-pdf-page').count();
      assert.ok(count >= 3, `the report has ${count} pages`);
      const last = page.locator(`.valise-pdf-page[data-page-number="${count}"]`);
      assert.equal(await last.getAttribute('data-rendered'), null, 'the last page waits until it is near the viewport');
      await last.scrollIntoViewIfNeeded();
      await page.locator(`.valise-pdf-page[data-page-number="${count}"][data-rendered="true"]`).waitFor();
    },
    { viewport: { width: 900, height: 700 } },
  );
});

test('pdf of many pages makes slots as it scrolls', async () => {
  const count = 5_000;
  await withPage(
    async ({ page }) => {
      await openDocument(page, { text: blankPdf(count), mediaType: 'application/pdf', rights: RIGHTS.viewOnly });
      await page.locator('.valise-pdf-page[data-page-number="1"][data-rendered="true"]').waitFor();
      assert.equal(await page.locator('.valise-pdf').getAttribute('aria-label'), `PDF document, ${count} pages`);
      assert.equal(await page.locator('.valise-pdf-page').count(), SLOT_BATCH, 'one batch of slots at first');
      // The stand-in for the pages without a slot keeps the scroll bar as long as the whole document.
      const height = await page.locator('.valise-pdf').evaluate((node) => node.scrollHeight);
      const pageHeight = await page.locator('.valise-pdf-page[data-page-number="2"]').evaluate((node) => node.offsetHeight);
      assert.ok(height >= count * pageHeight, `${height} px for ${count} pages of ${pageHeight} px`);
      // A jump to the end makes batches until the last page has its slot, and draws it.
      await page.locator('.valise-pdf-rest').evaluate((node) => node.scrollIntoView({ block: 'end' }));
      await page.locator(`.valise-pdf-page[data-page-number="${count}"][data-rendered="true"]`).waitFor({ timeout: 60_000 });
      assert.equal(await page.locator('.valise-pdf-rest').count(), 0, 'the stand-in is gone after the last batch');
      assert.equal(await page.locator('.valise-pdf-page[data-page-number="50"]').getAttribute('data-rendered'), null, 'pages passed over are not drawn');
    },
    { viewport: { width: 900, height: 700 } },
  );
});

test('pdf links keep only http and https', async () => {
  await withPage(async ({ page }) => {
    await openDocument(page, { url: '/documents/hostile/pdfjs/file_url_link.pdf', mediaType: 'application/pdf', rights: RIGHTS.everything });
    await page.locator('.valise-pdf-page[data-page-number="1"][data-rendered="true"]').waitFor();
    const links = await page.locator('.valise-pdf-link').evaluateAll((nodes) => nodes.map((node) => ({ href: node.href, rel: node.rel, target: node.target })));
    for (const link of links) {
      assert.match(link.href, /^https?:/);
      assert.equal(link.rel, 'noopener noreferrer');
      assert.equal(link.target, '_blank');
    }
    assert.ok(links.every((link) => !link.href.startsWith('file:')), 'the file: link is dropped');
  });
});

test('pdf link filter accepts only http and https', async () => {
  await withPage(async ({ page }) => {
    const verdicts = await page.evaluate(async () => {
      const { safeLinkUrl } = await import('/src/render/pdf.js');
      const urls = ['https://www.us-cert.gov/ncas', 'http://example.org/a', 'file:///C:/Windows/system32/calc.exe', 'javascript:confirm(2);', 'data:text/html,<script>alert(2)</script>', 'START C:/Windows/system32/calc.exe', 'mailto:a@example.org'];
      return urls.map((url) => safeLinkUrl({ subtype: 'Link', url }));
    });
    assert.deepEqual(verdicts, ['https://www.us-cert.gov/ncas', 'http://example.org/a', null, null, null, null, null]);
  });
});

test('corrupt pdf shows cannot be displayed', async () => {
  await withPage(async ({ page }) => {
    const result = await openDocument(page, { url: '/documents/hostile/pdfjs/helloworld-bad.pdf', mediaType: 'application/pdf', rights: RIGHTS.viewOnly });
    if (result.kind === null) {
      assert.match(await page.locator('.valise-cannot-display').textContent(), /cannot be displayed/);
    } else {
      // pdf.js repairs some broken files; then the page must still draw without error.
      await page.locator('.valise-pdf-page[data-page-number="1"]').waitFor();
    }
  });
});
