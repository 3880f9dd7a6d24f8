// Two people use one browser profile in turn (alice, lock, bob). Each
// reader's events form a chain of their own that starts at seq 1, so the
// real collector (`valise collector serve`, SQLite, 127.0.0.1) flags no gap.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { newPage, waitForPortal } from '../lib/browser.mjs';
import { openPackageFile } from '../lib/demo.mjs';
import { importIdentityWithSigningKey, outcomeOf, storedEvents, useEventsDemo, waitForWaiting } from './support.mjs';

const session = useEventsDemo();

/** Opens a demo package through the file picker, then closes it. */
async function openAndClose(page, file) {
  await page.locator('#screen-open').waitFor({ state: 'visible' });
  await openPackageFile(page, join(session.demo.dir, 'packages', file));
  assert.equal(await outcomeOf(page), 'document', file);
  await page.locator('#activity-list li[data-type="opened"][data-delivery="queued"]').last().waitFor();
  await page.locator('#screen-document').getByRole('button', { name: 'Close this document' }).click();
  await page.locator('#screen-open').waitFor({ state: 'visible' });
}

test('each reader of a profile has its own chain', async () => {
  const { page, errors } = await newPage(session.browser);
  await page.goto(session.demo.portal.url);
  await waitForPortal(page);

  await importIdentityWithSigningKey(page, session.demo.dir, 'alice');
  await openAndClose(page, 'apt1-stix.tdf');
  await openAndClose(page, 'advisory.tdf');
  await waitForWaiting(page, 0);
  await page.locator('#lock-identity').click();

  // Wait for the identity screen to be drawn anew, so the files go into
  // its fresh form and not into the hidden one of the first import.
  await page.locator('#choose-identity').click();
  await page.locator('#screen-identity').waitFor({ state: 'visible' });
  await importIdentityWithSigningKey(page, session.demo.dir, 'bob');
  await openAndClose(page, 'advisory.tdf');
  await waitForWaiting(page, 0);

  const stored = storedEvents(session.demo.db);
  const byPerson = (person) => stored.filter((event) => event.readerPerson === person);
  const alice = byPerson('alice');
  const bob = byPerson('bob');
  assert.deepEqual(alice.map((event) => event.seq), [1, 2], JSON.stringify(alice));
  assert.deepEqual(bob.map((event) => event.seq), [1], JSON.stringify(bob));
  assert.deepEqual(alice.map((event) => event.chain), ['first', 'linked']);
  assert.deepEqual(bob.map((event) => event.chain), ['first']);
  // Both readers sign under the profile's one agent id, as separate sources.
  const agents = new Set(stored.map((event) => event.source.split('/').at(-1)));
  assert.equal(agents.size, 1, [...agents].join(', '));
  assert.deepEqual(errors.filter((text) => !text.startsWith('Failed to load resource')), []);
});
