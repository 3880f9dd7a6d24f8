// The streaming open path (OpenedPackage.decryptStream, www/src/worker/):
// the plaintext it assembles equals the module's decryptAll, with one or
// two workers and the whole-plaintext digest checked on the page or in the
// worker, and a flipped payload byte ends the stream with an IntegrityError
// and zeroed bytes.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launchBrowser, newPage, waitForPortal } from './lib/browser.mjs';
import { demoCommunity, sealForAlice } from './lib/demo.mjs';
import { startPortal } from './lib/server.mjs';

const { dir, manifest } = demoCommunity();
const scratch = mkdtempSync(join(tmpdir(), 'valise-stream-'));
/** A package for Alice of 20 segments of 16 KiB (the last one short), sealed like the benchmark packages. */
const SEGMENTED = join(scratch, 'segmented.tdf');
let portal;
let browser;
let session;

/** Seals 310 KiB of random bytes for Alice in 16 KiB segments. */
function sealSegmented() {
  const input = join(scratch, 'segmented.bin');
  writeFileSync(input, randomBytes(310 * 1024));
  sealForAlice(dir, manifest.passphrase, input, SEGMENTED, [
    '--label', 'TLP:AMBER',
    '--media-type', 'application/octet-stream',
    '--segment-size', String(16 * 1024),
  ]);
}

before(async () => {
  sealSegmented();
  portal = await startPortal({ demoDir: dir });
  browser = await launchBrowser();
  session = await newPage(browser);
  await session.page.goto(portal.url);
  await waitForPortal(session.page);
  // Unlocks Alice's identity through core.js itself, as the benchmarks do.
  await session.page.evaluate(
    async ({ trustText, rootFingerprint, keyPem, credential, passphrase }) => {
      const core = await import('/src/core.js');
      await core.loadCore();
      const trustList = core.TrustList.verify(trustText, { rootKeyFingerprints: [rootFingerprint] });
      const identity = await core.Identity.unlock({ keyPem, passphrase, credential, trustList });
      globalThis.streamTest = { core, context: { identity, trustList, stale: 'warn' } };
    },
    {
      trustText: readFileSync(join(dir, 'community', 'trust.json'), 'utf8'),
      rootFingerprint: manifest.rootFingerprint,
      keyPem: readFileSync(join(dir, 'identities', 'alice.key.pem'), 'utf8'),
      credential: readFileSync(join(dir, 'identities', 'alice.credential.jws'), 'utf8').trim(),
      passphrase: manifest.passphrase,
    },
  );
});

after(async () => {
  await session?.context.close();
  await browser?.close();
  await portal?.close();
});

/**
 * Opens the package at `path` twice in the page, once with decryptAll and once streamed,
 * after `flip` (a byte offset, or null) changed the package. Returns what
 * each path produced.
 */
async function openBothWays(path, { flip = null, plaintextDigest, workers }) {
  const packageBytes = [...readFileSync(path)];
  return session.page.evaluate(
    async ({ packageBytes, flip, plaintextDigest, workers }) => {
      const { core, context } = globalThis.streamTest;
      const bytes = new Uint8Array(packageBytes);
      if (flip !== null) {
        bytes[flip] ^= 0x01;
      }
      const hex = async (data) => Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', data)), (byte) => byte.toString(16).padStart(2, '0')).join('');

      let whole = null;
      const reference = core.openPackage(bytes.slice(), context);
      try {
        whole = await hex(await reference.decrypt());
      } catch (error) {
        whole = error.name;
      } finally {
        reference.close();
      }

      const opened = core.openPackage(bytes, context);
      const stream = await opened.decryptStream({ plaintextDigest, workers });
      if (stream === null) {
        opened.close();
        return { whole, streamed: 'no stream' };
      }
      let progressed = 0;
      stream.onProgress((verified) => {
        progressed = verified;
      });
      // Asking for the end first, as pdf.js does, hands out the last
      // segment out of order.
      const lastRange = stream.whenRange(stream.size - 10, stream.size).then(
        () => 'arrived',
        (error) => error.name,
      );
      try {
        const plaintext = await stream.done;
        if ((await lastRange) !== 'arrived') {
          return { whole, streamed: `last range: ${await lastRange}` };
        }
        return {
          whole,
          streamed: await hex(plaintext),
          segments: opened.metadata.segmentCount,
          progressed,
          size: stream.size,
          workerCount: stream.workerCount,
          packageHandedOver: bytes.byteLength === 0,
        };
      } catch (error) {
        return { whole, streamed: error.name, message: error.message, lastRange: await lastRange, zeroed: stream.bytes.every((byte) => byte === 0) };
      } finally {
        opened.close();
      }
    },
    { packageBytes, flip, plaintextDigest, workers },
  );
}

