// Assembles the npm package in this folder from the repository's builds:
// the viewer's modules (www/src), wasm-pack's bundler build (dist/npm), the
// sanitizer module that Markdown and HTML documents load on first use
// (www/pkg-sanitize, the web target, which needs no bundler) and pdf.js
// (www/vendor/pdfjs). Run `node scripts/build.mjs` first, then this,
// then `npm pack` here.
import { cpSync, existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');

/** The portal's own modules the element does not use. */
const PORTAL_ONLY = new Set(['main.js', 'app.js']);

for (const [from, to] of [
  [join(ROOT, 'dist', 'npm', 'valise_wasm_bg.wasm'), 'wasm'],
  [join(ROOT, 'www', 'src'), 'src'],
  [join(ROOT, 'www', 'vendor', 'pdfjs'), 'vendor/pdfjs'],
  [join(ROOT, 'www', 'pkg-sanitize'), 'pkg-sanitize'],
]) {
  if (!existsSync(from)) {
    console.error(`error: ${from} is missing`);
    console.error('hint: run node scripts/build.mjs first');
    process.exit(1);
  }
  rmSync(join(HERE, to), { recursive: true, force: true });
}
cpSync(join(ROOT, 'dist', 'npm'), join(HERE, 'wasm'), { recursive: true, filter: (path) => !/package\.json$|\.gitignore$|README\.md$/.test(path) });
cpSync(join(ROOT, 'www', 'src'), join(HERE, 'src'), {
  recursive: true,
  filter: (path) => !PORTAL_ONLY.has(path.slice(join(ROOT, 'www', 'src').length + 1)),
});
cpSync(join(ROOT, 'www', 'vendor', 'pdfjs'), join(HERE, 'vendor', 'pdfjs'), { recursive: true });
cpSync(join(ROOT, 'www', 'pkg-sanitize'), join(HERE, 'pkg-sanitize'), {
  recursive: true,
  filter: (path) => !/package\.json$|\.gitignore$|README\.md$/.test(path),
});
console.error(`assembled ${HERE}`);
