// Builds the WebAssembly module for each build listed in wasm-pack.toml,
// optimises it with wasm-opt, checks its compressed size against the budget,
// and copies the vendored front-end files (pdf.js) into www/vendor so the
// portal stays plain static files.
//
// Usage: node scripts/build.mjs [--only NAME]... [--checksums]
//
// It then writes www/build.json (build id and SHA-256 of every file the
// service worker precaches); --checksums prints those in sha256sum format.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { writeBuildManifest } from './lib/precache.mjs';
import { ROOT, ensureWasmToolchain, run } from './lib/setup.mjs';

/** Reads wasm-pack.toml and returns each build with the defaults filled in. */
async function readBuilds() {
  const { parse } = await import('smol-toml');
  const config = parse(readFileSync(join(ROOT, 'wasm-pack.toml'), 'utf8'));
  const defaults = config.defaults ?? {};
  return (config.build ?? []).map((build) => {
    const merged = { ...defaults, ...build };
    for (const key of ['name', 'crate', 'profile', 'target', 'out-dir', 'size-budget-gzip-bytes']) {
      if (merged[key] === undefined) {
        throw new Error(`wasm-pack.toml: build ${build.name ?? '(unnamed)'} has no ${key}`);
      }
    }
    return merged;
  });
}

/** Runs wasm-pack for one build; it uses the wasm-bindgen on PATH and never downloads. */
function wasmPack(build) {
  const outDir = join(ROOT, build['out-dir']);
  const cargoArgs = ['--locked'];
  if ((build.features ?? []).length > 0) {
    cargoArgs.push('--features', build.features.join(','));
  }
  run('wasm-pack', [
    '--log-level', 'warn',
    'build', join(ROOT, build.crate),
    '--mode', 'no-install',
    '--target', build.target,
    '--out-dir', outDir,
    '--profile', build.profile,
    '--', ...cargoArgs,
  ]);
  return outDir;
}

/** Returns the path of the single `*_bg.wasm` file wasm-pack wrote. */
function moduleFile(outDir, crateDir) {
  const cargoToml = readFileSync(join(ROOT, crateDir, 'Cargo.toml'), 'utf8');
  const name = cargoToml.match(/^name = "([^"]+)"/m)?.[1];
  if (!name) {
    throw new Error(`${crateDir}/Cargo.toml has no package name`);
  }
  const file = join(outDir, `${name.replaceAll('-', '_')}_bg.wasm`);
  if (!existsSync(file)) {
    throw new Error(`wasm-pack did not write ${file}`);
  }
  return file;
}

/** Optimises the module in place with binaryen's wasm-opt from node_modules. */
function wasmOpt(file, flags) {
  const wasmOptBin = join(ROOT, 'node_modules', '.bin', 'wasm-opt');
  run(wasmOptBin, [file, '-o', file, ...flags]);
}

/** Fails the build when the gzip-compressed module is over budget. */
function checkSize(build, file) {
  const raw = statSync(file).size;
  const gzip = gzipSync(readFileSync(file), { level: 9 }).length;
  const budget = build['size-budget-gzip-bytes'];
  console.error(`build ${build.name}: ${file.slice(ROOT.length + 1)} ${raw} bytes, ${gzip} bytes gzip (budget ${budget})`);
  if (gzip > budget) {
    console.error(`error: the ${build.name} module is ${gzip} bytes gzip, over the budget of ${budget} bytes`);
    console.error('hint: look for a new dependency in crate/wasm, or raise size-budget-gzip-bytes in wasm-pack.toml with a reason');
    process.exit(1);
  }
}

/** Copies pdf.js (library, worker, character maps, fonts, decoders) into www/vendor/pdfjs. */
function copyVendorFiles() {
  const source = join(ROOT, 'node_modules', 'pdfjs-dist');
  const target = join(ROOT, 'www', 'vendor', 'pdfjs');
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  for (const file of ['build/pdf.min.mjs', 'build/pdf.worker.min.mjs', 'LICENSE', 'package.json']) {
    if (existsSync(join(source, file))) {
      cpSync(join(source, file), join(target, file.replace('build/', '')));
    }
  }
  for (const folder of ['cmaps', 'standard_fonts', 'wasm']) {
    if (existsSync(join(source, folder))) {
      cpSync(join(source, folder), join(target, folder), { recursive: true });
    }
  }
}

async function main() {
  const { values } = parseArgs({ options: { only: { type: 'string', multiple: true }, checksums: { type: 'boolean', default: false } } });
  ensureWasmToolchain();
  const builds = (await readBuilds()).filter((build) => !values.only || values.only.includes(build.name));
  if (builds.length === 0) {
    console.error(`error: wasm-pack.toml has no build named ${values.only.join(', ')}`);
    process.exit(2);
  }
  for (const build of builds) {
    const outDir = wasmPack(build);
    const file = moduleFile(outDir, build.crate);
    wasmOpt(file, build['wasm-opt'] ?? []);
    checkSize(build, file);
  }
  copyVendorFiles();
  const manifest = writeBuildManifest(join(ROOT, 'www'));
  console.error(`build: www/build.json, build ${manifest.buildId}, ${Object.keys(manifest.files).length} files`);
  if (values.checksums) {
    for (const [path, hash] of Object.entries(manifest.files)) {
      console.log(`${hash}  www/${path}`);
    }
  }
}

await main();