const VARIANTS = [
  { plaintextDigest: 'page', workers: 2 },
  { plaintextDigest: 'page', workers: 1 },
  // The worker can hash the plaintext in order only if it receives every segment.
  { plaintextDigest: 'worker', workers: 2, expectedWorkers: 1 },
];

for (const { plaintextDigest, workers, expectedWorkers = workers } of VARIANTS) {
  const name = `digest on ${plaintextDigest}, ${workers} worker${workers > 1 ? 's' : ''} asked`;
  test(`stream equals decryptAll, ${name}`, async () => {
    const result = await openBothWays(SEGMENTED, { plaintextDigest, workers });
    assert.equal(result.segments, 20);
    assert.equal(result.workerCount, expectedWorkers);
    assert.equal(result.packageHandedOver, true, 'the package buffer was handed to the workers');
    assert.match(result.whole, /^[0-9a-f]{64}$/, `decryptAll failed: ${result.whole}`);
    assert.equal(result.streamed, result.whole, 'streamed plaintext differs from decryptAll');
    assert.equal(result.progressed, result.size, 'the last progress update covers the whole plaintext');
  });

  test(`flipped byte fails the stream, ${name}`, async () => {
    // The payload is the first ZIP entry (a 30-byte local header and its
    // name, then the segments): byte 100,000 lies inside segment 6.
    const result = await openBothWays(SEGMENTED, { flip: 100_000, plaintextDigest, workers });
    assert.equal(result.whole, 'IntegrityError');
    assert.equal(result.streamed, 'IntegrityError');
    assert.match(result.message, /segment 6 failed its tag check/);
    // The last segment passes its own checks, so its range may arrive before segment 6 fails.
    assert.ok(['arrived', 'IntegrityError'].includes(result.lastRange), `last range: ${result.lastRange}`);
    assert.equal(result.zeroed, true, 'the stream zeroes what arrived');
  });
}

/**
 * Streams the segmented package with the background cap at `cap` (null for
 * none) and the last range requested first. Returns the largest number of
 * unrequested segments at the workers at once, and whether the stream
 * produced the decryptAll plaintext.
 */
async function streamCapped(cap) {
  const packageBytes = [...readFileSync(SEGMENTED)];
  return session.page.evaluate(
    async ({ packageBytes, cap }) => {
      const { core, context } = globalThis.streamTest;
      const log = [];
      const nativePost = Worker.prototype.postMessage;
      const nativeAdd = Worker.prototype.addEventListener;
      Worker.prototype.postMessage = function (message, transfer) {
        if (message?.type === 'segment') {
          log.push({ sent: message.index });
        }
        return nativePost.call(this, message, transfer);
      };
      Worker.prototype.addEventListener = function (type, listener, options) {
        if (type !== 'message') {
          return nativeAdd.call(this, type, listener, options);
        }
        return nativeAdd.call(this, type, (event) => {
          if (event.data?.type === 'segment') {
            log.push({ arrived: event.data.index });
          }
          listener(event);
        }, options);
      };
      const hex = async (data) => Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', data)), (byte) => byte.toString(16).padStart(2, '0')).join('');
      const reference = core.openPackage(new Uint8Array(packageBytes), context);
      const whole = await hex(await reference.decrypt());
      reference.close();
      const opened = core.openPackage(new Uint8Array(packageBytes), context);
      try {
        const stream = await opened.decryptStream({ workers: 2 });
        if (cap !== null) {
          stream.limitBackground(cap);
        }
        const lastIndex = opened.metadata.segmentCount - 1;
        const lastRange = stream.whenRange(stream.size - 10, stream.size);
        const streamed = await hex(await stream.done);
        await lastRange;
        const unrequested = new Set();
        let maxUnrequested = 0;
        for (const entry of log) {
          if ('sent' in entry && entry.sent !== lastIndex) {
            unrequested.add(entry.sent);
          } else if ('arrived' in entry) {
            unrequested.delete(entry.arrived);
          }
          maxUnrequested = Math.max(maxUnrequested, unrequested.size);
        }
        return { equal: streamed === whole, maxUnrequested, sent: log.filter((entry) => 'sent' in entry).length, firstSent: log.find((entry) => 'sent' in entry)?.sent, lastIndex };
      } finally {
        opened.close();
        Worker.prototype.postMessage = nativePost;
        Worker.prototype.addEventListener = nativeAdd;
      }
    },
    { packageBytes, cap },
  );
}

