// readBody (www/src/download.js), which the portal's `?src=` and the
// embedded viewer download packages with: it reports each chunk, keeps the
// bytes intact and stops at its limit, whether or not the server declared
// the size.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withPage } from './render/support.mjs';

/**
 * Reads, in the page, a Response with the Content-Length header `declared`
 * (or none). Its body is chunks of the lengths in `chunks`, then endless
 * 1000-byte chunks when `endless`. Returns what readBody produced or the
 * message it threw, the progress reports, and whether the body was
 * cancelled.
 */
function read(page, { chunks, endless = false, declared = null, limit }) {
  return page.evaluate(
    async ({ chunks, endless, declared, limit }) => {
      const { readBody } = await import('/src/download.js');
      let next = 0;
      let cancelled = false;
      const body = new ReadableStream({
        pull(controller) {
          let length = 0;
          if (next < chunks.length) {
            length = chunks[next];
          } else if (endless) {
            length = 1000;
          }
          next += 1;
          if (length === 0) {
            controller.close();
            return;
          }
          controller.enqueue(Uint8Array.from({ length }, (_, index) => index % 251));
        },
        cancel() {
          cancelled = true;
        },
      });
      const response = new Response(body, { headers: declared === null ? {} : { 'Content-Length': String(declared) } });
      const progress = [];
      try {
        const bytes = await readBody(response, { limit, onProgress: (received, total) => progress.push([received, total]) });
        return { length: bytes.length, exact: bytes.buffer.byteLength === bytes.length, first: Array.from(bytes.subarray(0, 3)), progress, cancelled };
      } catch (error) {
        return { error: error.message, progress, cancelled };
      }
    },
    { chunks, endless, declared, limit },
  );
}

test('download reports each chunk', async () => {
  await withPage(async ({ page }) => {
    const result = await read(page, { chunks: [300, 200, 100], declared: 600, limit: 10_000 });
    assert.equal(result.length, 600);
    assert.equal(result.exact, true, 'a declared size fills the buffer without a copy');
    assert.deepEqual(result.first, [0, 1, 2]);
    assert.deepEqual(result.progress, [[300, 600], [500, 600], [600, 600]]);
  });
});

test('download without size grows its buffer', async () => {
  await withPage(async ({ page }) => {
    const result = await read(page, { chunks: [700_000, 700_000], limit: 10_000_000 });
    assert.equal(result.length, 1_400_000);
    assert.equal(result.exact, true, 'the result is trimmed to its length');
    assert.deepEqual(result.progress, [[700_000, null], [1_400_000, null]]);
  });
});

test('download longer than declared drops the total', async () => {
  // A compressed transfer declares its compressed size.
  await withPage(async ({ page }) => {
    const result = await read(page, { chunks: [100, 100], declared: 150, limit: 10_000 });
    assert.equal(result.length, 200);
    assert.deepEqual(result.progress, [[100, 150], [200, null]]);
  });
});

test('download over declared limit stops at once', async () => {
  await withPage(async ({ page }) => {
    const result = await read(page, { chunks: [100], declared: 20_000, limit: 10_000 });
    assert.equal(result.error, 'it is 20000 bytes, larger than 10000 bytes, the most the viewer downloads');
    assert.deepEqual(result.progress, []);
    assert.equal(result.cancelled, true);
  });
});

test('download without size stops at limit', async () => {
  await withPage(async ({ page }) => {
    const result = await read(page, { chunks: [], endless: true, limit: 10_500 });
    assert.equal(result.error, 'it is larger than 10500 bytes, the most the viewer downloads');
    assert.equal(result.progress.at(-1)[0], 10_000, 'nothing past the limit was kept');
    assert.equal(result.cancelled, true);
  });
});
