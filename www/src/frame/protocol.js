// The postMessage protocol of the iframe mode (docs/embedding.md). Every
// message is a plain object with a `type` starting with "valise:".
//
// Host to frame:
//   { type: "valise:open", requestId: string, bytes: ArrayBuffer (transferred),
//     name?: string, identity?: string }
// Frame to host (sent only to an allowed origin):
//   { type: "valise:ready", protocol: 1 }
//   { type: "valise:status", requestId, state: "identity-required" }
//   { type: "valise:result", requestId, verdict: "permit" | "deny",
//     packageId, label, mediaType, reasons: [{ code, message, nextStep }] }
//   { type: "valise:error", requestId, error: { name, message } }

export const PROTOCOL_VERSION = 1;

/** Largest package the frame accepts through a message (512 MiB). */
export const MAX_MESSAGE_BYTES = 512 * 1024 * 1024;

/**
 * Checks a host message. Returns `{ requestId, bytes, name, identity }` for a
 * valid open request, or throws a sentence naming what is wrong.
 */
export function parseOpenRequest(data) {
  if (data === null || typeof data !== 'object' || data.type !== 'valise:open') {
    throw new Error(`unknown message type ${JSON.stringify(data?.type ?? null)}`);
  }
  if (typeof data.requestId !== 'string' || data.requestId === '' || data.requestId.length > 200) {
    throw new Error('requestId must be a non-empty string of at most 200 characters');
  }
  if (!(data.bytes instanceof ArrayBuffer)) {
    throw new Error('bytes must be an ArrayBuffer (transfer it with the message)');
  }
  if (data.bytes.byteLength > MAX_MESSAGE_BYTES) {
    throw new Error(`bytes is ${data.bytes.byteLength} bytes, over the limit of ${MAX_MESSAGE_BYTES}`);
  }
  const name = typeof data.name === 'string' && data.name !== '' ? data.name.slice(0, 200) : 'package';
  const identity = typeof data.identity === 'string' ? data.identity.slice(0, 200) : null;
  return { requestId: data.requestId, bytes: new Uint8Array(data.bytes), name, identity };
}
