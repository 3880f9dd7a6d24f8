// The identity screen rejects a key file, signing key file or credential
// larger than 64 KiB (the core's limit for each) before reading it, and
// names the file and the limit.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEMO_PASSPHRASE } from './lib/demo.mjs';
import { usePortal } from './lib/portal-session.mjs';

const { dir, openPortal } = usePortal();
const scratch = mkdtempSync(join(tmpdir(), 'valise-identity-size-'));
const LIMIT = 64 * 1024;
const TOO_LARGE = join(scratch, 'too-large.key.pem');
writeFileSync(TOO_LARGE, Buffer.alloc(LIMIT + 1, 0x41));
const AT_LIMIT = join(scratch, 'at-limit.key.pem');
writeFileSync(AT_LIMIT, Buffer.alloc(LIMIT, 0x41));

/**
 * Opens the identity screen with the Blob reading methods wrapped, so
 * `window.readNames` lists the name of every file the page reads.
 */
async function openIdentityScreen() {
  const session = await openPortal();
  await session.page.evaluate(() => {
    window.readNames = [];
    for (const method of ['text', 'arrayBuffer', 'stream', 'bytes']) {
      const native = Blob.prototype[method];
      if (!native) continue;
      Blob.prototype[method] = function read(...args) {
        window.readNames.push(this.name ?? '(blob)');
        return native.apply(this, args);
      };
    }
  });
  if (await session.page.locator('#screen-identity').isHidden()) {
    await session.page.locator('#choose-identity').click();
  }
  return session;
}

/** Fills the import form with alice's files, `overrides` replacing some, and submits it. */
async function submitImport(page, overrides) {
  const files = {
    '#key-file': join(dir, 'identities', 'alice.key.pem'),
    '#credential-file': join(dir, 'identities', 'alice.credential.jws'),
    ...overrides,
  };
  for (const [selector, path] of Object.entries(files)) {
    await page.locator(selector).setInputFiles(path);
  }
  await page.locator('#passphrase').fill(DEMO_PASSPHRASE);
  await page.locator('#import-identity button[type="submit"]').click();
  const error = page.locator('#import-identity .form-error');
  await error.filter({ hasText: /\S/ }).waitFor();
  return error.innerText();
}

for (const [field, selector, what] of [
  ['key file', '#key-file', 'key file'],
  ['signing key file', '#sign-key-file', 'signing key file'],
  ['credential', '#credential-file', 'credential'],
]) {
  test(`oversized ${field} rejected unread`, async () => {
    const { context, page } = await openIdentityScreen();
    const message = await submitImport(page, { [selector]: TOO_LARGE });
    assert.match(message, new RegExp(`^The ${what} "too-large\\.key\\.pem" is too large: ${LIMIT + 1} bytes`));
    assert.match(message, /limit of 64 KiB \(65536 bytes\)/);
    const readNames = await page.evaluate(() => window.readNames);
    assert.ok(!readNames.includes('too-large.key.pem'), `the oversized file was read: ${readNames.join(', ')}`);
    assert.equal(await page.locator('#lock-identity').count(), 0, 'no identity is unlocked');
    await context.close();
  });
}

test('key file at the limit is read', async () => {
  const { context, page } = await openIdentityScreen();
  const message = await submitImport(page, { '#key-file': AT_LIMIT });
  assert.doesNotMatch(message, /64 KiB/);
  assert.ok((await page.evaluate(() => window.readNames)).includes('at-limit.key.pem'));
  await context.close();
});
