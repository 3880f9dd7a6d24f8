// Helpers shared by the start, test and bench scripts: run a command and
// stop on failure, and install the toolchain pieces a fresh machine lacks.
//
// Each `ensure*` function installs its tool only when it is missing or at
// the wrong version, so a second run costs a few version checks. Tools built
// with `cargo install` go to Cargo's own bin folder (`$CARGO_HOME/bin`,
// `~/.cargo/bin` by default): CI runs in a fresh clone on the same machine,
// and a project-local root would rebuild them on every run. Every run checks
// the installed version against the pinned one, so a stale tool is replaced,
// never used.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (two folders above this file). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The wasm-pack release the build uses; `cargo install` builds it from source. */
export const WASM_PACK_VERSION = '0.15.1';

/** Debian's Chromium, the only browser the tests and benchmarks launch. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Runs a command with inherited stdio and exits the process if it fails. */
export function run(cmd, args, options = {}) {
  console.error(`+ ${cmd} ${args.join(' ')}`);
  const result = spawnSync(cmd, args, { stdio: 'inherit', ...options });
  if (result.error) {
    console.error(`error: could not run ${cmd}: ${result.error.message}`);
    process.exit(2);
  }
  if (result.status !== 0) {
    console.error(`error: ${cmd} ${args.join(' ')} exited with status ${result.status}`);
    process.exit(result.status ?? 1);
  }
}

/** Returns the trimmed standard output of a command, or null if it failed. */
export function output(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { encoding: 'utf8', ...options });
  return result.status === 0 ? result.stdout.trim() : null;
}

/** Runs an install step and prints how long it took, for the CI time budget. */
function timed(what, step) {
  const started = process.hrtime.bigint();
  step();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.error(`setup: ${what} took ${seconds.toFixed(1)} s`);
}

/** Returns the folder `cargo install` writes binaries to. */
export function cargoBinDir() {
  return join(process.env.CARGO_HOME ?? join(homedir(), '.cargo'), 'bin');
}

/**
 * Puts Cargo's bin folder first on PATH for this process and its children,
 * so wasm-pack finds the wasm-bindgen that `ensureWasmBindgen` checked.
 */
export function useCargoBin() {
  const bin = cargoBinDir();
  const parts = (process.env.PATH ?? '').split(':').filter((part) => part !== bin);
  process.env.PATH = [bin, ...parts].join(':');
}

/** Installs a rustup target when it is not installed yet. */
export function ensureRustTarget(target) {
  const installed = output('rustup', ['target', 'list', '--installed']) ?? '';
  if (!installed.split('\n').includes(target)) {
    timed(`rustup target add ${target}`, () => run('rustup', ['target', 'add', target]));
  }
}

/** Returns the version of a package recorded in Cargo.lock. */
export function lockedCrateVersion(name) {
  const lock = readFileSync(join(ROOT, 'Cargo.lock'), 'utf8');
  const pattern = new RegExp(`\\[\\[package\\]\\]\\nname = "${name}"\\nversion = "([^"]+)"`);
  const match = lock.match(pattern);
  if (!match) {
    console.error(`error: Cargo.lock has no package named ${name}`);
    process.exit(2);
  }
  return match[1];
}

/**
 * Installs a binary crate with `cargo install` unless the installed binary
 * reports the expected version as "NAME VERSION" (e.g. "wasm-bindgen 0.2.100").
 */
function ensureCargoBinary(crate, binary, version) {
  useCargoBin();
  const found = output(join(cargoBinDir(), binary), ['--version']);
  const expected = `${binary} ${version}`;
  if (found !== null && found.split(/\s+/).slice(0, 2).join(' ') === expected) {
    return;
  }
  console.error(`setup: ${binary} is ${found ?? 'missing'}; installing ${version}`);
  // NOTE: no --locked. The crates' own lock files pin dependencies that no
  // longer build with current Rust releases.
  timed(`cargo install ${crate} ${version}`, () =>
    run('cargo', ['install', crate, '--version', version, '--force']),
  );
}

/** Installs wasm-bindgen-cli at exactly the wasm-bindgen version in Cargo.lock. */
export function ensureWasmBindgen() {
  ensureCargoBinary('wasm-bindgen-cli', 'wasm-bindgen', lockedCrateVersion('wasm-bindgen'));
}

/** Installs wasm-pack at the pinned version. */
export function ensureWasmPack() {
  ensureCargoBinary('wasm-pack', 'wasm-pack', WASM_PACK_VERSION);
}

/**
 * Installs the npm dependencies from the committed package-lock.json when
 * node_modules is missing or older than the lock file.
 */
export function ensureNodeModules() {
  const marker = join(ROOT, 'node_modules', '.package-lock.json');
  const lock = readFileSync(join(ROOT, 'package-lock.json'), 'utf8');
  if (existsSync(marker) && sameDependencies(lock, readFileSync(marker, 'utf8'))) {
    return;
  }
  timed('npm ci', () => run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: ROOT }));
}

/**
 * Checks that every package the lock file requires for this platform is
 * installed at its locked version (optional packages for other platforms
 * are never installed, so they are skipped).
 */
function sameDependencies(lockText, installedText) {
  const installed = JSON.parse(installedText).packages ?? {};
  return Object.entries(JSON.parse(lockText).packages ?? {}).every(
    ([path, pkg]) => path === '' || pkg.optional || installed[path]?.version === pkg.version,
  );
}

/** Installs Debian's chromium when /usr/bin/chromium is missing. */
export function ensureChromium() {
  if (existsSync(CHROMIUM_PATH)) {
    return;
  }
  timed('apt-get install chromium', () => {
    run('apt-get', ['update']);
    run('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  });
}

/** Installs everything the wasm build needs: target, wasm-bindgen, wasm-pack, npm packages. */
export function ensureWasmToolchain() {
  ensureRustTarget('wasm32-unknown-unknown');
  ensureWasmBindgen();
  ensureWasmPack();
  ensureNodeModules();
}
