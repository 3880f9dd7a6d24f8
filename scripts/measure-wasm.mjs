// Measures the viewer module's own speed outside the browser, so builds with
// different optimisation settings can be compared. It loads the built module
// (www/pkg, from `node scripts/build.mjs --only portal`) in Node's V8, makes a
// demo community with the CLI, and times, in CPU time of this process:
// unlocking the demo identity (PBES2 key file with
// PBKDF2-HMAC-SHA256: the module parses it, Node's WebCrypto derives the key
// and decrypts, as the browser's does in the portal), opening a package (parse, unwrap, verify, decide) and
// `decryptAll` of it (AES-256-GCM and SHA-256 in wasm, the main-thread path
// the portal takes where WebCrypto is missing). CPU time rather than wall
// time, because on a shared machine the wall time mostly measures the other
// jobs.
//
// Usage: node scripts/measure-wasm.mjs [--runs N] [--size MIB] [--json FILE]
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { DEMO_PASSPHRASE, buildDemo } from './lib/demo.mjs';
import { ROOT } from './lib/setup.mjs';

const MiB = 1024 * 1024;
const PERSON = 'alice';

const { values: options } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    size: { type: 'string', default: '4' },
    json: { type: 'string' },
  },
});
const runs = Number(options.runs);
const size = Number(options.size) * MiB;
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(size) || size < 1) {
  console.error(`error: invalid --runs ${options.runs} or --size ${options.size}`);
  console.error('hint: both are positive whole numbers (--size is in MiB)');
  process.exit(2);
}

/** Runs `step` and returns its result with the CPU time (user plus system) it took, in milliseconds. */
function measureCpu(step) {
  const before = process.cpuUsage();
  const result = step();
  const used = process.cpuUsage(before);
  return { ms: (used.user + used.system) / 1000, result };
}

/** Runs the async `step` and returns its result with the CPU time of this process it took, in milliseconds, including WebCrypto's threads. */
async function measureCpuAsync(step) {
  const before = process.cpuUsage();
  const result = await step();
  const used = process.cpuUsage(before);
  return { ms: (used.user + used.system) / 1000, result };
}

