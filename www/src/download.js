// Downloads a package for the portal (`?src=`) and for the embedded viewer.
// The response body is read chunk by chunk into one buffer. So the page can
// show how much has arrived, and stop at a size limit even when the server
// sends no Content-Length, or a wrong one.

/** Largest package the viewer downloads: 512 MiB. */
const MAX_DOWNLOAD_BYTES = 512 * 1024 * 1024;

/** Initial buffer when the server does not say how large the body is. */
const UNKNOWN_LENGTH_START = 1024 * 1024;

/** Returns the body size `response` declares in Content-Length, or null when it declares none. */
export function declaredLength(response) {
  const header = response.headers.get('Content-Length');
  const declared = header === null ? null : Number(header);
  return Number.isSafeInteger(declared) && declared >= 0 ? declared : null;
}

/**
 * Reads the body of `response` into a Uint8Array of at most `limit` bytes.
 * `onProgress(received, total)` runs after each chunk, with `total` the
 * declared Content-Length, or null when the server sent none or the body
 * turned out longer (a compressed transfer declares its compressed size).
 * Throws an Error naming the size and the limit when the declared or the
 * received body is larger than `limit`; the download is cancelled then.
 */
export async function readBody(response, { limit = MAX_DOWNLOAD_BYTES, onProgress = null } = {}) {
  const total = declaredLength(response);
  if (total !== null && total > limit) {
    await response.body?.cancel();
    throw new Error(`it is ${total} bytes, larger than ${limit} bytes, the most the viewer downloads`);
  }
  if (response.body === null) {
    return new Uint8Array(0);
  }
  const reader = response.body.getReader();
  let buffer = new Uint8Array(Math.min(total ?? UNKNOWN_LENGTH_START, limit));
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      break;
    }
    const needed = length + value.length;
    if (needed > limit) {
      await reader.cancel();
      throw new Error(`it is larger than ${limit} bytes, the most the viewer downloads`);
    }
    if (needed > buffer.length) {
      const grown = new Uint8Array(Math.min(limit, Math.max(needed, buffer.length * 2)));
      grown.set(buffer.subarray(0, length));
      buffer = grown;
    }
    buffer.set(value, length);
    length = needed;
    onProgress?.(length, total !== null && length <= total ? total : null);
  }
  // A buffer grown by doubling is copied down to size, so its spare half is freed.
  return length === buffer.length ? buffer : buffer.slice(0, length);
}
