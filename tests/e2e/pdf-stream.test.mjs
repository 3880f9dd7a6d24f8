// A large PDF renders in the portal while it decrypts: pdf.js reads
// verified segments through its range transport. The page's decryption
// workers are wrapped so that the segments pdf.js did not ask for and the
// end of the stream are held back until the test releases them. The first
// page must then paint from the requested segments alone, with the label
// and watermark in place, and a segment that fails after the paint must
// tear the document down.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writeLargePdf } from '../../bench/lib/pdf.mjs';
import { launchBrowser, newPage, waitForPortal } from './lib/browser.mjs';
import { demoCommunity, importIdentity, openPackageFile, sealForAlice, waitForOutcome } from './lib/demo.mjs';
import { startPortal } from './lib/server.mjs';

const { dir, manifest } = demoCommunity();
const scratch = mkdtempSync(join(tmpdir(), 'valise-pdf-stream-'));
/** Plaintext bytes per segment: each 1 MiB page image spans many segments. */
const SEGMENT_SIZE = 64 * 1024;
/** AES-GCM adds a 12-byte IV and a 16-byte tag to every segment. */
const SEGMENT_OVERHEAD = 28;
/** Bytes of the image on each page of the large PDF (bench/lib/pdf.mjs: 600 × 600 RGB). */
const IMAGE_BYTES = 600 * 600 * 3;
const PDF = join(scratch, 'large.pdf');
const PACKAGE = join(scratch, 'large.tdf');
let pdfSize;
let portal;
let browser;

/**
 * Installed before the portal loads. It records which segments the page
 * waits for: pdf.js's range requests reach `StreamedPlaintext.whenRange`
 * of www/src/worker/stream.js. It also wraps the decryption workers
 * (`name: 'valise-open'`). A segment's plaintext reaches the page only when
 * the page waited for it, or after `window.streamHold.release()`, and the
 * same goes for an error. The workers' requests for work always pass.
 *
 * With `hold` false nothing is held back. With `lastSegment` set, the
 * page's message that sends that segment to a worker waits until every
 * other segment came back, so the workers reach it last. On the first
 * painted page the script records a snapshot of what had reached the page.
 * `state.plaintext` is the page's plaintext buffer: the array that the
 * first delivered segment is copied into.
 */
function holdStreamScript({ hold, lastSegment = null }) {
  if (!location.protocol.startsWith('http')) {
    return;
  }
  const NativeWorker = window.Worker;
  const nativeSet = Uint8Array.prototype.set;
  const state = { total: null, delivered: [], requests: [], received: [], held: 0, released: !hold, firstPaint: null, firstCanvas: null, plaintext: null, release: null };
  window.streamHold = state;
  const requested = new Set();
  /** Messages of the workers not yet delivered: `{ event, deliver }`. */
  const heldEvents = [];
  let heldLast = null;
  const returned = new Set();

  const releaseRequested = () => {
    const ready = heldEvents.filter(({ event }) => event.data.type === 'segment' && requested.has(event.data.index));
    for (const entry of ready) {
      heldEvents.splice(heldEvents.indexOf(entry), 1);
      // A worker's message never arrives inside the call that asked for it.
      setTimeout(() => entry.deliver(entry.event), 0);
    }
    state.held = heldEvents.length;
  };
  import(new URL('src/worker/stream.js', location.href).href).then(({ StreamedPlaintext }) => {
    const whenRange = StreamedPlaintext.prototype.whenRange;
    StreamedPlaintext.prototype.whenRange = function (begin, end) {
      if (end > begin) {
        for (let index = this.segmentAt(begin); index <= this.segmentAt(end - 1); index += 1) {
          requested.add(index);
        }
        state.requests.push(`${this.segmentAt(begin)}-${this.segmentAt(end - 1)}`);
      }
      releaseRequested();
      return whenRange.call(this, begin, end);
    };
  });

  window.Worker = class extends NativeWorker {
    constructor(url, options) {
      super(url, options);
      if (options?.name !== 'valise-open') {
        return;
      }
      const listeners = [];
      const nativeAdd = this.addEventListener.bind(this);
      const nativePost = this.postMessage.bind(this);
      const deliver = (event) => {
        if (event.data?.type !== 'segment') {
          for (const listener of listeners) {
            listener(event);
          }
          return;
        }
        state.delivered.push(event.data.index);
        // The page copies each segment into its plaintext buffer with set().
        Uint8Array.prototype.set = function (...args) {
          state.plaintext ??= this;
          return nativeSet.apply(this, args);
        };
        try {
          for (const listener of listeners) {
            listener(event);
          }
        } finally {
          Uint8Array.prototype.set = nativeSet;
        }
      };
      this.addEventListener = (type, listener, listenerOptions) => {
        if (type === 'message') {
          listeners.push(listener);
        } else {
          nativeAdd(type, listener, listenerOptions);
        }
      };
      this.postMessage = (message, transfer) => {
        if (message?.type === 'start') {
          state.total = message.plan.segments.length;
        }
        if (message?.type === 'segment' && message.index === lastSegment && returned.size < state.total - 1) {
          heldLast = () => nativePost(message, transfer);
          return;
        }
        nativePost(message, transfer);
      };
      nativeAdd('message', (event) => {
        const { type, index } = event.data ?? {};
        state.received.push(type === 'segment' ? index : type);
        if (type === 'segment') {
          returned.add(index);
          if (heldLast !== null && returned.size >= state.total - 1) {
            const post = heldLast;
            heldLast = null;
            post();
          }
        }
        const holdBack = !state.released && ((type === 'segment' && !requested.has(index)) || type === 'error');
        if (holdBack) {
          heldEvents.push({ event, deliver });
          state.held = heldEvents.length;
        } else {
          deliver(event);
        }
      });
    }
  };
  state.release = () => {
    state.released = true;
    for (const { event, deliver } of heldEvents.splice(0)) {
      deliver(event);
    }
    state.held = 0;
  };
  document.addEventListener('valise-page-rendered', (event) => {
    if (event.detail?.pageNumber !== 1 || state.firstPaint !== null) {
      return;
    }
    const content = document.getElementById('document-content');
    state.firstCanvas = content?.querySelector('canvas') ?? null;
    state.firstPaint = {
      deliveredSegments: new Set(state.delivered).size,
      totalSegments: state.total,
      heldMessages: state.held,
      opened: document.body.dataset.opened ?? null,
      progressBar: document.querySelector('.open-progress progress')?.value ?? null,
      topBanner: document.querySelector('#screen-document .tlp-banner[data-position="top"]')?.textContent ?? null,
      bottomBanner: document.querySelector('#screen-document .tlp-banner[data-position="bottom"]')?.textContent ?? null,
      watermark: content?.querySelector('.valise-watermark') !== null,
      canvasWidth: state.firstCanvas?.width ?? 0,
      verifiedPanel: document.querySelector('#screen-document .rights.verified')?.textContent ?? null,
    };
  });
}

