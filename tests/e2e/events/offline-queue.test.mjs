// With the browser offline, the portal still opens packages and queues
// their access events, a package whose rights require events included. The
// queue survives a reload (the outbox view shows it), and once the browser
// is back online every event reaches the real collector exactly once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newPage, waitForPortal } from '../lib/browser.mjs';
import { importIdentityWithSigningKey, openDemoPackage, queuedEvents, storedEvents, useEventsDemo, waitForWaiting } from './support.mjs';

const session = useEventsDemo();

test('offline events queue, survive a reload, arrive once', async () => {
  const required = session.demo.manifest.packages.find((pkg) => pkg.eventsRequired);
  assert.equal(required?.file, 'misp-event.tdf', 'the demo has a package that requires events');

  const { context, page, cspViolations } = await newPage(session.browser);
  await page.goto(session.demo.portal.url);
  await waitForPortal(page);
  // The portal comes from the service worker's cache from here on.
  await page.waitForFunction(() => document.documentElement.dataset.offlineReady === 'true', null, { timeout: 30_000 });
  await context.setOffline(true);
  await page.reload();
  await waitForPortal(page);
  await importIdentityWithSigningKey(page, session.demo.dir, 'alice');

  assert.equal(await openDemoPackage(page, session.demo, 'apt1-stix.tdf'), 'document');
  await page.getByRole('button', { name: 'Close this document' }).click();
  assert.equal(await openDemoPackage(page, session.demo, required.file), 'document', 'a package that requires events opens once its event is queued');
  await waitForWaiting(page, 2);
  await page.locator('#outbox-error').filter({ hasText: /network failure/ }).waitFor({ timeout: 30_000 });
  const queued = await queuedEvents(page);
  assert.deepEqual(queued.map((event) => event.type), ['org.valise.access.opened', 'org.valise.access.opened']);
  assert.deepEqual(storedEvents(session.demo.db), [], 'nothing reached the collector while offline');

  await page.reload();
  await waitForPortal(page);
  await waitForWaiting(page, 2);
  assert.match(await page.locator('#outbox-summary').textContent(), /2 access events waiting/);
  assert.match(await page.locator('#outbox-list').textContent(), new RegExp(`2 to ${session.demo.collector.eventsUrl.replaceAll('.', '\\.')}`));
  assert.deepEqual(await queuedEvents(page), queued, 'the reload kept the same events');

  // The outbox view is a labelled region whose button works from the keyboard.
  const outbox = page.getByRole('region', { name: 'Outbox' });
  assert.equal(await outbox.count(), 1);
  await outbox.getByRole('button', { name: 'Send now' }).focus();
  await page.keyboard.press('Enter');
  await page.locator('#outbox-error').filter({ hasText: /network failure/ }).waitFor();
  await waitForWaiting(page, 2);

  await context.setOffline(false);
  await waitForWaiting(page, 0);
  const stored = storedEvents(session.demo.db);
  assert.deepEqual(stored.map((event) => event.id).sort(), queued.map((event) => event.id).sort(), 'each queued event is stored once');
  assert.deepEqual(stored.map((event) => event.chain), ['first', 'linked']);
  assert.deepEqual(cspViolations, []);
  await context.close();
});
