// Feeds pdf.js from a StreamedPlaintext through its range transport, so the
// first page renders while the rest of the package is still decrypting:
// pdf.js asks for the byte ranges it needs (the trailer at the end first,
// then the objects of the page), and the page hands those segments to the
// decryption workers ahead of the others. Every range handed over has verified.

/** How far from the end pdf.js looks for `startxref` and the trailer. */
const TRAILER_BYTES = 1024;

/**
 * Returns a `PDFDataRangeTransport` of `pdfjsLib` over `stream`; pass it as
 * `getDocument({ range: transport, ... })`. Call
 * `stream.limitBackground(Infinity)` once the first page is drawn.
 */
export function pdfRangeTransport(pdfjsLib, stream) {
  const transport = new pdfjsLib.PDFDataRangeTransport(stream.size, null);
  // After the header, pdf.js reads the trailer and cross-reference table at
  // the end of the file, so that segment is sent ahead of the others now
  // rather than when pdf.js requests it.
  stream.whenRange(Math.max(0, stream.size - TRAILER_BYTES), stream.size).catch(() => {});
  // pdf.js starts its worker, parses and paints on the same cores that
  // decrypt. Segments it has not requested decrypt one at a time until the
  // caller lifts the cap, so the ranges it waits for arrive sooner.
  stream.limitBackground(1);
  transport.requestDataRange = (begin, end) => {
    const last = Math.min(end, stream.size);
    stream.whenRange(begin, last).then(
      () => {
        if (!stream.failed) {
          transport.onDataRange(begin, stream.bytes.slice(begin, last));
        }
      },
      // The document's own loading task reports the failure through `stream.done`.
      () => {},
    );
  };
  return transport;
}
