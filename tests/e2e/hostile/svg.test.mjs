// SVG files that carry script or load remote resources run nothing and load
// nothing, whether opened as SVG documents or placed inside HTML.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DOCUMENTS } from '../render/support.mjs';
import { RIGHTS, armPayload, assertFrameInert, assertNothingRan, openDocument, readDocument, settle, withPage } from './support.mjs';

const files = readdirSync(join(DOCUMENTS, 'hostile', 'xss')).filter((name) => name.endsWith('.svg'));

test('svg files are all read', () => {
  assert.ok(files.length >= 10, `expected the SVG payloads, found ${files.length}`);
});

test('svg documents are not displayed', async () => {
  await withPage(async ({ page, observed }) => {
    for (const name of files) {
      const result = await openDocument(page, { url: `/documents/hostile/xss/${name}`, mediaType: 'image/svg+xml', rights: RIGHTS.everything });
      assert.equal(result.kind, null, name);
    }
    await settle(page);
    await assertNothingRan(page, observed, 'svg documents');
  });
});

test('svg inside html is inert', async () => {
  await withPage(async ({ page, observed }) => {
    for (const name of files) {
      const svg = armPayload(readDocument(join('hostile', 'xss', name)));
      await openDocument(page, { text: `<p>${name}</p>${svg}`, mediaType: 'text/html', rights: RIGHTS.everything });
      await assertFrameInert(page, name);
    }
    await settle(page);
    await assertNothingRan(page, observed, 'svg inside html');
  });
});

test('svg inside markdown is inert', async () => {
  await withPage(async ({ page, observed }) => {
    const text = files.map((name) => `## ${name}\n\n${armPayload(readDocument(join('hostile', 'xss', name)))}`).join('\n\n');
    await openDocument(page, { text, mediaType: 'text/markdown', rights: RIGHTS.everything });
    await settle(page);
    await assertNothingRan(page, observed, 'svg inside markdown');
    await assertFrameInert(page, 'svg inside markdown');
  });
});
