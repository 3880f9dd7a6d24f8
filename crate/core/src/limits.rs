//! Size limits of the package reader and writer.
//!
//! Every length that comes from a package is checked against one of these
//! before anything is allocated for it. The values are part of the profile:
//! a conforming reader MAY accept more, but a conforming writer MUST stay
//! within them so that every reader can open what it writes.

/// Maximum size of `0.manifest.json`, uncompressed: 16 MiB. Each segment
/// costs about 240 bytes of manifest: its entry in the segment table, its
/// digest in the provenance statement, and its hash in each of the three
/// assertion bindings. So [`MAX_SEGMENTS`] segments take about 15.1 MiB, and
/// a writer that adds many recipients or long statements to that many
/// segments fails to seal (the writer checks this limit too).
pub const MAX_MANIFEST_BYTES: usize = 16 * 1024 * 1024;

/// Maximum size of a deflated `0.manifest.json` as stored in the archive:
/// [`MAX_MANIFEST_BYTES`] plus 64 KiB. Deflate can grow incompressible data,
/// by 5 bytes for each stored block of up to 65 535 bytes (about 1.3 KiB
/// for 16 MiB); the margin covers that many times over. The stored bytes
/// are read into memory before inflating, so this bounds that allocation.
pub const MAX_MANIFEST_COMPRESSED_BYTES: u64 = MAX_MANIFEST_BYTES as u64 + 64 * 1024;

/// Maximum number of key access objects a reader's key is tried on when
/// their `kid` does not match the key id the reader gave: 16. Each trial is
/// an ECDH or RSA private-key operation; a package with 1 024 objects would
/// otherwise cost a reader 1 024 of them. A reader whose key id is known
/// finds its object by `kid` and is not limited.
pub const MAX_UNHINTED_KEY_TRIALS: usize = 16;

/// Maximum number of payload segments: 65 536. With the default 2 MiB
/// segment this covers 128 GiB of plaintext, more than [`MAX_PAYLOAD_BYTES`].
pub const MAX_SEGMENTS: usize = 1 << 16;

/// Maximum plaintext size of one segment: 16 MiB. A reader holds one segment
/// in memory at a time, so this bounds its memory.
pub const MAX_SEGMENT_BYTES: u64 = 16 * 1024 * 1024;

/// Minimum plaintext size of a segment the writer accepts as a setting: 1 KiB.
pub const MIN_SEGMENT_BYTES: u64 = 1024;

/// Default plaintext size of a segment: 2 MiB, as the OpenTDF SDKs use.
pub const DEFAULT_SEGMENT_BYTES: u64 = 2 * 1024 * 1024;

/// Maximum plaintext size of a package: 64 GiB.
pub const MAX_PAYLOAD_BYTES: u64 = 64 * 1024 * 1024 * 1024;

/// Maximum number of entries in the ZIP central directory. A package has two;
/// the reader rejects any other entry, so this only bounds the work done
/// before it can say so.
pub const MAX_ZIP_ENTRIES: usize = 16;

/// Maximum length of a ZIP entry name in bytes.
pub const MAX_ZIP_NAME_BYTES: usize = 256;

/// Maximum size of the ZIP central directory in bytes: the entries above
/// with their names and extra fields fit many times over.
pub const MAX_CENTRAL_DIRECTORY_BYTES: u64 = 64 * 1024;

/// Maximum number of recipients (key access objects) in one package.
pub const MAX_KEY_ACCESS_OBJECTS: usize = 1024;

/// Maximum number of assertions in one manifest.
pub const MAX_ASSERTIONS: usize = 64;

/// Maximum size of a compact JWS (assertion binding) in bytes: 8 MiB. A
/// binding's `assertionSig` contains every stored segment hash, and the JWS
/// encodes it twice in base64. So each segment adds about 28 bytes for a raw
/// 16-byte GMAC hash, and at most about 114 for a 64-character hex HS256
/// hash of a legacy file. [`MAX_SEGMENTS`] segments of the largest kind take
/// 7.5 MB, which fits.
pub const MAX_JWS_BYTES: usize = 8 * 1024 * 1024;
