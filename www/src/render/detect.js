// Chooses a renderer from the package's media type and checks that the
// content agrees with it, so a file labelled as one type is never handed to
// the parser of another.

/** Largest JSON document parsed for the STIX and MISP views, in bytes. */
export const MAX_JSON_BYTES = 32 * 1024 * 1024;

/**
 * Largest text document (plain text, Markdown, HTML, CSV, JSON) the viewer
 * decodes, in bytes: V8's maximum string length on 64-bit platforms,
 * 2^29 - 24 UTF-16 code units. UTF-8 decodes to at most one code unit per
 * byte, so text within this size always fits in a string. Chromium's
 * TextDecoder (Chromium 156) returns an empty string, and no error, for a
 * longer result.
 */
export const MAX_TEXT_BYTES = 2 ** 29 - 24;

/** Renderer kinds, each a module in this folder. */
export const KINDS = ['pdf', 'image', 'markdown', 'html', 'text', 'csv', 'stix', 'misp'];

const IMAGE_TYPES = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

/** Returns the kind of renderer a media type asks for, or null. */
export function kindForMediaType(mediaType) {
  const essence = String(mediaType ?? '').split(';')[0].trim().toLowerCase();
  if (essence === 'application/pdf') return 'pdf';
  if (essence in IMAGE_TYPES) return 'image';
  if (essence === 'text/markdown' || essence === 'text/x-markdown') return 'markdown';
  if (essence === 'text/html' || essence === 'application/xhtml+xml') return 'html';
  if (essence === 'text/csv') return 'csv';
  if (essence === 'text/plain') return 'text';
  if (essence === 'application/stix+json' || essence === 'application/taxii+json') return 'stix';
  if (essence === 'application/misp+json' || essence === 'application/vnd.misp+json') return 'misp';
  if (essence === 'application/json') return 'json';
  return null;
}

function startsWith(bytes, signature, offset = 0) {
  if (bytes.length < offset + signature.length) return false;
  return signature.every((byte, index) => bytes[offset + index] === byte);
}

const ascii = (text) => Array.from(text, (char) => char.charCodeAt(0));

/** Returns the image format the magic number names, or null. */
export function imageFormat(bytes) {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, ascii('GIF87a')) || startsWith(bytes, ascii('GIF89a'))) return 'gif';
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return 'webp';
  return null;
}

/**
 * Returns true when a PDF header is present. PDF readers accept the header
 * anywhere in the first 1024 bytes, and so do we.
 */
export function isPdf(bytes) {
  const magic = ascii('%PDF-');
  const limit = Math.min(bytes.length - magic.length, 1024);
  for (let offset = 0; offset <= limit; offset += 1) {
    if (startsWith(bytes, magic, offset)) return true;
  }
  return false;
}

/** Decodes strict UTF-8 (a leading byte order mark is dropped), or returns null. */
export function decodeUtf8(bytes) {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

/** Returns true when the value is a STIX 2.1 bundle. */
export function isStixBundle(value) {
  if (value === null || typeof value !== 'object' || value.type !== 'bundle') return false;
  if (!Array.isArray(value.objects) || value.objects.length === 0) return false;
  return value.objects.every((object) => object && typeof object === 'object' && object.spec_version === '2.1');
}

/**
 * Returns the event object of a MISP event: `{ "Event": { ... } }` as MISP
 * exports it, or the bare event (`info` and `Attribute` or `Object` lists) as
 * its API and PyMISP write it. Returns null for anything else.
 */
export function mispEvent(value) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  if ('Event' in value) {
    const event = value.Event;
    return event !== null && typeof event === 'object' && !Array.isArray(event) ? event : null;
  }
  const hasLists = Array.isArray(value.Attribute) || Array.isArray(value.Object);
  return hasLists && typeof value.info === 'string' ? value : null;
}

/** Returns the reason a text document of `size` bytes is not shown, with what the reader can do. */
function tooLargeForText(size) {
  return (
    `The document is ${(size / 2 ** 20).toFixed(1)} MiB (${size} bytes), too large to show as text: the viewer shows text of at most ${MAX_TEXT_BYTES} bytes. ` +
    'Save the decrypted file and open it in another program if the rights allow export, or ask the originator for a smaller file.'
  );
}

/**
 * Checks the content against the media type. Returns `{ kind, text?, json? }`
 * on agreement, or `{ kind: null, reason }` with a sentence for the reader.
 */
export function detect(bytes, mediaType) {
  const kind = kindForMediaType(mediaType);
  const label = mediaType ? `"${mediaType}"` : 'no media type';
  if (kind === null) {
    return { kind: null, reason: `The viewer has no renderer for documents of type ${label}.` };
  }
  if (kind === 'pdf') {
    return isPdf(bytes) ? { kind } : { kind: null, reason: 'The package says this is a PDF, but the content does not start with a PDF header.' };
  }
  if (kind === 'image') {
    const declared = IMAGE_TYPES[String(mediaType).split(';')[0].trim().toLowerCase()];
    const found = imageFormat(bytes);
    if (found === null) {
      return { kind: null, reason: `The package says this is a ${declared.toUpperCase()} image, but the content is not an image the viewer recognises.` };
    }
    if (found !== declared) {
      return { kind: null, reason: `The package says this is a ${declared.toUpperCase()} image, but the content is a ${found.toUpperCase()} image.` };
    }
    return { kind };
  }

  if (bytes.length > MAX_TEXT_BYTES) {
    return { kind: null, reason: tooLargeForText(bytes.length) };
  }
  const text = decodeUtf8(bytes);
  // Only a byte order mark decodes to nothing, so an empty result for more
  // bytes means the engine could not hold the string.
  if (text === '' && bytes.length > 3) {
    return { kind: null, reason: tooLargeForText(bytes.length) };
  }
  if (text === null) {
    return { kind: null, reason: `The package says this is ${label}, but the content is not valid UTF-8 text.` };
  }
  if (kind === 'markdown' || kind === 'html' || kind === 'text' || kind === 'csv') {
    return { kind, text };
  }

  if (bytes.length > MAX_JSON_BYTES) {
    return { kind: null, reason: `The JSON document is ${bytes.length} bytes, more than the ${MAX_JSON_BYTES} bytes the viewer parses.` };
  }
  let json;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { kind: null, reason: `The package says this is ${label}, but the content is not valid JSON (${error.message}).` };
  }
  const stix = isStixBundle(json);
  const event = mispEvent(json);
  if (kind === 'stix' || (kind === 'json' && stix)) {
    return stix ? { kind: 'stix', json } : { kind: null, reason: 'The content is JSON but not a STIX 2.1 bundle: it needs "type": "bundle" and objects with "spec_version": "2.1".' };
  }
  if (kind === 'misp' || (kind === 'json' && event)) {
    return event ? { kind: 'misp', json: event } : { kind: null, reason: 'The content is JSON but not a MISP event: it needs an "Event" object.' };
  }
  return { kind: null, reason: 'The content is JSON, but neither a STIX 2.1 bundle nor a MISP event, the two JSON formats the viewer displays.' };
}
