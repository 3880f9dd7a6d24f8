// The browser's access-event outbox (www/src/events/outbox.js) in Debian's
// Chromium: durable across reloads, bounded, retried after failures,
// resumed when the browser comes back online, and flushed with sendBeacon
// when the page goes away. A small collector stand-in on 127.0.0.1 records
// what arrives; the real collector's verification is tested in Rust.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { ROOT } from '../../../scripts/lib/setup.mjs';
import { launchBrowser, newPage } from '../lib/browser.mjs';

const OUTBOX_SOURCE = readFileSync(join(ROOT, 'www', 'src', 'events', 'outbox.js'), 'utf8');
const PAGE = `<!doctype html><meta charset="utf-8"><title>outbox</title>
<script type="module">import * as outbox from '/outbox.js'; window.outboxModule = outbox;</script>`;

/** What the stand-in collector received, and how it responds (ok, fail, reject). */
const collector = { mode: 'ok', requests: [] };
let server;
let origin;
let browser;

before(async () => {
  server = createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/') {
      response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      response.end(PAGE);
      return;
    }
    if (request.method === 'GET' && request.url === '/outbox.js') {
      response.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' });
      response.end(OUTBOX_SOURCE);
      return;
    }
    if (request.method === 'POST' && request.url === '/events') {
      const chunks = [];
      request.on('data', (chunk) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        collector.requests.push({ contentType: request.headers['content-type'], mode: collector.mode, events: JSON.parse(body) });
        const status = { ok: 200, fail: 500, reject: 422, quota: 429 }[collector.mode];
        response.writeHead(status, { 'Content-Type': 'application/json' });
        response.end(JSON.stringify({ message: `stand-in collector in ${collector.mode} mode` }));
      });
      return;
    }
    response.writeHead(404);
    response.end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${server.address().port}`;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

function reset(mode = 'ok') {
  collector.mode = mode;
  collector.requests = [];
}

/** Event ids the stand-in stored (requests that got a 200 response). */
function storedIds() {
  return collector.requests.filter((r) => r.mode === 'ok').flatMap((r) => r.events.map((e) => e.id));
}

async function openPage() {
  const opened = await newPage(browser);
  await opened.page.goto(`${origin}/`);
  await opened.page.waitForFunction(() => window.outboxModule !== undefined);
  return opened;
}

async function waitFor(condition, what, timeout = 15_000) {
  const deadline = Date.now() + timeout;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('outbox survives reload while offline', async () => {
  reset('ok');
  const { context, page, errors } = await openPage();
  const url = `${origin}/events`;

  await context.setOffline(true);
  const offline = await page.evaluate(async (url) => {
    const outbox = await window.outboxModule.Outbox.open();
    for (let seq = 1; seq <= 3; seq += 1) {
      await outbox.enqueue(url, JSON.stringify({ id: `event-${seq}` }), { agent: 'web-test', seq, prevHash: `hash-${seq - 1}` }, 'alice');
    }
    const result = await outbox.flush();
    outbox.stop();
    return { result, status: await outbox.status() };
  }, url);
  assert.deepEqual(offline.result, { sent: 0, rejected: 0, queued: 3 });
  assert.equal(offline.status.total, 3);
  assert.match(offline.status.lastError, /network failure/);
  assert.equal(collector.requests.length, 0);

  // The queue and the chain state survive a reload.
  await context.setOffline(false);
  await page.reload();
  await page.waitForFunction(() => window.outboxModule !== undefined);
  const reloaded = await page.evaluate(async () => {
    const outbox = await window.outboxModule.Outbox.open();
    return { status: await outbox.status(), chain: await outbox.chain('alice'), other: await outbox.chain('bob') };
  });
  assert.equal(reloaded.status.total, 3);
  assert.deepEqual(reloaded.chain, { agent: 'web-test', seq: 3, prevHash: 'hash-2' });
  // Another reader of the profile starts a chain of its own under the same agent.
  assert.deepEqual(reloaded.other, { agent: 'web-test', seq: 0, prevHash: '0'.repeat(64) });

  // Offline again, started: nothing goes out; back online, everything does.
  await context.setOffline(true);
  await page.evaluate(async () => {
    window.outbox = await window.outboxModule.Outbox.open();
    window.outbox.start();
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(collector.requests.length, 0);
  await context.setOffline(false);
  await waitFor(() => storedIds().length >= 3, 'the queued events after going online');
  await page.waitForFunction(async () => (await window.outbox.status()).total === 0);
  assert.deepEqual(storedIds().sort(), ['event-1', 'event-2', 'event-3']);
  assert.equal(collector.requests[0].contentType, 'application/cloudevents-batch+json');
  // Failed loads while offline are expected; uncaught errors are not.
  assert.deepEqual(errors.filter((e) => !e.startsWith('Failed to load resource')), []);
  await context.close();
});

test('outbox flushes events queued mid-flush', async () => {
  reset('ok');
  const { context, page } = await openPage();
  const outcome = await page.evaluate(async (url) => {
    // The stub delays the first request until the second event is queued.
    let release;
    const held = new Promise((resolve) => {
      release = resolve;
    });
    let requested;
    const firstRequest = new Promise((resolve) => {
      requested = resolve;
    });
    let calls = 0;
    const fetchStub = async (...args) => {
      calls += 1;
      if (calls === 1) {
        requested();
        await held;
      }
      return fetch(...args);
    };
    const outbox = await window.outboxModule.Outbox.open({ fetch: fetchStub });
    await outbox.enqueue(url, '{"id":"before"}', { seq: 1 });
    const running = outbox.flush();
    await firstRequest;
    await outbox.enqueue(url, '{"id":"during"}', { seq: 2 });
    const next = outbox.flush();
    release();
    const results = [await running, await next];
    return { results, status: await outbox.status() };
  }, `${origin}/events`);
  assert.deepEqual(outcome.results, [{ sent: 1, rejected: 0, queued: 0 }, { sent: 1, rejected: 0, queued: 0 }]);
  assert.equal(outcome.status.total, 0, 'nothing waits for a later trigger');
  assert.deepEqual(storedIds(), ['before', 'during']);
  await context.close();
});

test('outbox refuses when full', async () => {
  reset('fail');
  const { context, page } = await openPage();
  const outcome = await page.evaluate(async (url) => {
    const outbox = await window.outboxModule.Outbox.open({ maxQueued: 2 });
    await outbox.enqueue(url, '{"id":"a"}', { seq: 1 });
    await outbox.enqueue(url, '{"id":"b"}', { seq: 2 });
    try {
      await outbox.enqueue(url, '{"id":"c"}', { seq: 3 });
      return { thrown: null };
    } catch (error) {
      return { thrown: error.name, status: await outbox.status(), chain: await outbox.chain() };
    }
  }, `${origin}/events`);
  assert.equal(outcome.thrown, 'OutboxFullError');
  assert.equal(outcome.status.total, 2);
  assert.equal(outcome.chain.seq, 2, 'the chain does not move when nothing is queued');
  await context.close();
});

test('outbox retries 5xx and drops 4xx', async () => {
  reset('fail');
  const { context, page } = await openPage();
  const url = `${origin}/events`;
  const failed = await page.evaluate(async (url) => {
    window.outbox = await window.outboxModule.Outbox.open();
    await window.outbox.enqueue(url, '{"id":"retry-1"}', { seq: 1 });
    await window.outbox.enqueue(url, '{"id":"retry-2"}', { seq: 2 });
    const result = await window.outbox.flush();
    window.outbox.stop();
    return { result, status: await window.outbox.status() };
  }, url);
  assert.deepEqual(failed.result, { sent: 0, rejected: 0, queued: 2 });
  assert.match(failed.status.lastError, /HTTP 500/);

  collector.mode = 'ok';
  const sent = await page.evaluate(() => window.outbox.flush());
  assert.deepEqual(sent, { sent: 2, rejected: 0, queued: 0 });
  assert.deepEqual(storedIds(), ['retry-1', 'retry-2']);

  collector.mode = 'reject';
  const rejected = await page.evaluate(async (url) => {
    await window.outbox.enqueue(url, '{"id":"bad"}', { seq: 3 });
    const result = await window.outbox.flush();
    return { result, status: await window.outbox.status() };
  }, url);
  assert.deepEqual(rejected.result, { sent: 0, rejected: 1, queued: 0 });
  assert.equal(rejected.status.total, 0);
  assert.match(rejected.status.lastError, /HTTP 422: stand-in collector in reject mode/);
  await context.close();
});

test('outbox keeps batches over quota', async () => {
  // 429: the reader is over the collector's hourly quota, so the batch waits.
  reset('quota');
  const { context, page } = await openPage();
  const url = `${origin}/events`;
  const waiting = await page.evaluate(async (url) => {
    window.outbox = await window.outboxModule.Outbox.open();
    await window.outbox.enqueue(url, '{"id":"later-1"}', { seq: 1 });
    const result = await window.outbox.flush();
    window.outbox.stop();
    return { result, status: await window.outbox.status() };
  }, url);
  assert.deepEqual(waiting.result, { sent: 0, rejected: 0, queued: 1 });
  assert.match(waiting.status.lastError, /HTTP 429: stand-in collector in quota mode/);

  collector.mode = 'ok';
  assert.deepEqual(await page.evaluate(() => window.outbox.flush()), { sent: 1, rejected: 0, queued: 0 });
  assert.deepEqual(storedIds(), ['later-1']);
  await context.close();
});

test('outbox retries with backoff', async () => {
  reset('fail');
  const { context, page } = await openPage();
  await page.evaluate(async (url) => {
    window.outbox = await window.outboxModule.Outbox.open();
    await window.outbox.enqueue(url, '{"id":"later"}', { seq: 1 });
    window.outbox.start();
  }, `${origin}/events`);
  await waitFor(() => collector.requests.length >= 1, 'the first attempt');
  collector.mode = 'ok';
  // The first retry comes between 0.5 and 1 second later.
  await waitFor(() => storedIds().includes('later'), 'the retried event', 10_000);
  await page.evaluate(() => window.outbox.stop());
  await context.close();
});

test('outbox beacons on pagehide', async () => {
  reset('fail');
  const { context, page } = await openPage();
  await page.evaluate(async (url) => {
    const outbox = await window.outboxModule.Outbox.open();
    await outbox.enqueue(url, '{"id":"beacon-1"}', { seq: 1 });
    await outbox.enqueue(url, '{"id":"beacon-2"}', { seq: 2 });
    outbox.start();
  }, `${origin}/events`);
  await waitFor(() => collector.requests.length >= 1, 'the first attempt');
  await page.goto('about:blank');
  await waitFor(
    () => collector.requests.some((r) => r.contentType?.startsWith('text/plain') && r.events.length === 2),
    'the beacon',
  );
  const beacon = collector.requests.find((r) => r.contentType?.startsWith('text/plain'));
  assert.deepEqual(beacon.events.map((e) => e.id), ['beacon-1', 'beacon-2']);
  await context.close();
});
