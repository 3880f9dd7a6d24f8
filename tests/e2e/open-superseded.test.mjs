// A second open supersedes one still decrypting. The large package that
// streams through the decryption workers is abandoned, and neither its
// document nor its late integrity failure replaces the package the reader
// opened after it. A file picked while an earlier pick is still being read
// wins over that one as well.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launchBrowser, newPage, waitForPortal } from './lib/browser.mjs';
import { demoCommunity, importIdentity, openPackageFile, sealForAlice, waitForOutcome } from './lib/demo.mjs';
import { startPortal } from './lib/server.mjs';

const { dir, manifest } = demoCommunity();
const scratch = mkdtempSync(join(tmpdir(), 'valise-superseded-'));
/** Plaintext bytes per segment; AES-GCM adds a 12-byte IV and a 16-byte tag to each. */
const SEGMENT_SIZE = 2 * 1024 * 1024;
const SEGMENT_OVERHEAD = 28;
const LARGE_SIZE = 24 * 1024 * 1024;
let portal;
let browser;

/** Seals `bytes` for Alice as `name` and returns the package path. */
function sealBytes(name, bytes, mediaType) {
  const input = join(scratch, `${name}.bin`);
  writeFileSync(input, bytes);
  const output = join(scratch, `${name}.tdf`);
  sealForAlice(dir, manifest.passphrase, input, output, [
    '--label', 'TLP:GREEN',
    '--media-type', mediaType,
    '--segment-size', String(SEGMENT_SIZE),
  ]);
  return output;
}

/** Writes a copy of the large package with one ciphertext byte flipped in its last segment. */
function tamperedCopy(path) {
  const bytes = new Uint8Array(readFileSync(path));
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  // The payload is the first ZIP entry, stored: its data follows the local
  // header (30 bytes), the file name and the extra field.
  const dataStart = 30 + view.getUint16(26, true) + view.getUint16(28, true);
  const lastSegment = LARGE_SIZE / SEGMENT_SIZE - 1;
  bytes[dataStart + lastSegment * (SEGMENT_SIZE + SEGMENT_OVERHEAD) + 12 + 1000] ^= 0x01;
  const copy = path.replace(/\.tdf$/, '-tampered.tdf');
  writeFileSync(copy, bytes);
  return copy;
}

let large;
let tampered;
let small;

before(async () => {
  // 24 MiB streams through the workers (8 MiB and more) for long enough
  // that the second open starts while it is still decrypting.
  large = sealBytes('large', randomBytes(LARGE_SIZE), 'application/octet-stream');
  tampered = tamperedCopy(large);
  small = sealBytes('note', Buffer.from('A short advisory note for the superseded-open test.\n'), 'text/plain');
  portal = await startPortal({ demoDir: dir });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await portal?.close();
});

/**
 * Installed before the portal loads: the decryption workers' segments and
 * errors wait until `window.releaseStreams()`, so the first open can neither
 * finish nor fail before the second one starts.
 */
function holdStreams() {
  const NativeWorker = window.Worker;
  const held = [];
  let released = false;
  window.releaseStreams = () => {
    released = true;
    for (const deliver of held.splice(0)) deliver();
  };
  window.Worker = class extends NativeWorker {
    constructor(url, options) {
      super(url, options);
      if (options?.name !== 'valise-open') return;
      const nativeAdd = this.addEventListener.bind(this);
      this.addEventListener = (type, listener, listenerOptions) => {
        if (type !== 'message') {
          nativeAdd(type, listener, listenerOptions);
          return;
        }
        nativeAdd('message', (event) => {
          const type = event.data?.type;
          if (!released && (type === 'segment' || type === 'error')) {
            held.push(() => listener(event));
          } else {
            listener(event);
          }
        });
      };
    }
  };
}

/**
 * Opens `first`, then `second` once the first one's progress bar shows, and
 * waits for the second one's document before the first stream may go on.
 */
async function openTwo(first, second) {
  const session = await newPage(browser, { viewport: { width: 1200, height: 800 } });
  await session.page.addInitScript(holdStreams);
  await session.page.goto(portal.url);
  await waitForPortal(session.page);
  await importIdentity(session.page, dir, 'alice');
  await session.page.locator('#lock-identity').waitFor();
  await openPackageFile(session.page, first);
  await session.page.locator('.open-progress').waitFor({ timeout: 30_000 });
  await openPackageFile(session.page, second);
  assert.equal(await waitForOutcome(session.page), 'document');
  await session.page.evaluate(() => window.releaseStreams());
  return session;
}

/** Waits until no progress bar is left, so the first open has settled. */
async function firstOpenSettled(page) {
  await page.waitForFunction(() => document.querySelector('.open-progress') === null, null, { timeout: 60_000, polling: 100 });
  // The abandoned open's last steps run right after its progress bar goes.
  await page.waitForTimeout(1000);
}

test('second open replaces a streaming one', async () => {
  const { context, page, errors } = await openTwo(large, small);
  await firstOpenSettled(page);

  assert.equal(await page.evaluate(() => document.body.dataset.screen), 'document');
  assert.match(await page.locator('#screen-document').innerText(), /A short advisory note/);
  assert.doesNotMatch(await page.locator('#screen-document').innerText(), /large\.bin|cannot be displayed/);
  assert.equal(await page.locator('[data-type="opened"]').count(), 1, 'only the second package was opened');
  assert.deepEqual(errors, []);
  await context.close();
});

test('late failure of a superseded open shows nothing', async () => {
  const { context, page, errors } = await openTwo(tampered, small);
  await firstOpenSettled(page);

  assert.equal(await page.evaluate(() => document.body.dataset.screen), 'document');
  assert.match(await page.locator('#screen-document').innerText(), /A short advisory note/);
  assert.equal(await page.locator('#screen-refused .refusal').count(), 0, 'no refusal was drawn');
  // The worker logs the failed check of the abandoned stream, if it got that far.
  assert.deepEqual(errors.filter((message) => !message.includes('failed its tag check')), []);
  await context.close();
});

test('later pick opens, not an earlier one', async () => {
  const { context, page, errors } = await newPage(browser, { viewport: { width: 1200, height: 800 } });
  await page.goto(portal.url);
  await waitForPortal(page);
  await importIdentity(page, dir, 'alice');
  await page.locator('#lock-identity').waitFor();
  // The large package is still being read when the small one is picked,
  // so the small one's read usually ends first.
  await openPackageFile(page, large);
  await page.evaluate(
    ({ base64, name }) => {
      const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], name));
      const input = document.getElementById('package-file');
      input.files = transfer.files;
      input.dispatchEvent(new Event('change'));
    },
    { base64: readFileSync(small).toString('base64'), name: 'note.tdf' },
  );
  assert.equal(await waitForOutcome(page), 'document');
  await firstOpenSettled(page);

  assert.match(await page.locator('#screen-document').innerText(), /A short advisory note/);
  assert.equal(await page.locator('[data-type="opened"]').count(), 1, 'only the later pick was opened');
  assert.deepEqual(errors, []);
  await context.close();
});
