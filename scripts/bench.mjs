// `npm run bench`: measures the viewer against what a user could pick
// instead, side by side in one run, and prints a table of ratios. It builds
// the wasm module and the CLI in release mode, makes a demo community and
// packages of the sizes below, serves a cross-origin-isolated bench page on
// 127.0.0.1 and drives Debian's Chromium through it. The full run writes
// bench/results.json (the record the figures in docs/benchmarks.md come
// from); `--smoke` (or BENCH_SMOKE=1) uses small sizes, reuses what is
// already built, writes its JSON to a temporary folder and takes under two
// minutes, so CI keeps the suite working.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { parse as parseToml } from 'smol-toml';
import { writeLargePdf } from '../bench/lib/pdf.mjs';
import { serveBench } from '../bench/lib/server.mjs';
import { CHROMIUM_ARGS } from '../tests/e2e/lib/browser.mjs';
import { DEMO_PASSPHRASE, buildDemo } from './lib/demo.mjs';
import { CHROMIUM_PATH, ROOT, ensureChromium, output, run } from './lib/setup.mjs';

const MiB = 1024 * 1024;
const { values: options } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    'skip-build': { type: 'boolean', default: false },
    out: { type: 'string' },
    only: { type: 'string' },
    'open-mib': { type: 'string' },
    'pdf-mib': { type: 'string' },
  },
});
/** Groups of figures to measure; `--only open,pdf` runs a subset while iterating and writes no table. */
const GROUPS = ['cold', 'open', 'pdf', 'progress', 'memory', 'cli'];
const only = options.only ? new Set(options.only.split(',')) : new Set(GROUPS);
for (const group of only) {
  if (!GROUPS.includes(group)) {
    throw new Error(`--only: unknown group ${group}; expected some of ${GROUPS.join(', ')}`);
  }
}
const smoke = options.smoke || process.env.BENCH_SMOKE === '1';
const SIZES = smoke
  ? { open: [1 * MiB, 4 * MiB], pdf: [1 * MiB, 3 * MiB], cli: 4 * MiB, runs: 1 }
  : { open: [16 * MiB, 64 * MiB], pdf: [10 * MiB, 100 * MiB], cli: 64 * MiB, runs: 3 };
// `--open-mib 16` and `--pdf-mib 10,100` replace the package sizes (in MiB) while iterating.
for (const [option, key] of [['open-mib', 'open'], ['pdf-mib', 'pdf']]) {
  if (options[option]) {
    SIZES[key] = options[option].split(',').map((text) => Number(text) * MiB);
  }
}
const PERSON = 'alice';
const SEGMENT_SIZE = 2 * MiB;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function mib(bytes) {
  return `${(bytes / MiB).toFixed(0)} MiB`;
}

/**
 * Builds the release wasm module and CLI; the smoke run, and a run with
 * `--skip-build` (figures of what was built last), reuse what exists.
 */
function build() {
  const reuse = smoke || options['skip-build'];
  if (!reuse || !existsSync(join(ROOT, 'www', 'pkg', 'valise_wasm_bg.wasm'))) {
    run('node', [join(ROOT, 'scripts', 'build.mjs'), '--only', 'portal']);
  }
  const release = join(ROOT, 'target', 'release', 'valise');
  if (!reuse || (!smoke && !existsSync(release))) {
    run('cargo', ['build', '-p', 'valise', '--release', '--locked']);
    return { cli: release, profile: 'release' };
  }
  if (existsSync(release)) {
    return { cli: release, profile: 'release' };
  }
  const debug = join(ROOT, 'target', 'debug', 'valise');
  if (!existsSync(debug)) {
    run('cargo', ['build', '-p', 'valise', '--locked']);
  }
  return { cli: debug, profile: 'debug' };
}

function machine(browserVersion) {
  const lscpu = output('lscpu', []) ?? '';
  const dirty = (output('git', ['status', '--porcelain'], { cwd: ROOT }) ?? '').length > 0;
  return {
    cpu: lscpu.match(/^Model name:\s*(.+)$/m)?.[1] ?? cpus()[0]?.model ?? 'unknown',
    cores: Number(output('nproc', [])) || cpus().length,
    aesInstructions: /\baes\b/.test(lscpu),
    browser: `Chromium ${browserVersion}`,
    commit: `${output('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }) ?? 'unknown'}${dirty ? '+dirty' : ''}`,
    loadAverageAtStart: loadavg().map((value) => Number(value.toFixed(2))),
  };
}

/** Runs the CLI; throws with its stderr on failure. */
function valise(cli, args) {
  const result = spawnSync(cli, args, { encoding: 'utf8', env: { ...process.env, VALISE_PASSPHRASE: DEMO_PASSPHRASE } });
  if (result.status !== 0) {
    throw new Error(`valise ${args.join(' ')} failed (status ${result.status}):\n${result.stderr}`);
  }
}

