// Writes large PDFs for the benchmarks: pages that each carry a line of
// text and an uncompressed image of random pixels, so the file is as big as
// asked, does not compress, and pdf.js must really read it. The file has a
// classic cross-reference table at its end, like most PDFs in the wild
// (not linearized): a viewer needs the last bytes before the first page.
//
// The page tree decides how much of the file pdf.js reads before it paints
// page one. pdf.js confirms the page count by loading the last page, and
// it finds that page by walking the tree. In a flat tree (one /Pages node
// whose /Kids are all the pages) it loads every page object on the way,
// and with one page per MiB that is a range in every MiB of the file. In
// a balanced tree each inner node carries its /Count, so the walk skips
// whole subtrees and loads only the page objects next to the last one.
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';

/** Side of the square RGB image on each page: 600 × 600 × 3 bytes ≈ 1 MiB. */
const IMAGE_SIDE = 600;

/** Kids per inner node of a balanced page tree. */
const TREE_FANOUT = 6;

/**
 * Writes a PDF of at least `size` bytes to `path` and returns its page
 * count. `pageTree` is "flat" (every page a kid of the root /Pages node)
 * or "balanced" (inner nodes of TREE_FANOUT kids, written after the pages).
 */
export function writeLargePdf(path, size, { pageTree = 'flat' } = {}) {
  if (pageTree !== 'flat' && pageTree !== 'balanced') {
    throw new Error(`pageTree: expected "flat" or "balanced", got ${pageTree}`);
  }
  const imageBytes = IMAGE_SIDE * IMAGE_SIDE * 3;
  const pages = Math.max(1, Math.ceil(size / imageBytes));
  const fd = openSync(path, 'w');
  let position = 0;
  const offsets = [];
  const write = (data) => {
    const buffer = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    writeSync(fd, buffer);
    position += buffer.length;
  };
  const object = (number, body) => {
    offsets[number] = position;
    write(`${number} 0 obj\n`);
    for (const part of body) {
      write(part);
    }
    write('\nendobj\n');
  };
  // Objects: 1 catalog, 2 root of the page tree, 3 font, then a page, its
  // content and its image for each page. A balanced tree's inner nodes come last.
  const pageObject = (index) => 4 + index * 3;
  const tree = pageTreeNodes(pages, pageTree === 'flat' ? pages : TREE_FANOUT, pageObject, 4 + pages * 3);
  write('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n');
  object(1, ['<< /Type /Catalog /Pages 2 0 R >>']);
  object(2, [`<< /Type /Pages /Kids [${tree.root.kids.map((kid) => `${kid} 0 R`).join(' ')}] /Count ${pages} >>`]);
  object(3, ['<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>']);
  for (let index = 0; index < pages; index += 1) {
    const page = pageObject(index);
    const content = `BT /F1 24 Tf 72 720 Td (Benchmark page ${index + 1} of ${pages}) Tj ET\nq 450 0 0 450 72 200 cm /Im1 Do Q\n`;
    object(page, [
      `<< /Type /Page /Parent ${tree.parentOf.get(page)} 0 R /MediaBox [0 0 612 792] /Contents ${page + 1} 0 R `,
      `/Resources << /Font << /F1 3 0 R >> /XObject << /Im1 ${page + 2} 0 R >> >> >>`,
    ]);
    object(page + 1, [`<< /Length ${Buffer.byteLength(content, 'latin1')} >>\nstream\n`, content, '\nendstream']);
    object(page + 2, [
      `<< /Type /XObject /Subtype /Image /Width ${IMAGE_SIDE} /Height ${IMAGE_SIDE} /ColorSpace /DeviceRGB /BitsPerComponent 8 /Length ${imageBytes} >>\nstream\n`,
      randomBytes(imageBytes),
      '\nendstream',
    ]);
  }
  for (const node of tree.inner) {
    object(node.number, [`<< /Type /Pages /Parent ${tree.parentOf.get(node.number)} 0 R /Kids [${node.kids.map((kid) => `${kid} 0 R`).join(' ')}] /Count ${node.count} >>`]);
  }
  const count = 4 + pages * 3 + tree.inner.length;
  const xref = position;
  write(`xref\n0 ${count}\n0000000000 65535 f \n`);
  for (let number = 1; number < count; number += 1) {
    write(`${String(offsets[number]).padStart(10, '0')} 00000 n \n`);
  }
  write(`trailer\n<< /Size ${count} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`);
  closeSync(fd);
  return pages;
}

/**
 * Groups the pages into inner /Pages nodes of at most `fanout` kids, level
 * by level, until the root (object 2) has at most `fanout` kids. Inner
 * nodes are numbered from `firstNumber`. Returns the root's kids, the inner
 * nodes and each object's parent.
 */
function pageTreeNodes(pages, fanout, pageObject, firstNumber) {
  const parentOf = new Map();
  const inner = [];
  let level = Array.from({ length: pages }, (_, index) => ({ number: pageObject(index), count: 1 }));
  while (level.length > fanout) {
    const next = [];
    for (let start = 0; start < level.length; start += fanout) {
      const group = level.slice(start, start + fanout);
      const node = { number: firstNumber + inner.length, kids: group.map((kid) => kid.number), count: group.reduce((sum, kid) => sum + kid.count, 0) };
      for (const kid of group) {
        parentOf.set(kid.number, node.number);
      }
      inner.push(node);
      next.push(node);
    }
    level = next;
  }
  for (const kid of level) {
    parentOf.set(kid.number, 2);
  }
  return { root: { kids: level.map((kid) => kid.number) }, inner, parentOf };
}
