// The README's test command (`npm test`). It runs on a fresh clone with no
// node_modules: it installs what is missing, then runs every test tier and
// stops at the first failure.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { buildDemo, cliPath } from './lib/demo.mjs';
import { ROOT, ensureChromium, ensureRustTarget, ensureWasmToolchain, run } from './lib/setup.mjs';

ensureRustTarget('wasm32-unknown-unknown');

// Tier 1: the Rust workspace (core, bindings, CLI), including the test
// vectors, the OpenTDF golden files and the Wycheproof cases.
run('cargo', ['test', '--workspace', '--locked']);

// The core must build for the browser target on its own, without the
// bindings crate enabling features for it.
run('cargo', ['build', '-p', 'valise-core', '--locked', '--target', 'wasm32-unknown-unknown']);

// Tier 2: the browser. Build the wasm module and the portal's vendored
// files, build the CLI the tests use to make a demo community, then run
// every `*.test.mjs` under tests/e2e in Debian's Chromium.
ensureWasmToolchain();
ensureChromium();
run('node', [join(ROOT, 'scripts', 'build.mjs')]);
run('cargo', ['build', '-p', 'valise', '--locked']);

/** Lists every `*.test.mjs` file under a folder, skipping `lib/` helpers. */
function testFiles(folder) {
  return readdirSync(folder, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.test.mjs'))
    .map((entry) => relative(ROOT, join(entry.parentPath ?? entry.path, entry.name)))
    .sort();
}

const files = testFiles(join(ROOT, 'tests', 'e2e'));
if (files.length === 0) {
  console.error('error: no browser test files under tests/e2e');
  process.exit(1);
}
// One demo community for every test file (tests/e2e/lib/demo.mjs reads
// VALISE_E2E_DEMO); a file run on its own builds its own.
const demoDir = mkdtempSync(join(tmpdir(), 'valise-e2e-demo-'));
console.error(`+ building the demo community in ${demoDir}`);
buildDemo(demoDir, { cli: cliPath('debug') });
// `run` exits on failure, which leaves the folder for inspection.
run('node', ['--test', '--test-reporter=spec', ...files], { cwd: ROOT, env: { ...process.env, VALISE_E2E_DEMO: demoDir } });
rmSync(demoDir, { recursive: true, force: true });
