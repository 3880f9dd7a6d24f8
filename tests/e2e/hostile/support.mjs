// Shared checks of the hostile-content scenarios: after a hostile document
// renders, no script ran (the page flag stays unset and no dialog opened), no
// request left the test server, nothing printed, and the sanitized frame holds
// nothing executable.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOCUMENTS } from '../render/support.mjs';

export { RIGHTS, openDocument, withPage } from '../render/support.mjs';

/** Reads a test document as text. */
export function readDocument(path) {
  return readFileSync(join(DOCUMENTS, path), 'utf8');
}

/**
 * Rewrites the payloads' own alert/confirm/prompt calls so that a payload
 * that runs also sets `__pwned` on its window and on the top window.
 */
export function armPayload(text) {
  return text.replace(/\b(alert|confirm|prompt)\s*\(/g, '(self.__pwned=true,top.__pwned=true,$1)(');
}

/** Returns the markdown-it XSS cases: the input between the first two "." lines of each. */
export function markdownItCases() {
  const cases = [];
  let dots = 0;
  let input = [];
  for (const line of readDocument('hostile/markdown/xss.txt').split('\n')) {
    if (line === '.') {
      dots = (dots + 1) % 3;
      if (dots === 2) {
        cases.push(input.join('\n'));
        input = [];
      }
    } else if (dots === 1) {
      input.push(line);
    }
  }
  return cases;
}

/** Returns the DOMPurify payloads with their titles. */
export function dompurifyPayloads() {
  return JSON.parse(readDocument('hostile/xss/dompurify_expect.derived.json')).map(({ title, payload }) => ({ title, payload }));
}

/** Waits for late effects (timers, error handlers, meta refresh) to have had their chance. */
export async function settle(page, milliseconds = 1500) {
  await page.waitForTimeout(milliseconds);
}

/** Asserts that nothing a hostile document could do happened. */
export async function assertNothingRan(page, observed, label) {
  assert.equal(await page.evaluate(() => window.__pwned), false, `${label}: a script set the flag`);
  assert.deepEqual(observed.dialogs, [], `${label}: a dialog opened`);
  assert.deepEqual(observed.foreignRequests, [], `${label}: a request left the test server`);
  assert.deepEqual(observed.popups, [], `${label}: a window opened`);
  assert.equal(await page.evaluate(() => window.__printCalls), 0, `${label}: window.print ran`);
  assert.equal(await page.evaluate(() => window.__beforePrint), 0, `${label}: a print started`);
}

/**
 * Asserts the sanitized frame contains no script, no event handler attribute,
 * no script URL and no element that loads content; the frame stays on its
 * srcdoc document.
 */
export async function assertFrameInert(page, label) {
  const frameCount = await page.evaluate(() => document.querySelectorAll('iframe').length);
  assert.equal(frameCount, 1, `${label}: expected the one document frame, found ${frameCount}`);
  const frame = await (await page.locator('#content iframe.valise-frame').elementHandle()).contentFrame();
  assert.equal(await frame.evaluate(() => location.href), 'about:srcdoc', `${label}: the frame navigated away`);
  const findings = await frame.evaluate(() => {
    const found = [];
    for (const node of document.body.querySelectorAll('*')) {
      const name = node.localName;
      if (['script', 'iframe', 'frame', 'object', 'embed', 'img', 'svg', 'math', 'form', 'input', 'link', 'meta', 'base', 'style', 'video', 'audio', 'source'].includes(name)) {
        found.push(`element ${name}`);
      }
      for (const attribute of node.attributes) {
        const value = attribute.value.trim().toLowerCase();
        if (attribute.name.startsWith('on') || attribute.name === 'style' || attribute.name === 'src' || attribute.name === 'srcset') {
          found.push(`attribute ${attribute.name} on ${name}`);
        }
        if (attribute.name === 'href' && !/^(https?|mailto):/.test(value)) {
          found.push(`href ${value} on ${name}`);
        }
      }
    }
    return found;
  });
  assert.deepEqual(findings, [], `${label}: the sanitized document holds active content`);
}
