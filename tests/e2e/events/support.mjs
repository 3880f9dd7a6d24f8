// Helpers of the portal's access-event tests: a demo community whose
// packages name a real collector (`valise collector serve`, SQLite in the
// demo folder, on 127.0.0.1), the portal serving it, and readers of what
// the collector stored.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { freePort, startCollector } from '../../../scripts/lib/collector.mjs';
import { COMMUNITY, DEMO_PASSPHRASE, ORIGINATOR, buildDemo, cliPath } from '../../../scripts/lib/demo.mjs';
import { launchBrowser } from '../lib/browser.mjs';
import { openPackageFile, waitForOutcome } from '../lib/demo.mjs';
import { startPortal } from '../lib/server.mjs';

/**
 * Builds a demo community whose packages name a collector on a free port,
 * serves the portal for it and starts the collector, which accepts the
 * portal's origin. `collectorArgs` go to `valise collector serve` after the
 * usual options. Resolves to `{ dir, manifest, portal, collector, db,
 * restartCollector(), close() }`; `restartCollector()` starts the collector
 * again on the same port and database once `collector.close()` stopped it.
 */
export async function startEventsDemo({ collectorArgs = [] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'valise-events-demo-'));
  const cli = cliPath('debug');
  const port = await freePort();
  const manifest = buildDemo(dir, { cli, eventsUrl: `http://127.0.0.1:${port}/events` });
  const portal = await startPortal({ demoDir: dir });
  const db = join(dir, 'events.db');
  const start = () =>
    startCollector({
      cli,
      trust: join(dir, 'community', 'trust.json'),
      rootFingerprint: manifest.rootFingerprint,
      db,
      port,
      allowOrigins: [new URL(portal.url).origin],
      home: join(dir, 'collector-home'),
      extraArgs: collectorArgs,
    });
  const demo = {
    dir,
    manifest,
    portal,
    collector: await start(),
    db,
    restartCollector: async () => {
      demo.collector = await start();
      return demo.collector;
    },
    close: async () => {
      await demo.collector.close();
      await portal.close();
    },
  };
  return demo;
}

/**
 * Imports and unlocks a demo person's identity with its signing key file,
 * through the identity screen.
 */
export async function importIdentityWithSigningKey(page, dir, person) {
  if (await page.locator('#screen-identity').isHidden()) {
    await page.locator('#choose-identity').click();
  }
  await page.locator('#key-file').setInputFiles(join(dir, 'identities', `${person}.key.pem`));
  await page.locator('#sign-key-file').setInputFiles(join(dir, 'identities', `${person}.sign.key.pem`));
  await page.locator('#credential-file').setInputFiles(join(dir, 'identities', `${person}.credential.jws`));
  await page.locator('#passphrase').fill(JSON.parse(readFileSync(join(dir, 'demo.json'), 'utf8')).passphrase);
  await page.locator('#remember').setChecked(false);
  await page.locator('#import-identity button[type="submit"]').click();
  await page.locator('#screen-open').waitFor({ state: 'visible' });
}

/** Runs `valise events report --db sqlite:DB` with extra arguments; returns its stdout. */
export function eventsReport(db, extra = []) {
  const result = spawnSync(cliPath('debug'), ['events', 'report', '--db', `sqlite:${db}`, ...extra], { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`valise events report failed (status ${result.status}):\n${result.stderr}`);
  }
  return result.stdout;
}

/** Returns the stored events as `valise events report --format json` prints them, one object per event. */
export function storedEvents(db) {
  return eventsReport(db, ['--format', 'json'])
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));
}

/** Returns the number of waiting events the portal's outbox view shows. */
export async function waitingCount(page) {
  const waiting = await page.locator('#outbox').getAttribute('data-waiting');
  return Number(waiting);
}

/** Waits until the outbox view shows `count` waiting events. */
export async function waitForWaiting(page, count, timeout = 30_000) {
  await page.waitForFunction((expected) => document.getElementById('outbox')?.dataset.waiting === String(expected), count, { timeout });
}

