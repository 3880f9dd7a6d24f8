// A key file paired with another person's credential is rejected with a
// message that says the two do not belong together; nothing is unlocked.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEMO_PASSPHRASE } from './lib/demo.mjs';
import { usePortal } from './lib/portal-session.mjs';

const { dir, openPortal } = usePortal();

test('credential of another person is rejected', async () => {
  const { context, page } = await openPortal();
  await page.locator('#choose-identity').click();
  await page.locator('#key-file').setInputFiles(join(dir, 'identities', 'alice.key.pem'));
  await page.locator('#credential-file').setInputFiles(join(dir, 'identities', 'bob.credential.jws'));
  await page.locator('#passphrase').fill(DEMO_PASSPHRASE);
  await page.locator('#import-identity button[type="submit"]').click();

  const error = page.locator('#import-identity .form-error');
  await error.filter({ hasText: /\S/ }).waitFor();
  assert.match(await error.innerText(), /credential was issued for another key/i);
  assert.equal(await page.locator('#lock-identity').count(), 0, 'no identity is unlocked');
  await context.close();
});
