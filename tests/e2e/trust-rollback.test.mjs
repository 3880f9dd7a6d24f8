// A portal that serves an older trust list than this browser has seen: the
// open screen warns at once, before any package is rejected for it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitForPortal } from './lib/browser.mjs';
import { usePortal } from './lib/portal-session.mjs';

const { openPortal } = usePortal();

/** Raises the highest trust list version this browser recorded by one; returns it. */
function recordNewerVersion(page) {
  return page.evaluate(async () => {
    const { recordCommunityState } = await import('/src/store.js');
    const database = await new Promise((resolve, reject) => {
      const request = indexedDB.open('valise');
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const [state] = await new Promise((resolve, reject) => {
      const request = database.transaction('communityState').objectStore('communityState').getAll();
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    database.close();
    const newer = state.highestTrustVersion + 1;
    await recordCommunityState(state.community, { trustVersion: newer, seenAt: new Date().toISOString() });
    return newer;
  });
}

test('open screen warns of older trust list', async () => {
  const { context, page } = await openPortal();
  assert.equal(await page.locator('#trust-rollback').count(), 0, 'no warning for the list this browser saw');
  const newer = await recordNewerVersion(page);

  await page.reload();
  await waitForPortal(page);
  const warning = await page.locator('#trust-rollback').innerText();
  assert.match(warning, new RegExp(`serves version ${newer - 1} of the community trust list, but this browser has already seen version ${newer}`));
  assert.match(warning, /every package will be refused/);
  await context.close();
});
