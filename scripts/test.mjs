// The README's test command (`npm test`). It runs on a fresh clone with no
// node_modules: it installs what is missing, then runs every test tier and
// stops at the first failure.
import { run, ensureRustTarget } from './lib/setup.mjs';

ensureRustTarget('wasm32-unknown-unknown');

// Tier 1: the Rust workspace (core, bindings, CLI), including the test
// vectors, the OpenTDF golden files and the Wycheproof cases.
run('cargo', ['test', '--workspace', '--locked']);

// The 200 MiB seal and open round trip through the CLI's streaming path,
// ignored in debug builds because it is slow there.
run('cargo', ['test', '--release', '-p', 'valise', '--locked', '--test', 'package', '--', '--ignored']);

// The core must build for the browser target on its own, without the
// bindings crate enabling features for it.
run('cargo', ['build', '-p', 'valise-core', '--locked', '--target', 'wasm32-unknown-unknown']);
