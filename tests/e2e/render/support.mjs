// Test support for the renderer and enforcement scenarios. It starts a static
// server on 127.0.0.1 for www/ and the test documents, serves a page that
// loads the render and enforce modules under the portal's
// Content-Security-Policy, and drives Debian's Chromium with playwright-core.
import { createServer } from 'node:http';
import { cpSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
export const WWW = join(ROOT, 'www');
export const DOCUMENTS = join(ROOT, 'tests', 'documents');
export const FIXTURES = resolve(ROOT, '..', 'shared', 'fixtures');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The portal's policy; the test page uses the same one, sent as a header. */
export const PORTAL_POLICY =
  "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' blob: data:; font-src 'self'; connect-src 'self'; worker-src 'self'; frame-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'";

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.pdf': 'application/pdf',
  '.svg': 'image/svg+xml',
  '.bcmap': 'application/octet-stream',
  '.pfb': 'application/octet-stream',
  '.ttf': 'font/ttf',
};

const TEST_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Renderer test page</title>
<script type="module" src="/__test/page.js"></script></head>
<body><main><div id="content" class="document-content"></div></main></body></html>`;

/**
 * The test page's module. It exposes the render and enforce modules, records
 * every enforcement event and each print call, and sets `window.__pwned` to
 * false. A payload that runs script anywhere it can reach sets the flag.
 *
 * `open` with `queueFailure` (a message) gives the enforcement a
 * `queueEvent` that rejects with it; otherwise `queueEvent` records the
 * event in `window.__queued` and resolves. Each print call records in
 * `window.__printHidden` whether the print style hid the page at that
 * moment, and each `onRefused` message goes to `window.__refusals`.
 */
const TEST_MODULE = `
import { render } from '/src/render/index.js';
import { enforce } from '/src/enforce/index.js';
window.__pwned = false;
window.__events = [];
window.__printCalls = 0;
window.__beforePrint = 0;
addEventListener('beforeprint', () => { window.__beforePrint += 1; });
const nativePrint = window.print;
window.__printHidden = [];
window.__queued = [];
window.__refusals = [];
window.print = function print() {
  window.__printCalls += 1;
  window.__printHidden.push(document.documentElement.classList.contains('valise-print-refused'));
};
// The Markdown and HTML renderer loads the sanitizer module itself, on first use.
window.valiseTest = {
  async open({ url, text, mediaType, rights, watermark = null, enforceFirst = true, queueFailure = null }) {
    const bytes = text === undefined ? new Uint8Array(await (await fetch(url)).arrayBuffer()) : new TextEncoder().encode(text);
    const root = document.getElementById('content');
    const onEvent = (kind, detail) => window.__events.push({ kind, detail });
    const queueEvent = async (kind, detail) => {
      if (queueFailure !== null) throw new Error(queueFailure);
      window.__queued.push({ kind, detail });
    };
    const onRefused = (message) => window.__refusals.push(message);
    window.__enforcement = enforceFirst ? enforce({ root, rights, watermark, onEvent, queueEvent, onRefused }) : null;
    const handle = await render(root, { bytes, mediaType, fileName: url ? url.split('/').pop() : 'document', rights, watermark, onEvent, onExport: (file) => { window.__exported = file.bytes.byteLength; } });
    window.__handle = handle;
    return { kind: handle.kind, reason: handle.reason ?? null };
  },
};
window.__ready = true;
`;

/** Copies pdf.js into www/vendor/pdfjs when the build script has not done it. */
export function ensureVendor() {
  const target = join(WWW, 'vendor', 'pdfjs');
  if (existsSync(join(target, 'pdf.worker.min.mjs'))) return;
  const source = join(ROOT, 'node_modules', 'pdfjs-dist');
  mkdirSync(target, { recursive: true });
  for (const file of ['build/pdf.min.mjs', 'build/pdf.worker.min.mjs', 'LICENSE']) {
    cpSync(join(source, file), join(target, file.replace('build/', '')));
  }
  for (const folder of ['cmaps', 'standard_fonts', 'wasm']) {
    cpSync(join(source, folder), join(target, folder), { recursive: true });
  }
}

function safeJoin(base, path) {
  const full = normalize(join(base, decodeURIComponent(path)));
  return full === base || full.startsWith(base + sep) ? full : null;
}

/** Starts the static server on 127.0.0.1 with an ephemeral port. */
export async function startServer() {
  ensureVendor();
  for (const glue of ['pkg/valise_wasm.js', 'pkg-sanitize/valise_sanitize.js']) {
    if (!existsSync(join(WWW, glue))) {
      throw new Error(`www/${glue} is missing: build the WebAssembly modules first (node scripts/build.mjs)`);
    }
  }
  const requests = [];
  const missing = [];
  const server = createServer((request, response) => {
    const url = new URL(request.url, 'http://127.0.0.1');
    requests.push(url.pathname);
    const send = (status, type, body) => {
      if (status !== 200) missing.push(url.pathname);
      response.writeHead(status, { 'content-type': type, 'content-security-policy': PORTAL_POLICY, 'cache-control': 'no-store' });
      response.end(body);
    };
    if (url.pathname === '/__test/page.html') return send(200, TYPES['.html'], TEST_PAGE);
    if (url.pathname === '/__test/page.js') return send(200, TYPES['.js'], TEST_MODULE);
    let file = null;
    if (url.pathname.startsWith('/documents/')) file = safeJoin(DOCUMENTS, url.pathname.slice('/documents/'.length));
    else if (url.pathname.startsWith('/fixtures/')) file = safeJoin(FIXTURES, url.pathname.slice('/fixtures/'.length));
    else file = safeJoin(WWW, url.pathname.slice(1));
    if (file === null || !existsSync(file) || !statSync(file).isFile()) return send(404, 'text/plain', 'not found');
    return send(200, TYPES[extname(file)] ?? 'application/octet-stream', readFileSync(file));
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return { origin, requests, missing, close: () => new Promise((done) => server.close(done)) };
}

/**
 * Chromium's host resolver answers "not found" for every name but
 * 127.0.0.1, so a request that a hostile document gets past every other
 * guard still cannot leave the machine, not even as a DNS query.
 */
export const HOST_RESOLVER_RULES = '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1';

/** Launches Debian's Chromium headless. */
export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install it with "apt-get install -y chromium" or set CHROMIUM_PATH`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', HOST_RESOLVER_RULES],
  });
}