/** Returns the `{ id, type }` of every event in the outbox's IndexedDB queue. */
export function queuedEvents(page) {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const opening = indexedDB.open('valise-events');
        opening.onerror = () => reject(opening.error);
        opening.onsuccess = () => {
          const read = opening.result.transaction('queue', 'readonly').objectStore('queue').getAll();
          read.onerror = () => reject(read.error);
          read.onsuccess = () => {
            opening.result.close();
            resolve(read.result.map((entry) => JSON.parse(entry.event)).map((event) => ({ id: event.id, type: event.type })));
          };
        };
      }),
  );
}

/**
 * Waits for the outcome of an open ("document", "refused", "identity" or
 * "fatal"); for "fatal" the error panel's text follows, so a failing
 * assertion shows it.
 */
export async function outcomeOf(page) {
  const outcome = await waitForOutcome(page);
  return outcome === 'fatal' ? `fatal: ${await page.locator('#fatal').innerText()}` : outcome;
}

/**
 * Registers `before` and `after` hooks that start the events demo
 * (`startEventsDemo`, given `options`) and Chromium for a test file, and
 * stop both. Returns an object whose `demo` and `browser` are set once the
 * hooks ran.
 */
export function useEventsDemo(options = {}) {
  const session = { demo: null, browser: null };
  before(async () => {
    session.demo = await startEventsDemo(options);
    session.browser = await launchBrowser();
  });
  after(async () => {
    await session.browser?.close();
    await session.demo?.close();
  });
  return session;
}

/** Opens a package of the demo through the file picker and returns the outcome. */
export async function openDemoPackage(page, demo, file) {
  await page.locator('#screen-open').waitFor({ state: 'visible' });
  await openPackageFile(page, join(demo.dir, 'packages', file));
  return outcomeOf(page);
}

/**
 * Seals `content` (a Buffer) for `person` into `packages/FILE` of the demo,
 * signed by the demo originator, naming the demo's collector with events
 * required. `deny` lists the rights withheld. The default label, TLP:CLEAR,
 * is the only one whose ceiling allows export. Returns the package path.
 */
export function sealRequiredPackage(demo, { file, content, mediaType, label = 'TLP:CLEAR', person = 'alice', deny = [] }) {
  const source = join(demo.dir, `${file}.plain`);
  writeFileSync(source, content);
  const credential = readFileSync(join(demo.dir, 'identities', `${person}.credential.jws`), 'utf8').trim();
  const { kid } = JSON.parse(Buffer.from(credential.split('.')[1], 'base64url').toString('utf8')).keyAccessKey;
  const output = join(demo.dir, 'packages', file);
  const args = [
    'seal', source,
    '--sign-key', join(demo.dir, 'community', `${ORIGINATOR.org}.sign.key.pem`),
    '--org', ORIGINATOR.org,
    '--author', ORIGINATOR.author,
    '--community', COMMUNITY.id,
    '--label', label,
    '--media-type', mediaType,
    `--to=${kid}=${join(demo.dir, 'identities', `${person}.pub.pem`)}`,
    '--events-url', demo.collector.eventsUrl,
    '--events-required',
    // The demo folder may be shared between runs: the package is rebuilt.
    '--force',
    '-o', output,
  ];
  if (deny.length > 0) {
    args.push('--deny', deny.join(','));
  }
  const result = spawnSync(cliPath('debug'), args, {
    cwd: demo.dir,
    encoding: 'utf8',
    env: { ...process.env, VALISE_PASSPHRASE: DEMO_PASSPHRASE, VALISE_HOME: join(demo.dir, '.valise-home') },
  });
  if (result.error || result.status !== 0) {
    throw new Error(`valise seal failed (status ${result.status}):\n${result.stderr ?? result.error?.message}`);
  }
  return output;
}

/**
 * Adds `count` placeholder events for `url` straight to the outbox's
 * IndexedDB queue, as if they waited to be sent.
 */
export function fillOutbox(page, url, count) {
  return page.evaluate(
    ({ url, count }) =>
      new Promise((resolve, reject) => {
        const opening = indexedDB.open('valise-events');
        opening.onerror = () => reject(opening.error);
        opening.onsuccess = () => {
          const transaction = opening.result.transaction('queue', 'readwrite');
          const store = transaction.objectStore('queue');
          for (let index = 0; index < count; index += 1) {
            store.add({ url, event: '{}', queuedAt: Date.now() });
          }
          transaction.oncomplete = () => {
            opening.result.close();
            resolve();
          };
          transaction.onerror = () => reject(transaction.error);
        };
      }),
    { url, count },
  );
}
