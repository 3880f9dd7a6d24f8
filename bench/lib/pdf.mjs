// Writes large PDFs for the benchmarks: pages that each carry a line of
// text and an uncompressed image of random pixels, so the file is as big as
// asked, does not compress, and pdf.js must really read it. The file has a
// classic cross-reference table at its end, like most PDFs in the wild
// (not linearized): a viewer needs the last bytes before the first page.
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';

/** Side of the square RGB image on each page: 600 × 600 × 3 bytes ≈ 1 MiB. */
const IMAGE_SIDE = 600;

/**
 * Writes a PDF of at least `size` bytes to `path` and returns its page count.
 */
export function writeLargePdf(path, size) {
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
  // Objects: 1 catalog, 2 page tree, 3 font, then per page: page, content, image.
  const pageObject = (index) => 4 + index * 3;
  write('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n');
  object(1, ['<< /Type /Catalog /Pages 2 0 R >>']);
  const kids = Array.from({ length: pages }, (_, index) => `${pageObject(index)} 0 R`).join(' ');
  object(2, [`<< /Type /Pages /Kids [${kids}] /Count ${pages} >>`]);
  object(3, ['<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>']);
  for (let index = 0; index < pages; index += 1) {
    const page = pageObject(index);
    const content = `BT /F1 24 Tf 72 720 Td (Benchmark page ${index + 1} of ${pages}) Tj ET\nq 450 0 0 450 72 200 cm /Im1 Do Q\n`;
    object(page, [
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents ${page + 1} 0 R `,
      `/Resources << /Font << /F1 3 0 R >> /XObject << /Im1 ${page + 2} 0 R >> >> >>`,
    ]);
    object(page + 1, [`<< /Length ${Buffer.byteLength(content, 'latin1')} >>\nstream\n`, content, '\nendstream']);
    object(page + 2, [
      `<< /Type /XObject /Subtype /Image /Width ${IMAGE_SIDE} /Height ${IMAGE_SIDE} /ColorSpace /DeviceRGB /BitsPerComponent 8 /Length ${imageBytes} >>\nstream\n`,
      randomBytes(imageBytes),
      '\nendstream',
    ]);
  }
  const count = 4 + pages * 3;
  const xref = position;
  write(`xref\n0 ${count}\n0000000000 65535 f \n`);
  for (let number = 1; number < count; number += 1) {
    write(`${String(offsets[number]).padStart(10, '0')} 00000 n \n`);
  }
  write(`trailer\n<< /Size ${count} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`);
  closeSync(fd);
  return pages;
}
