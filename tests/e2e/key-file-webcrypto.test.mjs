// Key files decrypted with WebCrypto (www/src/core.js and KeyFile in the
// module): files that OpenSSL 3 wrote with other PBKDF2 hashes unlock,
// scrypt files and pages without crypto.subtle are rejected with a message
// that gives the fix. Needs the `openssl` command line (OpenSSL 3).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launchBrowser, newPage, waitForPortal } from './lib/browser.mjs';
import { demoCommunity } from './lib/demo.mjs';
import { startPortal } from './lib/server.mjs';

const { dir, manifest } = demoCommunity();
const scratch = mkdtempSync(join(tmpdir(), 'valise-key-file-'));
let portal;
let browser;
let session;

/** Re-encrypts Alice's key file with `openssl pkcs8` and the given options, and returns the PEM. */
function reencrypt(name, options) {
  const out = join(scratch, `${name}.pem`);
  const passphrase = `pass:${manifest.passphrase}`;
  execFileSync('openssl', [
    'pkcs8', '-topk8', '-in', join(dir, 'identities', 'alice.key.pem'), '-passin', passphrase,
    ...options, '-passout', passphrase, '-out', out,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  return readFileSync(out, 'utf8');
}

before(async () => {
  portal = await startPortal({ demoDir: dir });
  browser = await launchBrowser();
  session = await newPage(browser);
  await session.page.goto(portal.url);
  await waitForPortal(session.page);
});

after(async () => {
  await session?.context.close();
  await browser?.close();
  await portal?.close();
});

/**
 * Unlocks `keyPem` with Alice's credential through core.js in the page.
 * Returns `{ person }` on success or `{ error, message }` on failure.
 * `withoutSubtle` hides crypto.subtle first, as on a page served over
 * plain HTTP.
 */
function unlockInPage(keyPem, { passphrase = manifest.passphrase, withoutSubtle = false } = {}) {
  return session.page.evaluate(
    async ({ trustText, rootFingerprint, keyPem, credential, passphrase, withoutSubtle }) => {
      const core = await import('/src/core.js');
      await core.loadCore();
      const trustList = core.TrustList.verify(trustText, { rootKeyFingerprints: [rootFingerprint] });
      if (withoutSubtle) {
        Object.defineProperty(globalThis.crypto, 'subtle', { value: undefined, configurable: true });
      }
      try {
        const identity = await core.Identity.unlock({ keyPem, passphrase, credential, trustList });
        const { person } = identity.summary;
        identity.lock();
        return { person };
      } catch (error) {
        return { error: error.name, message: error.message };
      } finally {
        delete globalThis.crypto.subtle;
      }
    },
    {
      trustText: readFileSync(join(dir, 'community', 'trust.json'), 'utf8'),
      rootFingerprint: manifest.rootFingerprint,
      keyPem,
      credential: readFileSync(join(dir, 'identities', 'alice.credential.jws'), 'utf8').trim(),
      passphrase,
      withoutSubtle,
    },
  );
}

test('key files with PBKDF2-HMAC-SHA-1, SHA-384 and SHA-512 unlock', async () => {
  const cases = [
    ['sha1', ['-v2', 'aes-256-cbc', '-v2prf', 'hmacWithSHA1']],
    ['sha384', ['-v2', 'aes-128-cbc', '-v2prf', 'hmacWithSHA384']],
    ['sha512', ['-v2', 'aes-256-cbc', '-v2prf', 'hmacWithSHA512', '-iter', '100000']],
  ];
  for (const [name, options] of cases) {
    const result = await unlockInPage(reencrypt(name, options));
    assert.deepEqual(result, { person: 'alice' }, name);
  }
});

test('wrong passphrase on a SHA-512 key file', async () => {
  const keyPem = reencrypt('sha512-wrong', ['-v2', 'aes-256-cbc', '-v2prf', 'hmacWithSHA512']);
  const result = await unlockInPage(keyPem, { passphrase: 'not the passphrase' });
  assert.equal(result.error, 'PassphraseError', result.message);
});

test('scrypt key file rejected with the fix', async () => {
  const result = await unlockInPage(reencrypt('scrypt', ['-scrypt']));
  assert.equal(result.error, 'UnsupportedError', result.message);
  assert.match(result.message, /scrypt/);
  assert.match(result.message, /openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256/);
});

test('SHA-224 key file rejected with the fix', async () => {
  const result = await unlockInPage(reencrypt('sha224', ['-v2', 'aes-256-cbc', '-v2prf', 'hmacWithSHA224']));
  assert.equal(result.error, 'UnsupportedError', result.message);
  assert.match(result.message, /SHA-224/);
  assert.match(result.message, /hmacWithSHA256/);
});

test('page without crypto.subtle needs HTTPS', async () => {
  const keyPem = readFileSync(join(dir, 'identities', 'alice.key.pem'), 'utf8');
  const result = await unlockInPage(keyPem, { withoutSubtle: true });
  assert.equal(result.error, 'UnsupportedError', result.message);
  assert.match(result.message, /HTTPS or from localhost/);
});

test('AES-192 key file rejected in Chromium', async () => {
  // Chromium 156 rejects 192-bit AES keys, so deriveKey fails.
  const result = await unlockInPage(reencrypt('aes192', ['-v2', 'aes-192-cbc', '-v2prf', 'hmacWithSHA256']));
  assert.equal(result.error, 'UnsupportedError', result.message);
  assert.match(result.message, /AES-192/);
  assert.match(result.message, /aes-256-cbc/);
});