function sealTo(cli, demo, input, outFile, mediaType) {
  const token = readFileSync(join(demo, 'identities', `${PERSON}.credential.jws`), 'utf8').trim();
  const kid = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')).keyAccessKey.kid;
  valise(cli, [
    'seal', input,
    '--to', `${kid}=${join(demo, 'identities', `${PERSON}.pub.pem`)}`,
    '--sign-key', join(demo, 'community', 'alpha-cert.sign.key.pem'),
    '--org', 'alpha-cert',
    '--community', 'https://demo-isac.invalid',
    '--label', 'TLP:AMBER',
    '--media-type', mediaType,
    '--segment-size', String(SEGMENT_SIZE),
    '-o', outFile,
  ]);
}

function writeRandom(path, size) {
  const chunks = [];
  for (let written = 0; written < size; written += 16 * MiB) {
    chunks.push(randomBytes(Math.min(16 * MiB, size - written)));
  }
  writeFileSync(path, Buffer.concat(chunks));
}

function timed(step) {
  const started = process.hrtime.bigint();
  step();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/**
 * Creates a folder for the CLI's files in memory (/dev/shm) where the
 * machine has one, because the CLI syncs what it writes and on a disk that
 * sync would set the pace. Falls back to a folder in `data`.
 */
function cliFolder(data) {
  try {
    return mkdtempSync(join('/dev/shm', 'valise-bench-cli-'));
  } catch {
    return mkdtempSync(join(data, 'cli-'));
  }
}

/**
 * The CLI's seal and open throughput next to `openssl speed` in MB/s. Each
 * command also runs on a 1 KiB input, whose time is the fixed cost
 * (starting the process, decrypting the PBES2 key file, the signatures);
 * the throughput counts the time beyond that.
 */
function cliFigures(cli, demo, data) {
  const folder = cliFolder(data);
  try {
    return cliFiguresIn(cli, demo, folder);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

function cliFiguresIn(cli, demo, folder) {
  // Without a trust list the CLI writes plaintext only for a signer named
  // with --signer and rights that allow export, so the CLI figure seals
  // TLP:CLEAR with a signing key of its own.
  const signer = join(folder, 'cli-signer');
  valise(cli, ['keygen', '--out', signer, '--no-encrypt']);
  const recipient = join(demo, 'identities', `${PERSON}.pub.pem`);
  const timesFor = (size) => {
    const input = join(folder, `input-${size}.bin`);
    const sealed = join(folder, `sealed-${size}.tdf`);
    const opened = join(folder, `output-${size}.bin`);
    writeRandom(input, size);
    const seal = [];
    const open = [];
    for (let runIndex = 0; runIndex < SIZES.runs + 1; runIndex += 1) {
      rmSync(sealed, { force: true });
      rmSync(opened, { force: true });
      seal.push(timed(() => valise(cli, [
        'seal', input,
        `--to=${recipient}`,
        '--sign-key', `${signer}.key.pem`,
        '--label', 'TLP:CLEAR',
        '--media-type', 'application/octet-stream',
        '--segment-size', String(SEGMENT_SIZE),
        '-o', sealed,
      ])));
      open.push(timed(() => valise(cli, ['open', sealed, '--key', join(demo, 'identities', `${PERSON}.key.pem`), '--signer', `${signer}.pub.pem`, '-o', opened])));
    }
    if (statSync(opened).size !== size) {
      throw new Error('valise open wrote a file of the wrong size');
    }
    rmSync(input);
    rmSync(opened);
    // The first run warms the page cache; the median of the others counts.
    return { sealMs: median(seal.slice(1)), openMs: median(open.slice(1)) };
  };
  const small = timesFor(1024);
  const large = timesFor(SIZES.cli);
  const openssl = opensslSpeed('aes-256-gcm');
  const sha256 = opensslSpeed('sha256');
  // The best any open of the format could do with OpenSSL's own code on
  // every core: each byte is decrypted once and hashed twice (its encrypted
  // segment and the whole plaintext), spread over the cores without loss.
  const cores = Math.min(cpus().length, 2);
  const ceilingMBps = cores / (1 / openssl + 2 / sha256);
  const mbps = (bytes, ms) => bytes / 1e6 / (ms / 1000);
  const beyond = (key) => mbps(SIZES.cli - 1024, Math.max(large[key] - small[key], 0.001));
  return {
    size: SIZES.cli,
    folder: folder.startsWith('/dev/shm') ? '/dev/shm' : 'disk',
    sealMs: large.sealMs,
    openMs: large.openMs,
    sealFixedMs: small.sealMs,
    openFixedMs: small.openMs,
    sealMBps: mbps(SIZES.cli, large.sealMs),
    openMBps: mbps(SIZES.cli, large.openMs),
    sealBeyondFixedMBps: beyond('sealMs'),
    openBeyondFixedMBps: beyond('openMs'),
    opensslMBps: openssl,
    sha256MBps: sha256,
    ceilingCores: cores,
    ceilingMBps,
    openCeilingRatio: ceilingMBps / openssl,
    sealRatio: beyond('sealMs') / openssl,
    openRatio: beyond('openMs') / openssl,
    sealWallRatio: mbps(SIZES.cli, large.sealMs) / openssl,
    openWallRatio: mbps(SIZES.cli, large.openMs) / openssl,
  };
}

/** `openssl speed -elapsed -evp ALGORITHM` on 16 KiB blocks, in MB/s of wall time on one thread. */
function opensslSpeed(algorithm) {
  const output = execFileSync('openssl', ['speed', '-elapsed', '-evp', algorithm, '-bytes', '16384', '-seconds', smoke ? '1' : '3'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const line = output.split('\n').find((text) => text.trim().toLowerCase().startsWith(`${algorithm} `));
  const kilobytes = Number(line?.trim().split(/\s+/).at(-1)?.replace(/k$/, ''));
  if (!Number.isFinite(kilobytes)) {
    throw new Error(`openssl speed printed no figure for ${algorithm}`);
  }
  return (kilobytes * 1000) / 1e6;
}

function wasmSize() {
  const file = join(ROOT, 'www', 'pkg', 'valise_wasm_bg.wasm');
  const bytes = readFileSync(file);
  const config = parseToml(readFileSync(join(ROOT, 'wasm-pack.toml'), 'utf8'));
  const budget = config.build?.find((entry) => entry.name === 'portal')?.['size-budget-gzip-bytes'] ?? config.defaults?.['size-budget-gzip-bytes'];
  return {
    rawBytes: bytes.length,
    gzipBytes: gzipSync(bytes, { level: 9 }).length,
    budgetGzipBytes: Number(budget),
    optLevel: config.defaults?.['wasm-opt']?.find((flag) => /^-O/.test(flag)) ?? null,
  };
}

/** The process ids under `root` (children, grandchildren, ...). */
function descendants(root) {
  const parents = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // The process ended meanwhile.
    }
  }
  const found = [];
  for (const [pid] of parents) {
    for (let cursor = parents.get(pid); cursor; cursor = parents.get(cursor)) {
      if (cursor === root) {
        found.push(pid);
        break;
      }
    }
  }
  return found;
}

function status(pid, field) {
  const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  return match ? Number(match[1]) * 1024 : null;
}

/**
 * The renderer processes of our browser (the one started with `marker`
 * among its arguments; other browsers may run on the machine).
 */
function renderersOf(marker) {
  const browserPid = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .find((entry) => {
      try {
        const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
        return cmdline.includes(marker) && !cmdline.includes('--type=');
      } catch {
        return false;
      }
    });
  return descendants(Number(browserPid)).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=renderer');
    } catch {
      return false;
    }
  });
}

