// Opening demo packages in the portal delivers signed access events to a
// real collector (`valise collector serve`, SQLite, 127.0.0.1): a permitted
// open, a refusal of an expired package and a blocked print. The collector
// verifies and stores them, and `valise events report` lists them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newPage, waitForPortal } from '../lib/browser.mjs';
import { eventsReport, importIdentityWithSigningKey, openDemoPackage, storedEvents, useEventsDemo, waitForWaiting } from './support.mjs';

const session = useEventsDemo();

/** Returns to the open screen from the document or refused screen. */
async function back(page) {
  const screen = await page.evaluate(() => document.body.dataset.screen);
  const name = screen === 'document' ? 'Close this document' : 'Open another package';
  await page.locator(`#screen-${screen}`).getByRole('button', { name }).click();
  await page.locator('#screen-open').waitFor({ state: 'visible' });
}

test('opened, denied and print_blocked reach the collector', async () => {
  const { context, page, cspViolations, errors } = await newPage(session.browser);
  const response = await page.goto(session.demo.portal.url);
  assert.match(response.headers()['content-security-policy'], new RegExp(`connect-src 'self' ${session.demo.collector.url.replaceAll('.', '\\.')}`));
  await waitForPortal(page);
  await importIdentityWithSigningKey(page, session.demo.dir, 'alice');

  assert.equal(await openDemoPackage(page, session.demo, 'apt1-stix.tdf'), 'document');
  await page.locator('#activity-list li[data-type="opened"][data-delivery="queued"]').waitFor();
  await back(page);

  assert.equal(await openDemoPackage(page, session.demo, 'advisory-expired.tdf'), 'refused');
  await page.locator('#activity-list li[data-type="denied"][data-delivery="queued"]').waitFor();
  await back(page);

  assert.equal(await openDemoPackage(page, session.demo, 'advisory.tdf'), 'document');
  await page.locator('#document-content').click();
  await page.keyboard.press('Control+p');
  await page.locator('#activity-list li[data-type="print_blocked"][data-delivery="queued"]').first().waitFor();

  await waitForWaiting(page, 0);
  assert.equal(await page.locator('#outbox-error').isHidden(), true, 'no delivery error is shown');

  const stored = storedEvents(session.demo.db);
  const kinds = stored.map((event) => `${event.kind} ${event.subject}`);
  assert.equal(stored.filter((event) => event.kind === 'opened').length, 2, `two opened events: ${kinds.join('; ')}`);
  const denied = stored.filter((event) => event.kind === 'denied');
  assert.equal(denied.length, 1, `one denied event: ${kinds.join('; ')}`);
  assert.deepEqual(denied[0].reasons, ['expired']);
  assert.equal(denied[0].decision, 'deny');
  const blocked = stored.filter((event) => event.kind === 'print_blocked');
  assert.ok(blocked.length >= 1, `a print_blocked event: ${kinds.join('; ')}`);
  assert.deepEqual(blocked[0].reasons, ['print_not_allowed']);
  for (const event of stored) {
    assert.equal(event.readerOrg, 'alpha-cert');
    assert.equal(event.readerPerson, 'alice');
    assert.notEqual(event.chain, 'gap', `event ${event.seq} follows the one before it`);
    assert.notEqual(event.chain, 'broken', `event ${event.seq} follows the one before it`);
    assert.notEqual(event.chain, 'fork', `event ${event.seq} has its own sequence number`);
    assert.match(event.source, /^valise:\/\/.+\/alpha-cert\/alice\/web-[0-9a-f]{12}$/);
  }
  assert.deepEqual(stored.map((event) => event.seq).sort((a, b) => a - b), stored.map((_, index) => index + 1));

  const report = eventsReport(session.demo.db);
  assert.match(report, /Access events for all packages: \d+ events/);
  for (const kind of ['opened', 'denied', 'print_blocked']) {
    assert.match(report, new RegExp(`alpha-cert/alice\\s+${kind}\\s`), `the report lists ${kind}`);
  }
  assert.match(report, /expired x1/, 'the report counts the refusal reason');

  assert.deepEqual(cspViolations, []);
  assert.deepEqual(errors.filter((text) => !text.startsWith('Failed to load resource')), []);
  await context.close();
});
