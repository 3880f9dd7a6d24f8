// Decrypts an opened package for the portal: large packages stream through
// the worker with a progress bar of the bytes verified, so the page stays
// responsive; small ones, and browsers without workers or WebCrypto, take
// the module's whole-payload path on the main thread. Large PDFs can be
// rendered while they stream (`streamPdfWithProgress`).

import { kindForMediaType } from '../render/detect.js';
import { STREAM_FROM_BYTES } from './stream.js';

export { STREAM_FROM_BYTES };

/** Formats a byte count in decimal megabytes, one decimal place. */
export function megabytes(bytes) {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/**
 * Shows a progress bar at the top of `container`, titled `action`; returns
 * `{ update(done, total), remove }`. A null total (a download of unknown
 * size) shows a bar without a known end.
 */
export function progressBar(container, total, action = 'Verifying and decrypting') {
  const box = document.createElement('div');
  box.className = 'open-progress';
  box.setAttribute('role', 'status');
  const label = document.createElement('label');
  const bar = document.createElement('progress');
  const text = document.createElement('span');
  label.append(text, ' ', bar);
  box.append(label);
  container.prepend(box);
  const update = (done, of = total) => {
    if (of === null) {
      bar.removeAttribute('value');
      text.textContent = `${action}: ${megabytes(done)}`;
    } else {
      bar.max = of;
      bar.value = done;
      text.textContent = `${action}: ${megabytes(done)} of ${megabytes(of)}`;
    }
  };
  update(0);
  return {
    update,
    remove() {
      box.remove();
    },
  };
}

/**
 * Resolves to the verified plaintext of `opened` (an OpenedPackage of
 * core.js), streamed through the decryption workers for packages of
 * STREAM_FROM_BYTES or more. `container` receives the progress bar.
 * `onStream(stream)`, when given, receives the StreamedPlaintext as soon as
 * it starts, so the caller can abort it.
 */
export async function decryptWithProgress(opened, container = document.body, onStream = null) {
  const size = opened.metadata.plaintextSize ?? 0;
  const stream = size >= STREAM_FROM_BYTES ? await opened.decryptStream() : null;
  if (stream === null) {
    return opened.decrypt();
  }
  onStream?.(stream);
  const bar = progressBar(container, stream.size);
  stream.onProgress((verified) => bar.update(verified));
  try {
    return await stream.done;
  } finally {
    bar.remove();
  }
}

/**
 * Starts streaming a PDF package of STREAM_FROM_BYTES or more, so the
 * document screen can render it while the rest decrypts. Resolves to
 * `{ stream, finished }`, where `stream` is the StreamedPlaintext and
 * `finished` settles like `stream.done` once the progress bar in
 * `container` is gone, or to null for other media types, smaller packages
 * and browsers that cannot stream (the caller then uses
 * decryptWithProgress).
 */
export async function streamPdfWithProgress(opened, container = document.body) {
  const { mediaType, plaintextSize = 0 } = opened.metadata;
  if (kindForMediaType(mediaType) !== 'pdf' || plaintextSize < STREAM_FROM_BYTES) {
    return null;
  }
  const stream = await opened.decryptStream();
  if (stream === null) {
    return null;
  }
  const bar = progressBar(container, stream.size);
  stream.onProgress((verified) => bar.update(verified));
  const finished = stream.done.finally(() => bar.remove());
  finished.catch(() => {});
  return { stream, finished };
}
