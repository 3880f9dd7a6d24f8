// The renderer is chosen by media type and the content must agree; anything
// else shows "cannot be displayed" with export offered only when allowed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RIGHTS, events, openDocument, withPage } from './support.mjs';

test('json declared as pdf is refused', async () => {
  await withPage(async ({ page }) => {
    const result = await openDocument(page, { url: '/documents/stix/apt1.json', mediaType: 'application/pdf', rights: RIGHTS.viewOnly });
    assert.equal(result.kind, null);
    assert.match(await page.locator('.valise-cannot-display').textContent(), /cannot be displayed.*PDF header/s);
  });
});

test('pdf declared as markdown is refused', async () => {
  await withPage(async ({ page }) => {
    const result = await openDocument(page, { url: '/documents/reports/TA14-353A_wiper.pdf', mediaType: 'text/markdown', rights: RIGHTS.viewOnly });
    assert.equal(result.kind, null);
    assert.match(result.reason, /not valid UTF-8/);
  });
});

test('unknown type offers export only with the right', async () => {
  await withPage(async ({ page }) => {
    await openDocument(page, { text: 'PK\u0003\u0004', mediaType: 'application/zip', rights: RIGHTS.viewOnly });
    assert.equal(await page.locator('button.valise-export').count(), 0);
    assert.match(await page.locator('.valise-cannot-display').textContent(), /did not allow export/);

    await openDocument(page, { text: 'PK\u0003\u0004', mediaType: 'application/zip', rights: RIGHTS.everything });
    assert.equal(await page.locator('button.valise-export').textContent(), 'Save decrypted file', 'the label of the document screen button');
    await page.locator('button.valise-export').click();
    assert.equal(await page.evaluate(() => window.__exported), 4);
    const exported = (await events(page)).filter((event) => event.kind === 'exported');
    assert.equal(exported.length, 1);
    assert.equal(exported[0].detail.mediaType, 'application/zip');
  });
});

test('json chooses stix or misp by content', async () => {
  await withPage(async ({ page }) => {
    assert.equal((await openDocument(page, { url: '/documents/stix/apt1.json', mediaType: 'application/json', rights: RIGHTS.viewOnly })).kind, 'stix');
    assert.equal((await openDocument(page, { url: '/documents/misp/japanese_test.json', mediaType: 'application/json', rights: RIGHTS.viewOnly })).kind, 'misp');
    assert.equal((await openDocument(page, { text: '{"a":1}', mediaType: 'application/json', rights: RIGHTS.viewOnly })).kind, null);
    assert.equal((await openDocument(page, { text: '{"a":', mediaType: 'application/vnd.misp+json', rights: RIGHTS.viewOnly })).kind, null);
  });
});

test('view right withheld shows nothing', async () => {
  await withPage(async ({ page }) => {
    const result = await openDocument(page, { text: 'secret', mediaType: 'text/plain', rights: { ...RIGHTS.everything, view: false } });
    assert.equal(result.kind, null);
    assert.equal(await page.locator('pre.valise-text').count(), 0);
    assert.equal(await page.locator('button.valise-export').count(), 0);
  });
});