/** Failure texts of a request that a Content-Security-Policy blocked inside the browser. */
const BLOCKED_BY_POLICY = new Set([
  // A frame navigation blocked by frame-src.
  'net::ERR_BLOCKED_BY_CSP',
  // A subresource (an image, a style sheet) blocked by the renderer's
  // policy check: Chromium 156 reports no error text and the blocked reason
  // "csp", which Playwright 1.65 passes on as the failure text.
  'csp',
]);

/**
 * Opens the test page in a new context and records what a hostile document
 * could do: dialogs, requests to any origin but the test server, page errors
 * and console messages.
 *
 * `foreignRequests` lists the foreign requests the page started that no
 * Content-Security-Policy blocked. `attemptedRequests` lists those that
 * reached the network layer. A route aborts each of them, so none is sent,
 * and a request that a policy blocked never gets that far.
 */
export async function openTestPage(browser, origin, contextOptions = {}) {
  const context = await browser.newContext(contextOptions);
  const observed = { dialogs: [], foreignRequests: [], attemptedRequests: [], popups: [], errors: [], console: [] };
  const isForeign = (url) => !url.startsWith(origin + '/') && !/^(data|blob|about):/.test(url);
  await context.route(
    (url) => isForeign(url.href),
    (route) => {
      observed.attemptedRequests.push(route.request().url());
      return route.abort('blockedbyclient');
    },
  );
  const page = await context.newPage();
  page.on('dialog', async (dialog) => {
    observed.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    await dialog.dismiss().catch(() => {});
  });
  context.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(origin + '/') && !url.startsWith('data:') && !url.startsWith('blob:') && url !== 'about:srcdoc' && url !== 'about:blank') {
      observed.foreignRequests.push(url);
    }
  });
  // Chromium may report a request before its policy check cancels it: a
  // frame navigation, or now and then an image of a sandboxed srcdoc frame. A request that a policy blocked never left the browser, so
  // it does not count as a leak.
  context.on('requestfailed', (request) => {
    if (BLOCKED_BY_POLICY.has(request.failure()?.errorText)) {
      const index = observed.foreignRequests.indexOf(request.url());
      if (index !== -1) observed.foreignRequests.splice(index, 1);
    }
  });
  context.on('page', (popup) => observed.popups.push(popup.url()));
  page.on('pageerror', (error) => observed.errors.push(String(error)));
  page.on('console', (message) => observed.console.push(`${message.type()}: ${message.text()}`));
  await page.goto(`${origin}/__test/page.html`);
  await page.waitForFunction(() => window.__ready === true);
  return { context, page, observed };
}

/** Rights objects used across the scenarios. */
export const RIGHTS = {
  viewOnly: { view: true, print: false, copy: false, forward: false, export: false, watermark: true },
  everything: { view: true, print: true, copy: true, forward: true, export: true, watermark: true },
  printOnly: { view: true, print: true, copy: false, forward: false, export: false, watermark: true },
  copyOnly: { view: true, print: false, copy: true, forward: false, export: false, watermark: false },
};

export const WATERMARK = 'Alice Analyst · Alpha CERT · 2026-12-04 20:00 UTC · package 6f1c0b9e';

/** Renders a document in the test page and returns `{ kind, reason }`. */
export function openDocument(page, options) {
  return page.evaluate((settings) => window.valiseTest.open(settings), options);
}

/** Returns the enforcement events recorded by the test page. */
export function events(page) {
  return page.evaluate(() => window.__events);
}

/** Runs a scenario with a server, a browser and a test page, closing all afterwards. */
export async function withPage(scenario, contextOptions = {}) {
  const server = await startServer();
  const browser = await launchBrowser();
  try {
    const { page, observed } = await openTestPage(browser, server.origin, contextOptions);
    await scenario({ page, observed, origin: server.origin });
  } finally {
    await browser.close();
    await server.close();
  }
}