/**
 * Seals the large PDF for Alice in small segments, with a watermark and
 * without the print right. The TLP:AMBER rights of the demo community
 * withhold copy and export as well.
 */
function sealPdf() {
  writeLargePdf(PDF, 9 * 1024 * 1024);
  pdfSize = statSync(PDF).size;
  sealForAlice(dir, manifest.passphrase, PDF, PACKAGE, [
    '--label', 'TLP:AMBER',
    '--watermark',
    '--deny', 'print',
    '--media-type', 'application/pdf',
    '--segment-size', String(SEGMENT_SIZE),
  ]);
}

/**
 * Writes a copy of the package with one ciphertext byte flipped in the
 * segment that holds plaintext byte `plaintextOffset`; returns its path.
 */
function tamperedCopy(name, plaintextOffset) {
  const bytes = new Uint8Array(readFileSync(PACKAGE));
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  // The payload is the first ZIP entry, stored: its data follows the local
  // header (30 bytes), the file name and the extra field.
  const nameLength = view.getUint16(26, true);
  assert.equal(Buffer.from(bytes.subarray(30, 30 + nameLength)).toString('latin1'), '0.payload', 'the payload is the first entry');
  const dataStart = 30 + nameLength + view.getUint16(28, true);
  const segment = Math.floor(plaintextOffset / SEGMENT_SIZE);
  const position = dataStart + segment * (SEGMENT_SIZE + SEGMENT_OVERHEAD) + 12 + (plaintextOffset % SEGMENT_SIZE);
  bytes[position] ^= 0x01;
  const path = join(scratch, name);
  writeFileSync(path, bytes);
  return { path, segment };
}

before(async () => {
  sealPdf();
  portal = await startPortal({ demoDir: dir });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await portal?.close();
});

/** Opens `path` as Alice in a new page with the worker wrapper installed. */
async function openAsAlice(path, options) {
  const session = await newPage(browser, { viewport: { width: 1200, height: 800 } });
  const downloads = [];
  session.page.on('download', (download) => downloads.push(download.suggestedFilename()));
  await session.page.addInitScript(holdStreamScript, options);
  await session.page.goto(portal.url);
  await waitForPortal(session.page);
  await importIdentity(session.page, dir, 'alice');
  await session.page.locator('#lock-identity').waitFor();
  await openPackageFile(session.page, path);
  return { ...session, downloads };
}

