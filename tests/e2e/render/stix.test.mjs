// STIX 2.1 bundles render as a report: objects grouped by type, indicator
// patterns, named relationships and the markings on each object.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RIGHTS, openDocument, withPage } from './support.mjs';

test('stix report groups objects by type', async () => {
  await withPage(async ({ page }) => {
    const result = await openDocument(page, { url: '/documents/stix/apt1.json', mediaType: 'application/stix+json', rights: RIGHTS.everything });
    assert.equal(result.kind, 'stix');
    const headings = await page.locator('.valise-stix-type > h3').evaluateAll((nodes) => nodes.map((node) => node.textContent));
    assert.ok(headings.includes('Indicator (12)'), headings.join(' | '));
    assert.ok(headings.includes('Relationship (30)'), headings.join(' | '));
    assert.equal(headings.at(-1), 'Relationship (30)', 'relationships come after the objects they link');
    const patterns = await page.locator('.valise-stix-pattern').count();
    assert.equal(patterns, 12, 'each indicator shows its pattern');
  });
});

test('stix relationships show names', async () => {
  await withPage(async ({ page }) => {
    await openDocument(page, { url: '/documents/stix/using-granular-markings.json', mediaType: 'application/stix+json', rights: RIGHTS.everything });
    assert.equal(await page.locator('.valise-stix-relationship').textContent(), 'Fake email address → indicates → The Joker');
  });
});

test('stix markings show object and granular TLP', async () => {
  await withPage(async ({ page }) => {
    await openDocument(page, { url: '/documents/stix/using-granular-markings.json', mediaType: 'application/stix+json', rights: RIGHTS.everything });
    const indicator = await page.locator('[data-stix-id^="indicator--"] .valise-stix-markings').textContent();
    assert.match(indicator, /TLP:RED on description/);
    const actor = await page.locator('[data-stix-id^="threat-actor--"] .valise-stix-markings').textContent();
    assert.match(actor, /TLP:RED \(whole object\)/);

    await openDocument(page, { url: '/documents/stix/using-marking-definitions.json', mediaType: 'application/stix+json', rights: RIGHTS.everything });
    const markings = await page.locator('[data-stix-id^="indicator--"] .valise-stix-markings li').evaluateAll((nodes) => nodes.map((node) => node.textContent));
    assert.ok(markings.includes('TLP:AMBER (whole object)'), markings.join(' | '));
    assert.ok(markings.includes('Statement: Copyright (c) Stark Industries 2017. (whole object)'), markings.join(' | '));
  });
});

test('json that is not a stix bundle is refused', async () => {
  await withPage(async ({ page }) => {
    const result = await openDocument(page, { text: '{"type":"bundle","objects":[{"type":"indicator","spec_version":"2.0"}]}', mediaType: 'application/stix+json', rights: RIGHTS.viewOnly });
    assert.equal(result.kind, null);
    assert.match(result.reason, /not a STIX 2\.1 bundle/);
  });
});
