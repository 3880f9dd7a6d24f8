// Feeds pdf.js from a StreamedPlaintext through its range transport, so the
// first page renders while the rest of the package is still decrypting:
// pdf.js asks for the byte ranges it needs (the trailer at the end first,
// then the objects of the page), and the page hands those segments to the
// decryption workers ahead of the others. Every range handed over has verified.

/**
 * Returns a `PDFDataRangeTransport` of `pdfjsLib` over `stream`; pass it as
 * `getDocument({ range: transport, ... })`.
 */
export function pdfRangeTransport(pdfjsLib, stream) {
  const transport = new pdfjsLib.PDFDataRangeTransport(stream.size, null);
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
