// A wrong passphrase is reported on the identity screen as such, the
// identity stays locked, and the right one unlocks it afterwards.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { importIdentity } from './lib/demo.mjs';
import { usePortal } from './lib/portal-session.mjs';

const { dir, openPortal } = usePortal();

test('wrong passphrase keeps identity locked', async () => {
  const { context, page } = await openPortal();

  await importIdentity(page, dir, 'alice', { passphrase: 'not the passphrase' });
  const error = page.locator('#import-identity .form-error');
  await error.filter({ hasText: /\S/ }).waitFor();
  assert.match(await error.innerText(), /passphrase is wrong/i);
  assert.equal(await page.locator('#lock-identity').count(), 0, 'no identity is unlocked');

  await importIdentity(page, dir, 'alice');
  await page.locator('#lock-identity').waitFor();
  assert.match(await page.locator('#identity-name').innerText(), /Alice/);
  await context.close();
});