/** Unlocks an identity as www/src/core.js does: the module parses the key file, WebCrypto decrypts it. */
async function unlockIdentity(wasm, keyPem, passphrase, credential, trust) {
  const keyFile = wasm.KeyFile.parse(keyPem, false);
  const { subtle } = globalThis.crypto;
  try {
    const passphraseKey = await subtle.importKey('raw', passphrase, 'PBKDF2', false, ['deriveKey']);
    const aesKey = await subtle.deriveKey(
      { name: 'PBKDF2', hash: keyFile.hash, salt: keyFile.salt, iterations: keyFile.iterations },
      passphraseKey,
      { name: 'AES-CBC', length: keyFile.keyBits },
      false,
      ['decrypt'],
    );
    const pkcs8 = new Uint8Array(await subtle.decrypt({ name: 'AES-CBC', iv: keyFile.iv }, aesKey, keyFile.ciphertext));
    return wasm.Identity.unlock(pkcs8, credential, trust);
  } finally {
    keyFile.free();
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function valise(cli, args) {
  const result = spawnSync(cli, args, { encoding: 'utf8', env: { ...process.env, VALISE_PASSPHRASE: DEMO_PASSPHRASE } });
  if (result.status !== 0) {
    throw new Error(`valise ${args.join(' ')} failed (status ${result.status}):\n${result.stderr}`);
  }
}

/** Seals `size` random bytes to the demo person, as the browser benchmark does. */
function sealRandom(cli, demo, outFile) {
  const input = `${outFile}.bin`;
  writeFileSync(input, randomBytes(size));
  const token = readFileSync(join(demo, 'identities', `${PERSON}.credential.jws`), 'utf8').trim();
  const kid = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')).keyAccessKey.kid;
  valise(cli, [
    'seal', input,
    '--to', `${kid}=${join(demo, 'identities', `${PERSON}.pub.pem`)}`,
    '--sign-key', join(demo, 'community', 'alpha-cert.sign.key.pem'),
    '--org', 'alpha-cert',
    '--community', 'https://demo-isac.invalid',
    '--label', 'TLP:AMBER',
    '--media-type', 'application/octet-stream',
    '--segment-size', String(2 * MiB),
    '--force',
    '-o', outFile,
  ]);
  rmSync(input);
}

async function main() {
  const moduleFile = join(ROOT, 'www', 'pkg', 'valise_wasm_bg.wasm');
  if (!existsSync(moduleFile)) {
    console.error(`error: ${moduleFile} is missing`);
    console.error('hint: run `node scripts/build.mjs --only portal` first');
    process.exit(1);
  }
  const cli = ['release', 'debug'].map((profile) => join(ROOT, 'target', profile, 'valise')).find((path) => existsSync(path));
  if (!cli) {
    console.error('error: no valise CLI in target/release or target/debug');
    console.error('hint: run `cargo build -p valise --release` first');
    process.exit(1);
  }

  const work = mkdtempSync(join(tmpdir(), 'valise-measure-'));
  try {
    const demo = join(work, 'demo');
    const manifest = buildDemo(demo, { cli });
    const packageFile = join(work, 'random.tdf');
    sealRandom(cli, demo, packageFile);

    const wasmBytes = readFileSync(moduleFile);
    const wasm = await import(join(ROOT, 'www', 'pkg', 'valise_wasm.js'));
    wasm.initSync({ module: wasmBytes });

    const trustText = readFileSync(join(demo, 'community', 'trust.json'), 'utf8');
    const trust = wasm.TrustList.verify(trustText, [manifest.rootFingerprint], Date.now());
    const keyPem = readFileSync(join(demo, 'identities', `${PERSON}.key.pem`), 'utf8');
    const credential = readFileSync(join(demo, 'identities', `${PERSON}.credential.jws`), 'utf8').trim();
    const passphrase = new TextEncoder().encode(DEMO_PASSPHRASE);
    const packageBytes = readFileSync(packageFile);

    const unlock = [];
    const open = [];
    const decrypt = [];
    // One extra run first, not counted, so every counted run is warm.
    for (let run = 0; run <= runs; run += 1) {
      const unlocked = await measureCpuAsync(() => unlockIdentity(wasm, keyPem, passphrase, credential, trust));
      const identity = unlocked.result;
      const opened = measureCpu(() => {
        const parsed = wasm.Package.parse(packageBytes);
        try {
          return parsed.open(identity, trust, { nowMs: Date.now(), stale: 'warn' });
        } finally {
          parsed.free();
        }
      });
      const decrypted = measureCpu(() => opened.result.decryptAll());
      if (decrypted.result.length !== size) {
        throw new Error(`decryptAll returned ${decrypted.result.length} bytes, expected ${size}`);
      }
      opened.result.free();
      identity.free();
      if (run > 0) {
        unlock.push(unlocked.ms);
        open.push(opened.ms);
        decrypt.push(decrypted.ms);
      }
    }

    const figures = {
      module: { rawBytes: wasmBytes.length, gzipBytes: gzipSync(wasmBytes, { level: 9 }).length },
      runs,
      packageBytes: size,
      unlockMs: median(unlock),
      openMs: median(open),
      decryptAllMs: median(decrypt),
      decryptAllMBps: size / 1e6 / (median(decrypt) / 1000),
      all: { unlock, open, decrypt },
    };
    console.log(`module ${figures.module.rawBytes} B raw, ${figures.module.gzipBytes} B gzip`);
    console.log(`CPU time, median of ${runs}: unlock ${figures.unlockMs.toFixed(1)} ms, open ${figures.openMs.toFixed(1)} ms, decryptAll ${options.size} MiB ${figures.decryptAllMs.toFixed(1)} ms (${figures.decryptAllMBps.toFixed(1)} MB/s)`);
    if (options.json) {
      writeFileSync(options.json, `${JSON.stringify(figures, null, 2)}\n`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
