// A package whose rights require access events does not open when its
// event cannot be queued: without the reader's signing key, or with the
// outbox full. The portal says why and what to do; a package that does not
// require events still opens, and its activity entry says it was not
// reported.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newPage, waitForPortal } from '../lib/browser.mjs';
import { importIdentity } from '../lib/demo.mjs';
import { fillOutbox, importIdentityWithSigningKey, openDemoPackage, storedEvents, useEventsDemo, waitForWaiting } from './support.mjs';

/** The outbox bound of www/src/events/outbox.js. */
const MAX_QUEUED = 5000;

const session = useEventsDemo();

async function openAnother(page) {
  await page.locator('#screen-refused').getByRole('button', { name: 'Open another package' }).click();
}

test('no signing key: required package refused', async () => {
  const { context, page } = await newPage(session.browser);
  await page.goto(session.demo.portal.url);
  await waitForPortal(page);
  await importIdentity(page, session.demo.dir, 'alice');
  await page.locator('#screen-open').waitFor({ state: 'visible' });

  assert.equal(await openDemoPackage(page, session.demo, 'misp-event.tdf'), 'refused');
  const refusal = await page.locator('#screen-refused').innerText();
  assert.match(refusal, /without its signing key/);
  assert.match(refusal, /NAME\.sign\.key\.pem/);
  assert.match(await page.locator('#screen-refused .next-step').innerText(), /^Next step: Unlock it again from its files, this time with its signing key file/);
  assert.doesNotMatch(refusal, /Try again, or ask the originator/, 'no generic next step contradicts it');
  assert.equal(await page.locator('#document-content').count(), 0, 'nothing of the document is shown');

  await openAnother(page);
  assert.equal(await openDemoPackage(page, session.demo, 'apt1-stix.tdf'), 'document');
  const entry = page.locator('#activity-list li[data-type="opened"]');
  assert.equal(await entry.getAttribute('data-delivery'), 'failed');
  assert.match(await entry.innerText(), /not reported to the originator/);
  assert.equal(await page.locator('#outbox').getAttribute('data-waiting'), '0');
  assert.deepEqual(storedEvents(session.demo.db), []);
  await context.close();
});

test('full outbox: required package refused', async () => {
  const { context, page } = await newPage(session.browser);
  await page.goto(session.demo.portal.url);
  await waitForPortal(page);
  await importIdentityWithSigningKey(page, session.demo.dir, 'alice');
  // Once online, so the renderer modules are loaded before the network goes.
  assert.equal(await openDemoPackage(page, session.demo, 'apt1-stix.tdf'), 'document');
  await page.getByRole('button', { name: 'Close this document' }).click();
  await waitForWaiting(page, 0);

  // Offline, so the filler stays queued instead of being sent.
  await context.setOffline(true);
  await fillOutbox(page, session.demo.collector.eventsUrl, MAX_QUEUED);
  await waitForWaiting(page, MAX_QUEUED);

  assert.equal(await openDemoPackage(page, session.demo, 'misp-event.tdf'), 'refused');
  const refusal = await page.locator('#screen-refused').innerText();
  assert.match(refusal, /queue of this browser is full \(5000 events wait to be sent\)/);
  assert.match(refusal, /Connect to the network/);

  await openAnother(page);
  assert.equal(await openDemoPackage(page, session.demo, 'apt1-stix.tdf'), 'document');
  assert.equal(await page.locator('#activity-list li[data-type="opened"]').first().getAttribute('data-delivery'), 'failed');
  assert.equal(await page.locator('#outbox').getAttribute('data-waiting'), String(MAX_QUEUED), 'nothing was queued past the bound');
  assert.equal(storedEvents(session.demo.db).length, 1, 'only the open before the queue filled was stored');
  await context.close();
});