/** Waits for the snapshot of the first painted page; on a timeout, the error lists what had arrived. */
async function firstPaint(page) {
  try {
    const handle = await page.waitForFunction(() => window.streamHold.firstPaint, null, { timeout: 30_000 });
    return await handle.jsonValue();
  } catch (error) {
    const state = await page.evaluate(() => ({
      delivered: [...new Set(window.streamHold.delivered)].sort((a, b) => a - b),
      total: window.streamHold.total,
      held: window.streamHold.held,
      requests: window.streamHold.requests,
      received: window.streamHold.received.join(','),
      screen: document.body.dataset.screen,
    }));
    throw new Error(`page one never painted: ${JSON.stringify(state)}`, { cause: error });
  }
}

/** Returns what of the document is left on the page after a teardown. */
async function leftovers(page) {
  return page.evaluate(() => ({
    canvases: document.querySelectorAll('canvas').length,
    textLayers: document.querySelectorAll('.textLayer, .valise-pdf-text').length,
    exportButtons: document.querySelectorAll('.valise-export, a[download]').length,
    firstCanvasWidth: window.streamHold.firstCanvas?.width ?? 0,
    firstCanvasHeight: window.streamHold.firstCanvas?.height ?? 0,
    opened: document.body.dataset.opened ?? null,
    openedActivity: document.querySelectorAll('[data-type="opened"]').length,
    // The print control of the document: a class on the root and a replaced window.print.
    printRefused: document.documentElement.classList.contains('valise-print-refused'),
    nativePrint: String(window.print).includes('[native code]'),
  }));
}

/**
 * Checks that the open ended on the integrity refusal naming `segment`, with
 * no canvas left and nothing recorded as opened. Returns what was left.
 */
async function integrityRefusal(page, segment) {
  assert.equal(await waitForOutcome(page), 'refused');
  assert.equal(await page.locator('#screen-refused .refusal').getAttribute('data-error'), 'IntegrityError');
  assert.match(await page.locator('#screen-refused').innerText(), new RegExp(`segment ${segment}`));
  const left = await leftovers(page);
  assert.equal(left.canvases, 0, 'no canvas is left');
  assert.equal(left.opened, null, 'nothing claims the document opened');
  assert.equal(left.openedActivity, 0, 'no opened activity is recorded');
  assert.equal(left.printRefused, false, 'the print control is gone');
  assert.equal(left.nativePrint, true, 'window.print is the browser\'s again');
  return left;
}

test('first page paints before every segment arrived', async () => {
  const { context, page, errors } = await openAsAlice(PACKAGE, { hold: true });
  const paint = await firstPaint(page);

  assert.ok(paint.totalSegments > 100, `the package has ${paint.totalSegments} segments`);
  assert.ok(paint.deliveredSegments < paint.totalSegments, `${paint.deliveredSegments} of ${paint.totalSegments} segments had reached the page`);
  assert.ok(paint.heldMessages > 0, 'segments of the workers were still held back');
  assert.equal(paint.opened, null, 'no opened state before the whole plaintext verified');
  assert.notEqual(paint.progressBar, null, 'the progress bar was still showing');
  assert.ok(paint.progressBar < pdfSize, `the progress bar stood at ${paint.progressBar} of ${pdfSize}`);
  assert.ok(paint.canvasWidth > 0, 'page one was drawn on a canvas');
  assert.match(paint.topBanner ?? '', /TLP:AMBER/);
  assert.match(paint.bottomBanner ?? '', /TLP:AMBER/);
  assert.equal(paint.watermark, true, 'the watermark overlay was in place');
  assert.match(paint.verifiedPanel ?? '', /Content being checked against what the originator signed/);
  assert.doesNotMatch(paint.verifiedPanel ?? '', /Content matches/);
  assert.equal(await page.locator('[data-type="opened"]').count(), 0, 'no opened activity before the digest');

  await page.evaluate(() => window.streamHold.release());
  assert.equal(await waitForOutcome(page), 'document');
  assert.match(await page.locator('#screen-document .rights.verified').innerText(), /Content matches what the originator signed/);
  assert.equal(await page.locator('.open-progress').count(), 0, 'the progress bar is gone');
  assert.equal(await page.locator('[data-type="opened"]').count(), 1, 'the opened activity is recorded once');
  assert.deepEqual(errors, []);
  await context.close();
});