async function newBenchPage(browser, url, setup) {
  const context = await browser.newContext();
  const page = await context.newPage();
  if (process.env.BENCH_TRACE === '1') {
    // Prints when pdf.js asks for ranges and when segments verify.
    await page.addInitScript(() => {
      globalThis.benchTrace = true;
    });
    page.on('console', (message) => message.text().startsWith('trace ') && console.error(message.text()));
  }
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${url}/bench/index.html`);
  await page.waitForFunction(() => window.bench !== undefined, null, { timeout: 60_000 });
  const ready = await page.evaluate((args) => window.bench.setup(args), setup);
  if (!ready.crossOriginIsolated) {
    throw new Error('the bench page is not cross-origin isolated: check the COOP and COEP headers');
  }
  return { context, page, ready, errors };
}

async function measure(page, fn, args) {
  return page.evaluate(([name, value]) => window.bench[name](...value), [fn, args]);
}

/** Runs `fn` once to warm up (the cold figure), then `SIZES.runs` times. */
async function repeated(page, fn, args) {
  const cold = await measure(page, fn, args);
  const warm = [];
  for (let index = 0; index < SIZES.runs; index += 1) {
    warm.push(await measure(page, fn, args));
  }
  const pick = (key) => median(warm.map((result) => result[key]));
  return { cold, warm: warm[0] && Object.fromEntries(Object.keys(warm[0]).map((key) => [key, typeof warm[0][key] === 'number' ? pick(key) : warm[0][key]])) };
}

/**
 * Runs `fn` once to warm up, then once more: `fn` itself reports its
 * fastest rounds (a floor), which the table reads as the warm figure.
 */
async function lowest(page, fn, args) {
  await measure(page, fn, [{ ...args[0], runs: 1 }]);
  return { warm: await measure(page, fn, args) };
}

/**
 * Peak resident memory of the renderers (the page, its workers and pdf.js's
 * worker live there) while `fn` opens a package already fetched into the
 * page, over the document size: the open starts from the bytes in memory,
 * as M4 does. The "fetch only" row measures the fetch itself (`fn` is
 * fetchBytes, nothing fetched before). Each renderer's peak is reset
 * first; the idle ones add nothing.
 */
async function peakMemory(browser, url, setup, marker, fn, packageUrl, size, fnOptions = {}) {
  const { context, page } = await newBenchPage(browser, url, setup);
  if (fn !== 'fetchBytes') {
    await measure(page, 'fetchBytes', [packageUrl]);
  }
  await page.evaluate(() => globalThis.gc?.());
  const pids = renderersOf(marker);
  const before = new Map();
  for (const pid of pids) {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    before.set(pid, status(pid, 'VmRSS'));
  }
  await measure(page, fn, [packageUrl, { ...fnOptions, consume: true }]);
  let extra = 0;
  for (const pid of pids) {
    extra += Math.max(0, status(pid, 'VmHWM') - before.get(pid));
  }
  await context.close();
  return { renderers: pids.length, extraBytes: extra, ratio: extra / size };
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'valise-bench-'));
  try {
    await benchmark(work);
  } finally {
    // The packages and keys go; a smoke run's results.json stays for CI logs.
    rmSync(join(work, 'data'), { recursive: true, force: true });
    rmSync(join(work, 'demo'), { recursive: true, force: true });
  }
}

async function benchmark(work) {
  const started = Date.now();
  ensureChromium();
  const { cli, profile } = build();
  const demo = join(work, 'demo');
  const data = join(work, 'data');
  const manifest = buildDemo(demo, { cli });
  execFileSync('mkdir', ['-p', data]);

  const packages = {};
  for (const size of only.has('open') || only.has('memory') ? SIZES.open : []) {
    const input = join(data, `random-${size}.bin`);
    writeRandom(input, size);
    sealTo(cli, demo, input, join(data, `random-${size}.tdf`), 'application/octet-stream');
    rmSync(input);
    packages[`open-${size}`] = `/data/random-${size}.tdf`;
  }
  const pdfPages = {};
  for (const size of only.has('pdf') || only.has('progress') || only.has('memory') ? SIZES.pdf : []) {
    const pdf = join(data, `large-${size}.pdf`);
    pdfPages[size] = writeLargePdf(pdf, size);
    sealTo(cli, demo, pdf, join(data, `large-${size}.tdf`), 'application/pdf');
    if (only.has('pdf')) {
      const balanced = join(data, `large-${size}-balanced.pdf`);
      writeLargePdf(balanced, size, { pageTree: 'balanced' });
      sealTo(cli, demo, balanced, join(data, `large-${size}-balanced.tdf`), 'application/pdf');
    }
  }
  const cliResult = only.has('cli') ? cliFigures(cli, demo, data) : null;

  const server = await serveBench({
    '/www/': join(ROOT, 'www'),
    '/bench/': join(ROOT, 'bench', 'page'),
    '/openpgp/': join(ROOT, 'node_modules', 'openpgp', 'dist'),
    '/data/': data,
    '/demo/': demo,
  });
  const marker = `--valise-bench=${randomBytes(6).toString('hex')}`;
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS, '--js-flags=--expose-gc', marker],
  });
  const setup = {
    trustUrl: '/demo/community/trust.json',
    rootKeyFingerprints: [manifest.rootFingerprint],
    keyUrl: `/demo/identities/${PERSON}.key.pem`,
    credentialUrl: `/demo/identities/${PERSON}.credential.jws`,
    passphrase: manifest.passphrase,
  };
  const results = { smoke, machine: machine(browser.version()), cliProfile: profile, sizes: SIZES, figures: {} };
  const figures = results.figures;
  try {
    // M10: cold start in a fresh context: compile and instantiate the
    // module, then open the demo PDF and paint its first page. A single
    // cold sample moved between 0.02 and 0.08, so the median of several
    // fresh contexts counts, and every share is kept.
    if (only.has('cold')) {
      const samples = [];
      for (let run = 0; run < SIZES.runs; run += 1) {
        const cold = await newBenchPage(browser, server.url, setup);
        const coldPaint = await measure(cold.page, 'pdfFirstPaint', ['/demo/packages/wiper-alert.tdf', 'stream']);
        // The first page counts from a cold page: the module fetched,
        // compiled and instantiated, then the open and the paint.
        const total = cold.ready.loadCoreMs + coldPaint.ms;
        samples.push({
          loadCoreMs: cold.ready.loadCoreMs,
          fetchMs: cold.ready.fetchMs,
          compileMs: cold.ready.compileMs,
          instantiateMs: cold.ready.instantiateMs,
          unlockMs: cold.ready.unlockMs,
          firstPageMs: coldPaint.ms,
          share: (cold.ready.compileMs + cold.ready.instantiateMs) / total,
          shareWithFetch: cold.ready.loadCoreMs / total,
        });
        await cold.context.close();
      }
      samples.sort((a, b) => a.share - b.share);
      figures.coldStart = { ...samples[Math.floor(samples.length / 2)], shares: samples.map((sample) => sample.share) };
    }

    const { page, context, errors } = await newBenchPage(browser, server.url, setup);
    // The streaming path must refuse an altered segment before anything is
    // timed. `--only cold` builds no large package, and times no stream.
    const alterable = packages[`open-${SIZES.open.at(-1)}`] ?? (existsSync(join(data, `large-${SIZES.pdf.at(-1)}.tdf`)) ? `/data/large-${SIZES.pdf.at(-1)}.tdf` : null);
    if (alterable !== null) {
      const tampered = await measure(page, 'openWorkerTampered', [alterable]);
      if (tampered.error !== 'IntegrityError' || !tampered.zeroed) {
        throw new Error(`streaming an altered package ended with ${JSON.stringify(tampered)}, expected IntegrityError`);
      }
    }
    figures.open = [];
    for (const size of only.has('open') ? SIZES.open : []) {
      const url = packages[`open-${size}`];
      const main = await repeated(page, 'openMain', [url]);
      const worker = await repeated(page, 'openWorker', [url]);
      const worker1 = await repeated(page, 'openWorker', [url, { inFlight: 1 }]);
      const oneWorker = await repeated(page, 'openWorker', [url, { workers: 1 }]);
      const twoWorkersOpen = await repeated(page, 'openWorker', [url, { workers: 2 }]);
      const fourInFlight = await repeated(page, 'openWorker', [url, { inFlight: 4 }]);
      const digestInWorker = await repeated(page, 'openWorker', [url, { plaintextDigest: 'worker' }]);
      const subtle = await repeated(page, 'subtleBaseline', [{ size, segmentSize: SEGMENT_SIZE, inFlight: 4, runs: 1 }]);
      const floor = await lowest(page, 'formatFloor', [{ size, segmentSize: SEGMENT_SIZE, inFlight: 4, runs: SIZES.runs + 2 }]);
      const openpgp = await repeated(page, 'openpgpBaseline', [{ size, runs: 1 }]);
      const twoWorkers = await measure(page, 'twoWorkersBaseline', [{ size, segmentSize: SEGMENT_SIZE, runs: 5 }]);
      figures.open.push({
        size,
        main,
        worker,
        workerOneInFlight: worker1,
        oneWorker,
        twoWorkersOpen,
        workerFourInFlight: fourInFlight,
        workerDigestInWorker: digestInWorker,
        subtle,
        floor,
        openpgp,
        twoWorkers,
        m1: { main: subtle.warm.ms / main.warm.ms, worker: subtle.warm.ms / worker.warm.ms, workerCold: subtle.cold.ms / worker.cold.ms, floor: subtle.warm.ms / floor.warm.ms, floorSegmentsOnly: subtle.warm.ms / floor.warm.segmentsMs },
        m2: { main: openpgp.warm.ms / main.warm.ms, worker: openpgp.warm.ms / worker.warm.ms },
      });
    }
    figures.pdf = [];
    for (const size of only.has('pdf') ? SIZES.pdf : []) {
      const url = `/data/large-${size}.tdf`;
      const plain = await repeated(page, 'pdfFirstPaint', [`/data/large-${size}.pdf`, 'plain']);
      const main = await repeated(page, 'pdfFirstPaint', [url, 'main']);
      const stream = await repeated(page, 'pdfFirstPaint', [url, 'stream']);
      const streamOneWorker = await repeated(page, 'pdfFirstPaint', [url, 'stream', { workers: 1 }]);
      const streamTwoWorkers = await repeated(page, 'pdfFirstPaint', [url, 'stream', { workers: 2 }]);
      const portal = await repeated(page, 'pdfFirstPaintPortal', [url]);
      // The same pages under a balanced page tree, where pdf.js needs a few
      // segments before it paints instead of nearly all of them.
      const balancedUrl = `/data/large-${size}-balanced.tdf`;
      const balancedPlain = await repeated(page, 'pdfFirstPaint', [`/data/large-${size}-balanced.pdf`, 'plain']);
      const balancedStream = await repeated(page, 'pdfFirstPaint', [balancedUrl, 'stream']);
      const balancedPortal = await repeated(page, 'pdfFirstPaintPortal', [balancedUrl]);
      const balancedUncapped = await repeated(page, 'pdfFirstPaint', [balancedUrl, 'stream', { background: Number.MAX_SAFE_INTEGER }]);
      const uncapped = await repeated(page, 'pdfFirstPaint', [url, 'stream', { background: Number.MAX_SAFE_INTEGER }]);
      figures.pdf.push({
        size,
        pages: pdfPages[size],
        plain,
        main,
        stream,
        streamOneWorker,
        streamTwoWorkers,
        uncapped,
        portal,
        m4: {
          main: main.warm.ms / plain.warm.ms,
          stream: stream.warm.ms / plain.warm.ms,
          streamCold: stream.cold.ms / plain.cold.ms,
          streamOneWorker: streamOneWorker.warm.ms / plain.warm.ms,
          streamTwoWorkers: streamTwoWorkers.warm.ms / plain.warm.ms,
          uncapped: uncapped.warm.ms / plain.warm.ms,
          portal: portal.warm.ms / plain.warm.ms,
        },
        balanced: {
          plain: balancedPlain,
          stream: balancedStream,
          uncapped: balancedUncapped,
          portal: balancedPortal,
          m4: {
            stream: balancedStream.warm.ms / balancedPlain.warm.ms,
            streamCold: balancedStream.cold.ms / balancedPlain.cold.ms,
            uncapped: balancedUncapped.warm.ms / balancedPlain.warm.ms,
            portal: balancedPortal.warm.ms / balancedPlain.warm.ms,
          },
        },
      });
    }
    // M11: progress while opening the largest PDF package in the worker.
    const largest = SIZES.pdf.at(-1);
    if (only.has('progress')) {
      const progress = await repeated(page, 'openWorker', [`/data/large-${largest}.tdf`]);
      const digestInWorker = await repeated(page, 'openWorker', [`/data/large-${largest}.tdf`, { plaintextDigest: 'worker' }]);
      const floor = await lowest(page, 'formatFloor', [{ size: progress.warm.size, segmentSize: SEGMENT_SIZE, inFlight: 4, runs: SIZES.runs + 2 }]);
      figures.progress = {
        size: largest,
        ...progress,
        digestInWorker,
        floor,
        m11: progress.warm.maxGapMs / progress.warm.ms,
        m11DigestInWorker: digestInWorker.warm.maxGapMs / digestInWorker.warm.ms,
        m11Floor: floor.warm.wholeDigestMs / floor.warm.ms,
      };
    }
    if (errors.length > 0) {
      throw new Error(`the bench page reported errors:\n${errors.join('\n')}`);
    }
    await context.close();

    // M5: peak memory of the renderer, each in a fresh context.
    figures.memory = [];
    for (const [label, size, url, plaintextSize] of !only.has('memory') ? [] : [
      ['open', SIZES.open.at(-1), packages[`open-${SIZES.open.at(-1)}`], SIZES.open.at(-1)],
      ['pdf', largest, `/data/large-${largest}.tdf`, statSync(join(data, `large-${largest}.pdf`)).size],
    ]) {
      // "fetch only" is the baseline every path pays: the page fetching the package into an ArrayBuffer.
      for (const [path, fn, fnOptions] of [
        ['fetch only', 'fetchBytes', {}],
        ['openMain', 'openMain', {}],
        ['openWorker', 'openWorker', {}],
        ['openWorker, one worker', 'openWorker', { workers: 1 }],
        ['openWorker, digest in worker', 'openWorker', { plaintextDigest: 'worker' }],
      ]) {
        // When the collector frees garbage varies from run to run, so the
        // median of several fresh contexts counts, and every ratio is kept.
        const samples = [];
        for (let run = 0; run < SIZES.runs; run += 1) {
          samples.push(await peakMemory(browser, server.url, setup, marker, fn, url, plaintextSize, fnOptions));
        }
        samples.sort((a, b) => a.ratio - b.ratio);
        const middle = samples[Math.floor(samples.length / 2)];
        figures.memory.push({ what: label, size, path, ...middle, ratios: samples.map((sample) => sample.ratio) });
      }
    }
  } finally {
    await browser.close();
    await server.close();
  }
  figures.cli = cliResult;
  figures.wasm = wasmSize();
  results.machine.loadAverageAtEnd = loadavg().map((value) => Number(value.toFixed(2)));
  results.elapsedSeconds = Math.round((Date.now() - started) / 1000);

  if (only.size < GROUPS.length) {
    // A partial run is for iterating: it prints its figures and keeps the record of the last full run.
    console.log(JSON.stringify(figures, null, 2));
    return;
  }
  const out = options.out ?? (smoke ? join(work, 'results.json') : join(ROOT, 'bench', 'results.json'));
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  printTable(results);
  console.log(`\nresults: ${out}`);
}

function printTable({ machine: info, figures, cliProfile }) {
  const rows = [];
  const row = (figure, ours, baseline, ratio, goal) => rows.push([figure, ours, baseline, ratio.toFixed(2), goal]);
  const ms = (value) => `${value.toFixed(1)} ms`;
  for (const entry of figures.open) {
    row(`M1 open ${mib(entry.size)}, stream (warm)`, ms(entry.worker.warm.ms), `subtle ${ms(entry.subtle.warm.ms)}`, entry.m1.worker, '>= 0.9');
    row(`M1 open ${mib(entry.size)}, stream (cold)`, ms(entry.worker.cold.ms), `subtle ${ms(entry.subtle.cold.ms)}`, entry.m1.workerCold, '>= 0.9');
    row(`M1 open ${mib(entry.size)}, main thread wasm`, ms(entry.main.warm.ms), `subtle ${ms(entry.subtle.warm.ms)}`, entry.m1.main, '>= 0.9');
    for (const [variant, result] of [
      ['one worker', entry.oneWorker],
      ['two workers', entry.twoWorkersOpen],
      ['1 in flight', entry.workerOneInFlight],
      ['4 in flight', entry.workerFourInFlight],
      ['digest in its one worker', entry.workerDigestInWorker],
    ]) {
      row(`M1 open ${mib(entry.size)}, stream, ${variant} (warm)`, ms(result.warm.ms), `subtle ${ms(entry.subtle.warm.ms)}`, entry.subtle.warm.ms / result.warm.ms, '>= 0.9');
    }
    row(`M1 ceiling ${mib(entry.size)}: the format's WebCrypto work alone`, ms(entry.floor.warm.ms), `subtle ${ms(entry.subtle.warm.ms)}`, entry.m1.floor, '>= 0.9');
    row(`M1 ceiling ${mib(entry.size)} without the whole-plaintext digest`, ms(entry.floor.warm.segmentsMs), `subtle ${ms(entry.subtle.warm.ms)}`, entry.m1.floorSegmentsOnly, '>= 0.9');
    row(`WebCrypto work of ${mib(entry.size)} in two workers`, ms(entry.twoWorkers.twoWorkersMs), `one worker ${ms(entry.twoWorkers.ms)}`, entry.twoWorkers.ms / entry.twoWorkers.twoWorkersMs, '> 1 helps');
    row(`M2 open ${mib(entry.size)} vs OpenPGP.js`, ms(entry.worker.warm.ms), `openpgp ${ms(entry.openpgp.warm.ms)}`, entry.m2.worker, '>= 1.2');
  }
  for (const entry of figures.pdf) {
    row(`M4 first page ${mib(entry.size)} PDF, stream (warm)`, ms(entry.stream.warm.ms), `pdf.js ${ms(entry.plain.warm.ms)}`, entry.m4.stream, '<= 1.10');
    row(`M4 first page ${mib(entry.size)} PDF, stream (cold)`, ms(entry.stream.cold.ms), `pdf.js ${ms(entry.plain.cold.ms)}`, entry.m4.streamCold, '<= 1.10');
    row(`M4 first page ${mib(entry.size)} PDF, stream, one worker (warm)`, ms(entry.streamOneWorker.warm.ms), `pdf.js ${ms(entry.plain.warm.ms)}`, entry.m4.streamOneWorker, '<= 1.10');
    row(`M4 first page ${mib(entry.size)} PDF, stream, two workers (warm)`, ms(entry.streamTwoWorkers.warm.ms), `pdf.js ${ms(entry.plain.warm.ms)}`, entry.m4.streamTwoWorkers, '<= 1.10');
    row(`M4 first page ${mib(entry.size)} PDF, stream, background uncapped (warm)`, ms(entry.uncapped.warm.ms), `pdf.js ${ms(entry.plain.warm.ms)}`, entry.m4.uncapped, '<= 1.10');
    row(`M4 first page ${mib(entry.size)} PDF, portal renderer (warm)`, ms(entry.portal.warm.ms), `pdf.js ${ms(entry.plain.warm.ms)}`, entry.m4.portal, '<= 1.10');
    row(`M4 first page ${mib(entry.size)} PDF, main thread`, ms(entry.main.warm.ms), `pdf.js ${ms(entry.plain.warm.ms)}`, entry.m4.main, '<= 1.10');
    const balanced = entry.balanced;
    row(`M4 first page ${mib(entry.size)} PDF, balanced page tree, stream (warm)`, ms(balanced.stream.warm.ms), `pdf.js ${ms(balanced.plain.warm.ms)}`, balanced.m4.stream, '<= 1.10');
    row(`M4 first page ${mib(entry.size)} PDF, balanced page tree, stream (cold)`, ms(balanced.stream.cold.ms), `pdf.js ${ms(balanced.plain.cold.ms)}`, balanced.m4.streamCold, '<= 1.10');
    row(`M4 first page ${mib(entry.size)} PDF, balanced page tree, stream, background uncapped (warm)`, ms(balanced.uncapped.warm.ms), `pdf.js ${ms(balanced.plain.warm.ms)}`, balanced.m4.uncapped, '<= 1.10');
    row(`M4 first page ${mib(entry.size)} PDF, balanced page tree, portal renderer (warm)`, ms(balanced.portal.warm.ms), `pdf.js ${ms(balanced.plain.warm.ms)}`, balanced.m4.portal, '<= 1.10');
  }
  for (const entry of figures.memory) {
    const spread = entry.ratios.length > 1 ? ` (${Math.min(...entry.ratios).toFixed(2)}-${Math.max(...entry.ratios).toFixed(2)})` : '';
    row(`M5 peak memory ${entry.what} ${mib(entry.size)}, ${entry.path}${spread}`, mib(entry.extraBytes), `document ${mib(entry.size)}`, entry.ratio, '<= 1.5');
  }
  const cold = figures.coldStart;
  const coldTotal = cold.loadCoreMs + cold.firstPageMs;
  const coldSpread = cold.shares.length > 1 ? ` (${Math.min(...cold.shares).toFixed(2)}-${Math.max(...cold.shares).toFixed(2)})` : '';
  row(`M10 module compile+instantiate / time to first page (cold)${coldSpread}`, ms(cold.compileMs + cold.instantiateMs), `first page ${ms(coldTotal)}`, cold.share, '<= 0.05');
  row('M10 module fetch+compile+instantiate / time to first page (cold)', ms(cold.loadCoreMs), `first page ${ms(coldTotal)}`, cold.shareWithFetch, '');
  row(`M11 largest progress gap, ${mib(figures.progress.size)}`, ms(figures.progress.warm.maxGapMs), `total ${ms(figures.progress.warm.ms)}`, figures.progress.m11, '<= 0.01');
  row(`M11 largest progress gap, ${mib(figures.progress.size)}, digest in its one worker`, ms(figures.progress.digestInWorker.warm.maxGapMs), `total ${ms(figures.progress.digestInWorker.warm.ms)}`, figures.progress.m11DigestInWorker, '<= 0.01');
  row(`M11 share of the whole-plaintext digest call (no progress while it runs), ${mib(figures.progress.size)}`, ms(figures.progress.floor.warm.wholeDigestMs), `WebCrypto work ${ms(figures.progress.floor.warm.ms)}`, figures.progress.m11Floor, '<= 0.01');
  row(`page responsiveness: latest 10 ms timer while opening ${mib(figures.progress.size)}`, ms(figures.progress.warm.mainThreadLatenessMs), `total ${ms(figures.progress.warm.ms)}`, figures.progress.warm.mainThreadLatenessMs / figures.progress.warm.ms, '');
  row('wasm module gzip', `${figures.wasm.gzipBytes} B (raw ${figures.wasm.rawBytes} B)`, `budget ${figures.wasm.budgetGzipBytes} B`, figures.wasm.gzipBytes / figures.wasm.budgetGzipBytes, '<= 1');
  const cliRun = figures.cli;
  const where = `${cliProfile}, files in ${cliRun.folder}`;
  row(`CLI open ${mib(cliRun.size)} beyond fixed costs (${where})`, `${cliRun.openBeyondFixedMBps.toFixed(0)} MB/s`, `openssl ${cliRun.opensslMBps.toFixed(0)} MB/s`, cliRun.openRatio, '>= 0.5');
  row(`CLI open ceiling: OpenSSL's AES-GCM and two SHA-256 passes on ${cliRun.ceilingCores} cores`, `${cliRun.ceilingMBps.toFixed(0)} MB/s`, `openssl ${cliRun.opensslMBps.toFixed(0)} MB/s`, cliRun.openCeilingRatio, '>= 0.5');
  row(`CLI open ${mib(cliRun.size)}, wall (fixed ${ms(cliRun.openFixedMs)})`, `${cliRun.openMBps.toFixed(0)} MB/s`, `openssl ${cliRun.opensslMBps.toFixed(0)} MB/s`, cliRun.openWallRatio, '');
  row(`CLI seal ${mib(cliRun.size)} beyond fixed costs (${where})`, `${cliRun.sealBeyondFixedMBps.toFixed(0)} MB/s`, `openssl ${cliRun.opensslMBps.toFixed(0)} MB/s`, cliRun.sealRatio, '');
  row(`CLI seal ${mib(cliRun.size)}, wall (fixed ${ms(cliRun.sealFixedMs)})`, `${cliRun.sealMBps.toFixed(0)} MB/s`, `openssl ${cliRun.opensslMBps.toFixed(0)} MB/s`, cliRun.sealWallRatio, '');
  console.log(`${info.cpu}, ${info.cores} cores, ${info.browser}, commit ${info.commit}, load ${info.loadAverageAtStart.join(' ')} -> ${info.loadAverageAtEnd.join(' ')}`);
  const widths = [0, 1, 2, 3, 4].map((column) => Math.max(...rows.map((cells) => cells[column].length), ['figure', 'ours', 'baseline', 'ratio', 'goal'][column].length));
  const format = (cells) => cells.map((cell, column) => cell.padEnd(widths[column])).join('  ');
  console.log(format(['figure', 'ours', 'baseline', 'ratio', 'goal']));
  for (const cells of rows) {
    console.log(format(cells));
  }
}

await main();
