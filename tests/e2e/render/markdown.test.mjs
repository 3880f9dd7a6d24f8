// Markdown and HTML documents: sanitized by the WebAssembly module and shown
// in a frame sandboxed without scripts, behind a policy that forbids fetches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RIGHTS, openDocument, withPage } from './support.mjs';

/** Returns the frame of the rendered document. */
async function documentFrame(page) {
  const handle = await page.locator('iframe.valise-frame').elementHandle();
  return handle.contentFrame();
}

test('markdown renders in a sandboxed frame', async () => {
  await withPage(async ({ page, observed }) => {
    const result = await openDocument(page, { url: '/documents/markdown/advisory.md', mediaType: 'text/markdown', rights: RIGHTS.everything });
    assert.equal(result.kind, 'markdown');
    const attributes = await page.locator('iframe.valise-frame').evaluate((frame) => ({ sandbox: frame.getAttribute('sandbox'), srcdoc: frame.srcdoc }));
    assert.equal(attributes.sandbox, 'allow-popups allow-popups-to-escape-sandbox');
    assert.ok(!attributes.sandbox.includes('allow-scripts'));
    assert.ok(!attributes.sandbox.includes('allow-same-origin'));
    assert.match(attributes.srcdoc, /<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; style-src http:\/\/127\.0\.0\.1:\d+\/src\/render\/frame\.css">/);

    const frame = await documentFrame(page);
    assert.equal(await frame.locator('h1').textContent(), 'Advisory: wiper targeting media companies');
    assert.equal(await frame.locator('table td').first().textContent(), '203.0.113.7');
    const links = await frame.locator('a').evaluateAll((nodes) => nodes.map((node) => [node.getAttribute('href'), node.rel, node.target]));
    assert.deepEqual(links, [
      ['https://example.org/bulletin', 'noopener noreferrer', '_blank'],
      ['mailto:duty@cert.example', 'noopener noreferrer', '_blank'],
    ]);
    assert.equal(await frame.locator('img').count(), 0, 'remote images are dropped');
    assert.match(await frame.locator('body').textContent(), /\[image: network diagram\]/);
    const paragraph = frame.locator('p', { hasText: 'Raw HTML paragraph.' });
    assert.equal(await paragraph.getAttribute('style'), null);
    assert.equal(await paragraph.getAttribute('onclick'), null);
    assert.deepEqual(observed.foreignRequests, []);
  });
});

// Now and then Chromium reports a request for the unsanitized image and
// then fails it with the blocked reason "csp". The frame's own policy and the
// one it inherits from the portal stopped it before it reached the network
// layer. The support code drops such requests from
// `foreignRequests`; `attemptedRequests` holds any request that got further.
test('framed document cannot run script even unsanitized', async () => {
  await withPage(async ({ page, observed }) => {
    // A sanitizer that lets everything through shows what the frame alone stops.
    await page.evaluate(async () => {
      const { render } = await import('/src/render/index.js');
      const html = '<script>parent.__pwned = true; alert(1)</script><img src="https://attacker.example/x.png" onerror="parent.__pwned = true"><iframe src="https://attacker.example/"></iframe>';
      await render(document.getElementById('content'), {
        bytes: new TextEncoder().encode(html),
        mediaType: 'text/html',
        rights: { view: true },
        sanitizer: { renderMarkdown: (text) => text, sanitizeHtml: (text) => text },
      });
    });
    await page.waitForTimeout(1000);
    assert.equal(await page.evaluate(() => window.__pwned), false);
    assert.deepEqual(observed.dialogs, []);
    assert.deepEqual(observed.foreignRequests, [], 'the frame policy forbids every fetch');
    assert.deepEqual(observed.attemptedRequests, [], 'no request reaches the network layer');
    const blocked = observed.console.filter((line) => line.includes("Loading the image 'https://attacker.example/x.png' violates"));
    assert.ok(blocked.length > 0, 'the policy reports the blocked image');
  });
});

test('framed document styles apply and copy refusal disables selection', async () => {
  await withPage(async ({ page }) => {
    await openDocument(page, { text: '# Title\n\nBody text.', mediaType: 'text/markdown', rights: RIGHTS.viewOnly });
    const frame = await documentFrame(page);
    const style = await frame.locator('body').evaluate((body) => ({ userSelect: getComputedStyle(body).userSelect, maxWidth: getComputedStyle(body).maxWidth }));
    assert.equal(style.userSelect, 'none');
    assert.notEqual(style.maxWidth, 'none', 'the frame style sheet applies');
  });
});

test('html document is sanitized the same way', async () => {
  await withPage(async ({ page }) => {
    const html = '<!doctype html><html><head><title>t</title><style>body{display:none}</style></head><body><h2>Report</h2><a href="javascript:alert(1)">bad</a><a href="https://example.org/">good</a><form action="https://attacker.example/"><input name="q"></form></body></html>';
    const result = await openDocument(page, { text: html, mediaType: 'text/html', rights: RIGHTS.everything });
    assert.equal(result.kind, 'html');
    const frame = await documentFrame(page);
    assert.equal(await frame.locator('h2').textContent(), 'Report');
    assert.deepEqual(await frame.locator('a').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('href'))), [null, 'https://example.org/']);
    assert.equal(await frame.locator('body form, body input, body style').count(), 0);
  });
});
