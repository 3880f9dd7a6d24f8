// CSV indicator lists render as tables: RFC 4180 quoting, formula-like cells
// as text, defanged indicators as written, and a bounded row count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RIGHTS, openDocument, withPage } from './support.mjs';

const cells = (page, selector) => page.locator(selector).evaluateAll((nodes) => nodes.map((node) => node.textContent));

test('csv indicator list renders as a table', async () => {
  await withPage(async ({ page }) => {
    const result = await openDocument(page, { url: '/documents/csv/volexity-3cx/iocs.csv', mediaType: 'text/csv', rights: RIGHTS.everything });
    assert.equal(result.kind, 'csv');
    assert.deepEqual(await cells(page, 'table.valise-csv thead th'), ['value', 'entity_type', 'description']);
    assert.deepEqual((await cells(page, 'table.valise-csv tbody tr:first-child td')).slice(0, 2), ['www.azuredeploystore.com', 'hostname']);
  });
});

test('csv quoted cells keep commas and defanged domains', async () => {
  await withPage(async ({ page }) => {
    await openDocument(page, { url: '/documents/csv/mandiant-sunburst/Indicator_Release_Hashes.csv', mediaType: 'text/csv', rights: RIGHTS.everything });
    const filenames = await cells(page, 'table.valise-csv tbody td:nth-child(4)');
    assert.ok(filenames.includes('Solarwinds Worldwide, LLC '), 'a quoted cell keeps its comma');
    await openDocument(page, { url: '/documents/csv/mandiant-sunburst/Indicator_Release_NBIs.csv', mediaType: 'text/csv', rights: RIGHTS.everything });
    const targets = await cells(page, 'table.valise-csv tbody td:nth-child(5)');
    assert.ok(targets.includes('freescanonline[.]com'), 'defanged domains stay as written');
  });
});

test('csv parses embedded newlines, doubled quotes and formulas as text', async () => {
  await withPage(async ({ page }) => {
    const text = 'cell,note\r\n"=HYPERLINK(""https://attacker.example"",""x"")","line one\nline two"\r\n+1+1,-2\n@SUM(A1),"say ""hi"""\n';
    await openDocument(page, { text, mediaType: 'text/csv', rights: RIGHTS.everything });
    const rows = await page.locator('table.valise-csv tbody tr').evaluateAll((nodes) => nodes.map((row) => [...row.cells].map((cell) => cell.textContent)));
    assert.deepEqual(rows, [
      ['=HYPERLINK("https://attacker.example","x")', 'line one\nline two'],
      ['+1+1', '-2'],
      ['@SUM(A1)', 'say "hi"'],
    ]);
    assert.equal(await page.locator('table.valise-csv a').count(), 0);
  });
});

test('csv beyond the row limit shows a notice', async () => {
  await withPage(async ({ page }) => {
    const lines = ['n,value'];
    for (let index = 0; index < 2500; index += 1) lines.push(`${index},v${index}`);
    const text = lines.join('\n');
    await openDocument(page, { text, mediaType: 'text/csv', rights: RIGHTS.everything });
    assert.equal(await page.locator('table.valise-csv tbody tr').count(), 2000);
    const notice = page.locator('.valise-csv-limit');
    assert.match(await notice.textContent(), /^Showing the first 2000 of 2500 rows\. /);
    assert.match(await notice.textContent(), /save the decrypted file/);
    await notice.locator('button.valise-export').click();
    assert.equal(await page.evaluate(() => window.__exported), Buffer.byteLength(text), 'the button exports the whole file');
  });
});

test('csv limit without export names the originator', async () => {
  await withPage(async ({ page }) => {
    const header = Array.from({ length: 120 }, (_, index) => `c${index}`).join(',');
    const lines = [header];
    for (let index = 0; index < 2100; index += 1) lines.push(Array.from({ length: 120 }, () => index).join(','));
    await openDocument(page, { text: lines.join('\n'), mediaType: 'text/csv', rights: RIGHTS.viewOnly });
    assert.equal(await page.locator('table.valise-csv thead th').count(), 100);
    const notice = page.locator('.valise-csv-limit');
    const text = await notice.textContent();
    assert.match(text, /^Showing the first 2000 of 2100 rows\. Showing the first 100 columns\. /);
    assert.match(text, /ask the originator/);
    assert.equal(await notice.locator('button').count(), 0, 'no export without the right');
  });
});