test('capped stream decrypts one segment at a time', async () => {
  const capped = await streamCapped(1);
  assert.equal(capped.equal, true, 'the capped stream produced the decryptAll plaintext');
  assert.equal(capped.sent, 20, 'every segment went to a worker once');
  assert.equal(capped.firstSent, capped.lastIndex, 'the requested range went first');
  assert.equal(capped.maxUnrequested, 1);
  // The same measure without the cap: both workers take two segments at once.
  const uncapped = await streamCapped(null);
  assert.equal(uncapped.equal, true);
  assert.ok(uncapped.maxUnrequested > 1, `without the cap ${uncapped.maxUnrequested} unrequested segments were at the workers at once`);
});

test('idle workers refill, never reused', async () => {
  const packageBytes = [...readFileSync(SEGMENTED)];
  const result = await session.page.evaluate(
    async ({ packageBytes }) => {
      const { core, context } = globalThis.streamTest;
      // The portal started idle workers at start-up; wait until they are ready.
      await core.keepDecryptionWorkersReady();
      const NativeWorker = window.Worker;
      const nativePost = NativeWorker.prototype.postMessage;
      const nativeTerminate = NativeWorker.prototype.terminate;
      const created = [];
      const starts = new Map();
      const terminated = new Set();
      window.Worker = class extends NativeWorker {
        constructor(url, options) {
          super(url, options);
          created.push(this);
        }
      };
      NativeWorker.prototype.postMessage = function (message, transfer) {
        if (message?.type === 'start') {
          starts.set(this, (starts.get(this) ?? 0) + 1);
        }
        return nativePost.call(this, message, transfer);
      };
      NativeWorker.prototype.terminate = function () {
        terminated.add(this);
        return nativeTerminate.call(this);
      };
      const rounds = [];
      try {
        for (let round = 0; round < 2; round += 1) {
          const createdBefore = created.length;
          const opened = core.openPackage(new Uint8Array(packageBytes), context);
          const stream = await opened.decryptStream({ workers: 2 });
          const createdByOpen = created.length - createdBefore;
          await stream.done;
          opened.close();
          const streamWorkers = [...starts.keys()].filter((worker) => !rounds.some((earlier) => earlier.workers.includes(worker)));
          // New idle workers start once the page is idle after the stream.
          const deadline = performance.now() + 10_000;
          while (created.length - createdBefore < 2 && performance.now() < deadline) {
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
          rounds.push({
            workers: streamWorkers,
            createdByOpen,
            streamWorkerCount: streamWorkers.length,
            streamWorkersEnded: streamWorkers.every((worker) => terminated.has(worker)),
            refilled: created.length - createdBefore,
          });
          // Resolves once the new idle workers are ready; starts none when two are there.
          await core.keepDecryptionWorkersReady();
        }
      } finally {
        window.Worker = NativeWorker;
        NativeWorker.prototype.postMessage = nativePost;
        NativeWorker.prototype.terminate = nativeTerminate;
      }
      return {
        rounds: rounds.map(({ workers, ...rest }) => rest),
        maxStartsPerWorker: Math.max(...starts.values()),
      };
    },
    { packageBytes },
  );
  for (const round of result.rounds) {
    assert.equal(round.createdByOpen, 0, 'the stream took workers started before the open');
    assert.equal(round.streamWorkerCount, 2);
    assert.equal(round.streamWorkersEnded, true, 'the workers that held the key ended with the stream');
    assert.equal(round.refilled, 2, 'two idle workers replaced them once the page was idle');
  }
  assert.equal(result.maxStartsPerWorker, 1, 'no worker served two streams');
});
