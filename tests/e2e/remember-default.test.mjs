// "Remember this identity" starts unticked: unlocking an identity without
// ticking it stores nothing in IndexedDB, because remembering writes the
// encrypted key to the device and must be the person's explicit choice.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEMO_PASSPHRASE } from './lib/demo.mjs';
import { usePortal } from './lib/portal-session.mjs';

const { dir, openPortal } = usePortal();

test('remember identity is off by default', async () => {
  const { context, page } = await openPortal();
  await page.locator('#choose-identity').click();
  const remember = page.getByLabel('Remember this identity on this device (stored encrypted)');
  assert.equal(await remember.isChecked(), false, 'the checkbox starts unticked');

  // Unlock without touching the checkbox.
  await page.locator('#key-file').setInputFiles(join(dir, 'identities', 'bob.key.pem'));
  await page.locator('#credential-file').setInputFiles(join(dir, 'identities', 'bob.credential.jws'));
  await page.locator('#passphrase').fill(DEMO_PASSPHRASE);
  await page.locator('#import-identity button[type="submit"]').click();
  await page.locator('#lock-identity').waitFor();

  const stored = await page.evaluate(async () => (await import('/src/store.js')).listIdentities());
  assert.deepEqual(stored, [], 'nothing is stored on the device');

  await page.locator('#lock-identity').click();
  await page.locator('#choose-identity').click();
  await page.locator('#import-identity').waitFor();
  assert.equal(await page.locator('form.unlock-remembered').count(), 0, 'no remembered identity is offered');
  await context.close();
});
