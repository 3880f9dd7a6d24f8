// MISP events render as tables of attributes and objects with their tags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RIGHTS, openDocument, withPage } from './support.mjs';

const MISP = 'application/vnd.misp+json';

test('misp event shows attributes and event tags', async () => {
  await withPage(async ({ page }) => {
    const result = await openDocument(page, { url: '/documents/misp/existing_event.json', mediaType: MISP, rights: RIGHTS.everything });
    assert.equal(result.kind, 'misp');
    const eventTags = await page.locator('.valise-misp > ul.valise-tags > li').evaluateAll((nodes) => nodes.map((node) => node.textContent));
    assert.ok(eventTags.includes('tlp:white'));
    assert.equal(await page.locator('table.valise-misp-attributes').first().locator('tbody tr').count(), 9);
    assert.equal(await page.locator('section.valise-misp-object').count(), 49);
    const attributeTags = await page.locator('table.valise-misp-attributes').first().locator('tbody tr:first-child .valise-tag').evaluateAll((nodes) => nodes.map((node) => node.textContent));
    assert.ok(attributeTags.includes('osint:source-type="blog-post"'), attributeTags.join(' | '));
  });
});

test('misp event made of objects shows each object', async () => {
  await withPage(async ({ page }) => {
    await openDocument(page, { url: '/documents/misp/mainly_objects_2.json', mediaType: MISP, rights: RIGHTS.everything });
    assert.equal(await page.locator('section.valise-misp-object').count(), 15);
    const relations = await page.locator('section.valise-misp-object').first().locator('tbody td:nth-child(3)').evaluateAll((nodes) => nodes.map((node) => node.textContent));
    assert.ok(relations.length > 0);
    assert.ok(!(await page.locator('#content').textContent()).includes('PHN0aXg6U1RJWF9QYWNrYWdl'), 'attachment data is not dumped into the page');
  });
});

test('misp event in japanese keeps its text', async () => {
  await withPage(async ({ page }) => {
    await openDocument(page, { url: '/documents/misp/japanese_test.json', mediaType: MISP, rights: RIGHTS.everything });
    const text = await page.locator('#content').textContent();
    assert.ok(text.includes('条イ音態ぞゃご法説イシ技'));
  });
});