test('segment failing after first paint tears down', async () => {
  // A segment inside the image of page five: page one paints without it.
  const { path, segment } = tamperedCopy('page-five-segment.tdf', Math.floor(4.5 * IMAGE_BYTES));
  const { context, page, downloads } = await openAsAlice(path, { hold: true, lastSegment: segment });
  const paint = await firstPaint(page);
  assert.ok(paint.canvasWidth > 0, 'page one was drawn on a canvas');
  assert.equal(paint.opened, null, 'no opened state before the whole plaintext verified');

  // The worker's error waits in the wrapper until the release.
  await page.waitForFunction(() => window.streamHold.received.includes('error'), null, { timeout: 30_000 });
  assert.equal(await page.evaluate(() => document.body.dataset.screen), 'document', 'the document was on screen before the failure arrived');
  await page.evaluate(() => window.streamHold.release());

  const left = await integrityRefusal(page, segment);
  assert.equal(left.firstCanvasWidth, 0, 'the painted canvas was cleared');
  assert.equal(left.firstCanvasHeight, 0, 'the painted canvas was cleared');
  assert.equal(left.textLayers, 0, 'no text layer is left');
  assert.equal(left.exportButtons, 0, 'no export is offered');
  const plaintext = await page.evaluate(() => ({
    length: window.streamHold.plaintext?.length ?? 0,
    zeroed: window.streamHold.plaintext?.every((byte) => byte === 0) ?? false,
  }));
  assert.equal(plaintext.length, pdfSize, 'the plaintext buffer was found');
  assert.equal(plaintext.zeroed, true, 'the plaintext buffer is zeroed');
  assert.deepEqual(downloads, []);
  await context.close();
});

test('failure pdf.js waits on is refused', async () => {
  // The last segment holds the cross-reference table that pdf.js reads
  // first, so it waits for that range while the segment fails.
  const { path, segment } = tamperedCopy('trailer-segment.tdf', pdfSize - 1);
  const { context, page, errors, downloads } = await openAsAlice(path, { hold: true });
  await page.waitForFunction(() => window.streamHold.received.includes('error'), null, { timeout: 30_000 });
  // The error waits in the wrapper until pdf.js has requested the failing
  // segment. The range transport requests the trailer when it is created,
  // and pdf.js requests it again after reading the header.
  await page.waitForFunction((last) => window.streamHold.requests.filter((range) => range.endsWith(`-${last}`)).length >= 2, segment, { timeout: 30_000, polling: 100 });
  assert.equal(await page.evaluate(() => window.streamHold.firstPaint), null, 'no page painted without the trailer');
  await page.evaluate(() => window.streamHold.release());

  const left = await integrityRefusal(page, segment);
  assert.deepEqual(downloads, []);
  // pdf.js rejects its own pending range reads with "Worker was terminated"
  // when the document is destroyed mid-load, and the worker logs the failed check.
  const unexpected = errors.filter((message) => !message.includes('failed its tag check') && !message.includes('Worker was terminated'));
  assert.deepEqual(unexpected, [], 'no other error');
  await context.close();
});

test('failed first segment leaves no controls', async () => {
  // The renderer waits for the first segment to check the media type, so
  // its failure ends the drawing after the print control was installed.
  const { path, segment } = tamperedCopy('first-segment.tdf', 10);
  const { context, page, downloads } = await openAsAlice(path, { hold: false });
  const left = await integrityRefusal(page, segment);
  assert.equal(segment, 0);
  assert.equal(left.exportButtons, 0, 'no export is offered');
  assert.deepEqual(downloads, []);
  await context.close();
});

test('close while pdf.js parses tears down', async () => {
  // A PDF header followed by random bytes: every segment verifies, then
  // pdf.js searches the whole file for objects, which takes seconds.
  const input = join(scratch, 'unparseable.pdf');
  writeFileSync(input, Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(9 * 1024 * 1024)]));
  const sealed = join(scratch, 'unparseable.tdf');
  sealForAlice(dir, manifest.passphrase, input, sealed, ['--label', 'TLP:AMBER', '--deny', 'print', '--media-type', 'application/pdf', '--segment-size', String(SEGMENT_SIZE)]);
  const { context, page } = await openAsAlice(sealed, { hold: false });
  await page.waitForFunction(
    () => document.body.dataset.screen === 'document' && document.querySelectorAll('.open-progress').length === 0 && document.documentElement.classList.contains('valise-print-refused'),
    null,
    { timeout: 30_000, polling: 50 },
  );
  assert.equal(await page.locator('#document-content .valise-notice').textContent(), 'Reading the PDF…', 'pdf.js was still reading when the reader closed');
  await page.getByRole('button', { name: 'Close this document' }).click();
  const closed = await leftovers(page);
  assert.equal(await page.evaluate(() => document.body.dataset.screen), 'open');
  assert.equal(closed.printRefused, false, 'the print control is gone at once');
  assert.equal(closed.nativePrint, true, 'window.print is the browser\'s again');
  assert.equal(closed.opened, null, 'nothing claims the document opened');
  await context.close();
});

test('tampered last segment is an integrity failure', async () => {
  const { path, segment } = tamperedCopy('last-segment.tdf', pdfSize - 1);
  const { context, page, downloads } = await openAsAlice(path, { hold: false });
  const left = await integrityRefusal(page, segment);
  assert.equal(left.firstCanvasWidth, 0, 'no painted canvas survives');
  assert.equal(left.textLayers, 0, 'no text layer is left');
  assert.equal(left.exportButtons, 0, 'no export is offered');
  assert.deepEqual(downloads, []);
  await context.close();
});
