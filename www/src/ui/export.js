// Saving a decrypted file to the reader's disk, for the export right.
import { h } from './dom.js';

/**
 * Saves the decrypted file once `queueEvent('exported', fileName)` resolved,
 * that is once the event is recorded as the rights demand. When it rejects,
 * passes the sentence for the reader to `showRefusal` and saves nothing.
 * The renderers offer export only when the rights allow it.
 */
export async function exportFile({ bytes, fileName, mediaType }, { queueEvent, showRefusal, isClosed }) {
  try {
    await queueEvent('exported', fileName);
  } catch (error) {
    showRefusal(`The file was not exported, because its access event could not be queued. ${error?.message ?? error}`);
    return;
  }
  // The reader may have closed the document, which zeroes the plaintext, while the event was queued.
  if (isClosed()) {
    return;
  }
  saveFile({ bytes, fileName, mediaType });
}

/** Starts the browser's download of `bytes` as `fileName`. */
function saveFile({ bytes, fileName, mediaType }) {
  const url = URL.createObjectURL(new Blob([bytes], { type: mediaType || 'application/octet-stream' }));
  const link = h('a', { href: url, download: fileName || 'document' });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
