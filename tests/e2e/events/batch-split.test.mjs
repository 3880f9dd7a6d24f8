// A collector that takes fewer events per request than the portal sends
// (`--max-batch 3`, the portal sends up to 100) responds to a longer
// batch with 413. The portal's outbox splits the batch and sends the
// parts, so every queued event is stored and none is dropped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newPage, waitForPortal } from '../lib/browser.mjs';
import { importIdentityWithSigningKey, openDemoPackage, storedEvents, useEventsDemo, waitForWaiting } from './support.mjs';

const session = useEventsDemo({ collectorArgs: ['--max-batch', '3'] });

/** Returns to the open screen from the document or refused screen. */
async function back(page) {
  const screen = await page.evaluate(() => document.body.dataset.screen);
  const name = screen === 'document' ? 'Close this document' : 'Open another package';
  await page.locator(`#screen-${screen}`).getByRole('button', { name }).click();
  await page.locator('#screen-open').waitFor({ state: 'visible' });
}

test('outbox splits batches over --max-batch', async () => {
  const { context, page, errors } = await newPage(session.browser);
  await page.goto(session.demo.portal.url);
  await waitForPortal(page);
  await importIdentityWithSigningKey(page, session.demo.dir, 'alice');

  // With the collector stopped, five events wait in one queue.
  await session.demo.collector.close();
  const files = ['apt1-stix.tdf', 'advisory.tdf', 'advisory-expired.tdf', 'misp-event.tdf', 'indicators.tdf'];
  for (const file of files) {
    assert.notEqual(await openDemoPackage(page, session.demo, file), 'fatal', file);
    await back(page);
  }
  await waitForWaiting(page, files.length);

  await session.demo.restartCollector();
  await page.getByRole('region', { name: 'Outbox' }).getByRole('button', { name: 'Send now' }).click();
  await waitForWaiting(page, 0);

  const stored = storedEvents(session.demo.db);
  assert.equal(stored.length, files.length, `every queued event is stored: ${stored.map((event) => event.kind).join(', ')}`);
  assert.deepEqual(stored.map((event) => event.seq).sort((a, b) => a - b), [1, 2, 3, 4, 5]);
  for (const event of stored) {
    assert.notEqual(event.chain, 'gap', `event ${event.seq} arrived after the one before it`);
  }
  assert.equal(await page.locator('#outbox-error').isHidden(), true, 'no delivery error is shown');
  assert.match(session.demo.collector.stderr(), /batch_too_large/, 'the collector answered the first batch with 413');
  assert.deepEqual(errors.filter((text) => !text.startsWith('Failed to load resource')), []);
  await context.close();
});
