//! The ZIP container of a package: exactly two entries, `0.payload` (stored)
//! and `0.manifest.json` (stored, or deflated by some stock writers).
//!
//! This is a small reader and writer of our own rather than the `zip` crate.
//! A package reader must reject much that a general ZIP library accepts on
//! purpose: entries other than the two, duplicate names, overlapping entries,
//! gaps, local headers that disagree with the central directory, and
//! inflating past a bound. The subset needed (stored entries, one optional
//! deflated entry, ZIP64 sizes and offsets, data descriptors) is a few
//! hundred lines that are easy to bound and audit. It keeps the wasm build
//! free of the `zip` crate's format and compression code; inflating uses
//! `miniz_oxide` with an output limit, and CRC-32 comes from `crc32fast`.
//!
//! Layout written (APPNOTE 6.3.10 terms):
//!
//! ```text
//! [local header "0.payload", bit 3 set, ZIP64 extra when the payload is >= 4 GiB]
//! [payload bytes][data descriptor: signature, CRC-32, sizes (8 bytes each with ZIP64)]
//! [local header "0.manifest.json", sizes and CRC-32 in the header][manifest bytes]
//! [central directory: the two entries][ZIP64 end records when needed][end of central directory]
//! ```
//!
//! The writer streams: the payload goes first, its length known up front, and
//! the manifest last, so nothing is seeked back. Timestamps are fixed at
//! 1980-01-01 00:00, the DOS epoch, so equal inputs give equal packages.

use std::io::{self, Read, Seek, SeekFrom, Write};

use crate::limits::{MAX_CENTRAL_DIRECTORY_BYTES, MAX_MANIFEST_BYTES, MAX_MANIFEST_COMPRESSED_BYTES, MAX_ZIP_ENTRIES, MAX_ZIP_NAME_BYTES};

/// Entry name of the encrypted payload.
pub const PAYLOAD_NAME: &str = "0.payload";
/// Entry name of the manifest.
pub const MANIFEST_NAME: &str = "0.manifest.json";

const LOCAL_HEADER_SIG: u32 = 0x0403_4b50;
const CENTRAL_HEADER_SIG: u32 = 0x0201_4b50;
const DATA_DESCRIPTOR_SIG: u32 = 0x0807_4b50;
const EOCD_SIG: u32 = 0x0605_4b50;
const ZIP64_EOCD_SIG: u32 = 0x0606_4b50;
const ZIP64_LOCATOR_SIG: u32 = 0x0706_4b50;
const ZIP64_EXTRA_ID: u16 = 0x0001;

const LOCAL_HEADER_LEN: u64 = 30;
const EOCD_LEN: u64 = 22;
const ZIP64_LOCATOR_LEN: u64 = 20;
const ZIP64_EOCD_LEN: u64 = 56;
const MAX_COMMENT_LEN: u64 = 0xFFFF;

const METHOD_STORED: u16 = 0;
const METHOD_DEFLATED: u16 = 8;
/// General purpose flag bit 0: the entry is encrypted (not supported).
const FLAG_ENCRYPTED: u16 = 1 << 0;
/// General purpose flag bit 3: CRC-32 and sizes follow the data.
const FLAG_DATA_DESCRIPTOR: u16 = 1 << 3;
/// General purpose flag bit 11: the name is UTF-8.
const FLAG_UTF8: u16 = 1 << 11;
/// Version needed to extract: 2.0 (deflate, data descriptors) or 4.5 (ZIP64).
const VERSION_20: u16 = 20;
const VERSION_45: u16 = 45;
/// DOS date of 1980-01-01 (day 1, month 1, year 0).
const DOS_DATE_EPOCH: u16 = (1 << 5) | 1;

/// Errors of reading or writing the ZIP container.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContainerError {
    /// Reading or writing failed.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// The file is not a ZIP archive or a structure in it is invalid.
    #[error("invalid ZIP container: {0}")]
    Malformed(String),
    /// The archive has an entry other than the two a package holds, or lacks one.
    #[error("invalid package: {0}")]
    UnexpectedEntries(String),
    /// A size in the archive exceeds a limit of the profile.
    #[error("{what} of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Name of the oversized structure.
        what: &'static str,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The archive uses a feature packages do not use.
    #[error("unsupported ZIP feature: {0}")]
    Unsupported(String),
}

fn malformed<T>(message: impl Into<String>) -> Result<T, ContainerError> {
    Err(ContainerError::Malformed(message.into()))
}

/// One entry of the archive, as located and cross-checked by [`Container::read`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Offset of the entry's data (after its local header).
    pub data_offset: u64,
    /// Size of the data as stored.
    pub compressed_size: u64,
    /// Size of the data once inflated (equal to `compressed_size` when stored).
    pub size: u64,
    /// Compression method: 0 (stored) or 8 (deflated, manifest only).
    pub method: u16,
    /// CRC-32 of the uncompressed data, from the central directory.
    pub crc32: u32,
}

/// A package's ZIP structure: where its payload and manifest are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Container {
    /// The `0.payload` entry (always stored).
    pub payload: Entry,
    /// The `0.manifest.json` entry.
    pub manifest: Entry,
    /// Total size of the archive in bytes.
    pub archive_size: u64,
}

/// An entry from the central directory, before its local header is checked.
struct CentralEntry {
    name: String,
    version_needed: u16,
    flags: u16,
    method: u16,
    crc32: u32,
    compressed_size: u64,
    size: u64,
    local_offset: u64,
}

/// Little-endian field reader over a byte slice; every read is bounds checked.
struct Fields<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Fields<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Fields { bytes, at: 0 }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ContainerError> {
        let end = self.at.checked_add(n).filter(|end| *end <= self.bytes.len());
        let Some(end) = end else {
            return malformed("structure ends early");
        };
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn u16(&mut self) -> Result<u16, ContainerError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, ContainerError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64, ContainerError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
}

fn read_at<R: Read + Seek>(reader: &mut R, offset: u64, len: usize) -> Result<Vec<u8>, ContainerError> {
    reader.seek(SeekFrom::Start(offset))?;
    let mut buf = vec![0u8; len];
    reader.read_exact(&mut buf).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => ContainerError::Malformed(format!("archive ends inside a structure at offset {offset}")),
        _ => ContainerError::Io(e),
    })?;
    Ok(buf)
}

/// Finds the ZIP64 extended information extra field (header id 1) in `extra`.
fn zip64_extra(extra: &[u8]) -> Result<Option<&[u8]>, ContainerError> {
    let mut fields = Fields::new(extra);
    let mut found = None;
    while fields.at < extra.len() {
        let id = fields.u16()?;
        let len = usize::from(fields.u16()?);
        let data = fields.take(len)?;
        if id == ZIP64_EXTRA_ID {
            if found.is_some() {
                return malformed("two ZIP64 extra fields in one header");
            }
            found = Some(data);
        }
    }
    Ok(found)
}

impl Container {
    /// Locates and cross-checks the two entries of a package archive.
    ///
    /// Reads only the end records, the central directory and the two local
    /// headers (and the payload's data descriptor, if any): a few kilobytes
    /// whatever the archive size.
    ///
    /// # Errors
    ///
    /// [`ContainerError`] naming the first rule the archive breaks: not a ZIP
    /// archive, multi-disk, more entries than allowed, a name other than
    /// `0.payload` and `0.manifest.json`, a duplicate, an encrypted or
    /// compressed payload, a local header or data descriptor that disagrees
    /// with the central directory, entries that overlap or leave gaps, or a
    /// size over the limits in [`crate::limits`].
    pub fn read<R: Read + Seek>(reader: &mut R) -> Result<Container, ContainerError> {
        let archive_size = reader.seek(SeekFrom::End(0))?;
        if archive_size < EOCD_LEN {
            return malformed(format!("{archive_size} bytes is too short for a ZIP archive"));
        }

        // End of central directory: the last 22 bytes, unless a comment follows.
        let tail_len = archive_size.min(EOCD_LEN + MAX_COMMENT_LEN);
        let tail_start = archive_size - tail_len;
        let tail = read_at(reader, tail_start, usize::try_from(tail_len).unwrap_or(usize::MAX))?;
        let eocd_in_tail = (0..=tail.len() - 22)
            .rev()
            .find(|&i| {
                tail[i..i + 4] == EOCD_SIG.to_le_bytes()
                    && usize::from(u16::from_le_bytes([tail[i + 20], tail[i + 21]])) == tail.len() - i - 22
            })
            .ok_or_else(|| ContainerError::Malformed("no end of central directory record".into()))?;
        let eocd_offset = tail_start + eocd_in_tail as u64;
        let mut eocd = Fields::new(&tail[eocd_in_tail + 4..]);
        let disk = eocd.u16()?;
        let cd_disk = eocd.u16()?;
        let entries_on_disk = eocd.u16()?;
        let entries_total = eocd.u16()?;
        let cd_size32 = eocd.u32()?;
        let cd_offset32 = eocd.u32()?;
        if disk != 0 || cd_disk != 0 || entries_on_disk != entries_total {
            return Err(ContainerError::Unsupported("multi-disk archive".into()));
        }

        let mut entry_count = u64::from(entries_total);
        let mut cd_size = u64::from(cd_size32);
        let mut cd_offset = u64::from(cd_offset32);
        // The central directory must end exactly where the end records begin.
        let mut cd_end_expected = eocd_offset;

        let needs_zip64 = entries_total == 0xFFFF || cd_size32 == 0xFFFF_FFFF || cd_offset32 == 0xFFFF_FFFF;
        let locator_offset = eocd_offset.checked_sub(ZIP64_LOCATOR_LEN);
        let has_locator = match locator_offset {
            Some(offset) => read_at(reader, offset, 4)? == ZIP64_LOCATOR_SIG.to_le_bytes(),
            None => false,
        };
        if needs_zip64 && !has_locator {
            return malformed("ZIP64 values without a ZIP64 end of central directory locator");
        }
        if has_locator {
            let locator_offset = locator_offset.unwrap_or(0);
            let locator = read_at(reader, locator_offset, ZIP64_LOCATOR_LEN as usize)?;
            let mut fields = Fields::new(&locator[4..]);
            let zip64_disk = fields.u32()?;
            let record_offset = fields.u64()?;
            let total_disks = fields.u32()?;
            if zip64_disk != 0 || total_disks != 1 {
                return Err(ContainerError::Unsupported("multi-disk archive".into()));
            }
            if record_offset.checked_add(ZIP64_EOCD_LEN) != Some(locator_offset) {
                return malformed("ZIP64 end of central directory record is not right before its locator");
            }
            let record = read_at(reader, record_offset, ZIP64_EOCD_LEN as usize)?;
            let mut fields = Fields::new(&record);
            if fields.u32()? != ZIP64_EOCD_SIG {
                return malformed("invalid ZIP64 end of central directory signature");
            }
            let record_size = fields.u64()?;
            if record_size != ZIP64_EOCD_LEN - 12 {
                return Err(ContainerError::Unsupported("ZIP64 extensible data sector".into()));
            }
            let _version_made_by = fields.u16()?;
            let _version_needed = fields.u16()?;
            let disk = fields.u32()?;
            let cd_disk = fields.u32()?;
            let on_disk = fields.u64()?;
            let total = fields.u64()?;
            let size = fields.u64()?;
            let offset = fields.u64()?;
            if disk != 0 || cd_disk != 0 || on_disk != total {
                return Err(ContainerError::Unsupported("multi-disk archive".into()));
            }
            // Each classic field contains either the value or all ones, meaning "see ZIP64".
            if (entries_total != 0xFFFF && u64::from(entries_total) != total)
                || (cd_size32 != 0xFFFF_FFFF && u64::from(cd_size32) != size)
                || (cd_offset32 != 0xFFFF_FFFF && u64::from(cd_offset32) != offset)
            {
                return malformed("ZIP64 end of central directory disagrees with the classic record");
            }
            entry_count = total;
            cd_size = size;
            cd_offset = offset;
            cd_end_expected = record_offset;
        }

        if entry_count > MAX_ZIP_ENTRIES as u64 {
            return Err(ContainerError::TooLarge { what: "ZIP entry count", size: entry_count, limit: MAX_ZIP_ENTRIES as u64 });
        }
        if cd_size > MAX_CENTRAL_DIRECTORY_BYTES {
            return Err(ContainerError::TooLarge { what: "ZIP central directory", size: cd_size, limit: MAX_CENTRAL_DIRECTORY_BYTES });
        }
        if cd_offset.checked_add(cd_size) != Some(cd_end_expected) {
            return malformed("central directory does not end where the end records begin");
        }

        let directory = read_at(reader, cd_offset, cd_size as usize)?;
        let mut fields = Fields::new(&directory);
        let mut entries = Vec::new();
        for index in 0..entry_count {
            entries.push(parse_central_entry(&mut fields, index)?);
        }
        if fields.at != directory.len() {
            return malformed("central directory holds data after its last entry");
        }

        let mut payload = None;
        let mut manifest = None;
        for entry in &entries {
            let slot = match entry.name.as_str() {
                PAYLOAD_NAME => &mut payload,
                MANIFEST_NAME => &mut manifest,
                other => return Err(ContainerError::UnexpectedEntries(format!("unexpected entry {other:?}"))),
            };
            if slot.is_some() {
                return Err(ContainerError::UnexpectedEntries(format!("duplicate entry {:?}", entry.name)));
            }
            *slot = Some(entry);
        }
        let payload = payload.ok_or_else(|| ContainerError::UnexpectedEntries(format!("missing entry {PAYLOAD_NAME:?}")))?;
        let manifest = manifest.ok_or_else(|| ContainerError::UnexpectedEntries(format!("missing entry {MANIFEST_NAME:?}")))?;
        if payload.method != METHOD_STORED {
            return Err(ContainerError::Unsupported(format!("compressed payload (method {})", payload.method)));
        }
        // Both sizes are bounded before anything is allocated for them: the
        // stored (compressed) bytes are read into memory before inflating.
        if manifest.size > MAX_MANIFEST_BYTES as u64 {
            return Err(ContainerError::TooLarge { what: "manifest", size: manifest.size, limit: MAX_MANIFEST_BYTES as u64 });
        }
        if manifest.compressed_size > MAX_MANIFEST_COMPRESSED_BYTES {
            return Err(ContainerError::TooLarge {
                what: "stored manifest",
                size: manifest.compressed_size,
                limit: MAX_MANIFEST_COMPRESSED_BYTES,
            });
        }

        // Check each local header and find where each entry's bytes end.
        let mut spans = Vec::new();
        let mut located = Vec::new();
        for entry in [payload, manifest] {
            let (located_entry, end) = check_local_header(reader, entry, cd_offset)?;
            spans.push((entry.local_offset, end));
            located.push(located_entry);
        }

        // Entries must tile the space before the central directory exactly:
        // no overlap, no gap, nothing before the first one.
        spans.sort_unstable();
        let mut cursor = 0;
        for (start, end) in spans {
            if start != cursor {
                return malformed(if start < cursor { "ZIP entries overlap" } else { "unreferenced bytes between ZIP entries" });
            }
            cursor = end;
        }
        if cursor != cd_offset {
            return malformed("unreferenced bytes before the central directory");
        }

        let manifest_entry = located.pop().ok_or_else(|| ContainerError::Malformed("manifest entry lost".into()))?;
        let payload_entry = located.pop().ok_or_else(|| ContainerError::Malformed("payload entry lost".into()))?;
        Ok(Container { payload: payload_entry, manifest: manifest_entry, archive_size })
    }

    /// Reads the manifest bytes, inflating a deflated manifest only up to its
    /// declared size (at most [`MAX_MANIFEST_BYTES`]), and checks its CRC-32.
    ///
    /// # Errors
    ///
    /// [`ContainerError::Malformed`] when inflating fails, yields another size
    /// than declared, or the CRC-32 differs.
    pub fn read_manifest<R: Read + Seek>(&self, reader: &mut R) -> Result<Vec<u8>, ContainerError> {
        let entry = &self.manifest;
        let stored = read_at(reader, entry.data_offset, entry.compressed_size as usize)?;
        let bytes = if entry.method == METHOD_DEFLATED {
            let limit = entry.size as usize;
            let inflated = miniz_oxide::inflate::decompress_to_vec_with_limit(&stored, limit)
                .map_err(|_| ContainerError::Malformed(format!("deflated manifest does not inflate to its declared {limit} bytes")))?;
            if inflated.len() != limit {
                return malformed(format!("manifest inflates to {} bytes, not the declared {limit}", inflated.len()));
            }
            inflated
        } else {
            stored
        };
        if crc32fast::hash(&bytes) != entry.crc32 {
            return malformed("manifest CRC-32 mismatch");
        }
        Ok(bytes)
    }
}

fn parse_central_entry(fields: &mut Fields<'_>, index: u64) -> Result<CentralEntry, ContainerError> {
    if fields.u32()? != CENTRAL_HEADER_SIG {
        return malformed(format!("invalid central directory header signature at entry {index}"));
    }
    let _version_made_by = fields.u16()?;
    let version_needed = fields.u16()?;
    let flags = fields.u16()?;
    let method = fields.u16()?;
    let _time = fields.u16()?;
    let _date = fields.u16()?;
    let crc32 = fields.u32()?;
    let compressed32 = fields.u32()?;
    let size32 = fields.u32()?;
    let name_len = usize::from(fields.u16()?);
    let extra_len = usize::from(fields.u16()?);
    let comment_len = usize::from(fields.u16()?);
    let disk_start = fields.u16()?;
    let _internal_attributes = fields.u16()?;
    let _external_attributes = fields.u32()?;
    let offset32 = fields.u32()?;
    if name_len > MAX_ZIP_NAME_BYTES {
        return Err(ContainerError::TooLarge { what: "ZIP entry name", size: name_len as u64, limit: MAX_ZIP_NAME_BYTES as u64 });
    }
    let name = std::str::from_utf8(fields.take(name_len)?)
        .map_err(|_| ContainerError::Malformed(format!("entry {index} has a name that is not UTF-8")))?
        .to_owned();
    let extra = fields.take(extra_len)?;
    let _comment = fields.take(comment_len)?;

    if flags & FLAG_ENCRYPTED != 0 {
        return Err(ContainerError::Unsupported(format!("encrypted ZIP entry {name:?}")));
    }
    if flags & !(FLAG_DATA_DESCRIPTOR | FLAG_UTF8) != 0 {
        return Err(ContainerError::Unsupported(format!("ZIP flags {flags:#06x} on entry {name:?}")));
    }
    if method != METHOD_STORED && method != METHOD_DEFLATED {
        return Err(ContainerError::Unsupported(format!("compression method {method} on entry {name:?}")));
    }

    // Values set to all ones are in the ZIP64 extra field, in this order.
    let mut size = u64::from(size32);
    let mut compressed_size = u64::from(compressed32);
    let mut local_offset = u64::from(offset32);
    let wants = [size32 == u32::MAX, compressed32 == u32::MAX, offset32 == u32::MAX, disk_start == u16::MAX];
    if wants.iter().any(|w| *w) {
        let data = zip64_extra(extra)?.ok_or_else(|| ContainerError::Malformed(format!("entry {name:?} lacks its ZIP64 extra field")))?;
        let mut z = Fields::new(data);
        if wants[0] {
            size = z.u64()?;
        }
        if wants[1] {
            compressed_size = z.u64()?;
        }
        if wants[2] {
            local_offset = z.u64()?;
        }
        if wants[3] {
            return Err(ContainerError::Unsupported("multi-disk archive".into()));
        }
        if z.at != data.len() {
            return malformed(format!("entry {name:?} has a ZIP64 extra field of the wrong length"));
        }
    } else if disk_start != 0 {
        return Err(ContainerError::Unsupported("multi-disk archive".into()));
    }
    if method == METHOD_STORED && size != compressed_size {
        return malformed(format!("stored entry {name:?} has different compressed and uncompressed sizes"));
    }
    Ok(CentralEntry { name, version_needed, flags, method, crc32, compressed_size, size, local_offset })
}

/// Checks the local header (and data descriptor) of `entry` against the
/// central directory; returns the located entry and the offset where its
/// bytes end.
fn check_local_header<R: Read + Seek>(reader: &mut R, entry: &CentralEntry, cd_offset: u64) -> Result<(Entry, u64), ContainerError> {
    let name = &entry.name;
    let disagree = |field: &str| ContainerError::Malformed(format!("local header of {name:?} disagrees with the central directory ({field})"));

    let fixed = read_at(reader, entry.local_offset, LOCAL_HEADER_LEN as usize)?;
    let mut fields = Fields::new(&fixed);
    if fields.u32()? != LOCAL_HEADER_SIG {
        return malformed(format!("invalid local header signature for {name:?}"));
    }
    let version_needed = fields.u16()?;
    let flags = fields.u16()?;
    let method = fields.u16()?;
    let _time = fields.u16()?;
    let _date = fields.u16()?;
    let crc32 = fields.u32()?;
    let compressed32 = fields.u32()?;
    let size32 = fields.u32()?;
    let name_len = usize::from(fields.u16()?);
    let extra_len = usize::from(fields.u16()?);
    // "Version needed to extract" is advisory; stock writers put 2.0 in the
    // local header and 4.5 in the central directory of the same entry.
    let _ = (version_needed, entry.version_needed);
    // Bit 11 (UTF-8 names) carries no meaning for the two ASCII names, and
    // stock writers set it in one header only.
    if flags & !FLAG_UTF8 != entry.flags & !FLAG_UTF8 {
        return Err(disagree("flags"));
    }
    if method != entry.method {
        return Err(disagree("method"));
    }
    if name_len != entry.name.len() {
        return Err(disagree("name"));
    }
    let variable = read_at(reader, entry.local_offset + LOCAL_HEADER_LEN, name_len + extra_len)?;
    if &variable[..name_len] != entry.name.as_bytes() {
        return Err(disagree("name"));
    }
    let zip64 = zip64_extra(&variable[name_len..])?;

    let data_offset = entry.local_offset + LOCAL_HEADER_LEN + (name_len + extra_len) as u64;
    let data_end = data_offset
        .checked_add(entry.compressed_size)
        .filter(|end| *end <= cd_offset)
        .ok_or_else(|| ContainerError::Malformed(format!("entry {name:?} extends past the central directory")))?;

    let end = if flags & FLAG_DATA_DESCRIPTOR != 0 {
        // Sizes and CRC follow the data; the local fields hold zeros (or the
        // ZIP64 markers). Descriptor sizes are 8 bytes when ZIP64 is in use.
        // Stock writers mark ZIP64 either with the extra field or with
        // all-ones sizes in the local header alone.
        if crc32 != 0 {
            return Err(disagree("CRC-32 must be zero before a data descriptor"));
        }
        let zip64_sizes = match (compressed32, size32) {
            (0, 0) => zip64.is_some(),
            (u32::MAX, u32::MAX) => true,
            _ => return Err(disagree("sizes before a data descriptor must be zero or all ones")),
        };
        if let Some(data) = zip64 {
            // The local ZIP64 extra of a data-descriptor entry contains zeros or the sizes.
            let mut z = Fields::new(data);
            let size = z.u64()?;
            let compressed = z.u64()?;
            if (size, compressed) != (0, 0) && (size, compressed) != (entry.size, entry.compressed_size) {
                return Err(disagree("ZIP64 sizes"));
            }
        }
        let size_len = if zip64_sizes { 8 } else { 4 };
        let descriptor_len = 4 + 4 + 2 * size_len;
        let available = cd_offset - data_end;
        let descriptor = read_at(reader, data_end, descriptor_len.min(available) as usize)?;
        let mut fields = Fields::new(&descriptor);
        let mut len = 0u64;
        let first = fields.u32()?;
        let descriptor_crc = if first == DATA_DESCRIPTOR_SIG {
            len += 4;
            fields.u32()?
        } else {
            first
        };
        len += 4;
        let (compressed, size) = if zip64_sizes {
            (fields.u64()?, fields.u64()?)
        } else {
            (u64::from(fields.u32()?), u64::from(fields.u32()?))
        };
        len += 2 * size_len;
        if descriptor_crc != entry.crc32 || compressed != entry.compressed_size || size != entry.size {
            return malformed(format!("data descriptor of {name:?} disagrees with the central directory"));
        }
        data_end + len
    } else {
        if crc32 != entry.crc32 {
            return Err(disagree("CRC-32"));
        }
        let (compressed, size) = match zip64 {
            Some(data) if compressed32 == u32::MAX || size32 == u32::MAX => {
                let mut z = Fields::new(data);
                let size = z.u64()?;
                let compressed = z.u64()?;
                (compressed, size)
            }
            _ => (u64::from(compressed32), u64::from(size32)),
        };
        if compressed != entry.compressed_size || size != entry.size {
            return Err(disagree("sizes"));
        }
        data_end
    };

    let located = Entry {
        data_offset,
        compressed_size: entry.compressed_size,
        size: entry.size,
        method: entry.method,
        crc32: entry.crc32,
    };
    Ok((located, end))
}

/// The values the central directory needs about one written entry.
struct WrittenEntry {
    name: &'static str,
    flags: u16,
    version_needed: u16,
    crc32: u32,
    size: u64,
    local_offset: u64,
}

/// Streaming writer of a package archive: the payload first, then the manifest.
///
/// ```text
/// let mut writer = ContainerWriter::new(file, payload_len)?;
/// writer.write_payload(&segment)?; // as many times as needed
/// let file = writer.finish(&manifest_json)?;
/// ```
pub struct ContainerWriter<W: Write> {
    inner: W,
    offset: u64,
    payload_len: u64,
    payload_written: u64,
    payload_crc: crc32fast::Hasher,
    payload_zip64: bool,
}

impl<W: Write> ContainerWriter<W> {
    /// Starts an archive whose payload will be exactly `payload_len` bytes,
    /// and writes the payload's local header.
    ///
    /// # Errors
    ///
    /// [`ContainerError::Io`] when writing fails.
    pub fn new(mut inner: W, payload_len: u64) -> Result<Self, ContainerError> {
        // NOTE: the ZIP64 branches of the writer (payload of 4 GiB or more)
        // are not exercised by the test suite, which stays below 4 GiB; the
        // reader's ZIP64 parsing is exercised by the stock OpenTDF files.
        let payload_zip64 = payload_len >= u64::from(u32::MAX);
        let mut header = Vec::with_capacity(64);
        put_u32(&mut header, LOCAL_HEADER_SIG);
        put_u16(&mut header, if payload_zip64 { VERSION_45 } else { VERSION_20 });
        put_u16(&mut header, FLAG_DATA_DESCRIPTOR);
        put_u16(&mut header, METHOD_STORED);
        put_u16(&mut header, 0);
        put_u16(&mut header, DOS_DATE_EPOCH);
        put_u32(&mut header, 0);
        let marker = if payload_zip64 { u32::MAX } else { 0 };
        put_u32(&mut header, marker);
        put_u32(&mut header, marker);
        put_u16(&mut header, PAYLOAD_NAME.len() as u16);
        put_u16(&mut header, if payload_zip64 { 20 } else { 0 });
        header.extend_from_slice(PAYLOAD_NAME.as_bytes());
        if payload_zip64 {
            put_u16(&mut header, ZIP64_EXTRA_ID);
            put_u16(&mut header, 16);
            put_u64(&mut header, 0);
            put_u64(&mut header, 0);
        }
        inner.write_all(&header)?;
        Ok(ContainerWriter {
            inner,
            offset: header.len() as u64,
            payload_len,
            payload_written: 0,
            payload_crc: crc32fast::Hasher::new(),
            payload_zip64,
        })
    }

    /// Appends payload bytes.
    ///
    /// # Errors
    ///
    /// [`ContainerError::Io`] when writing fails; [`ContainerError::Malformed`]
    /// when the bytes would exceed the length given to [`ContainerWriter::new`].
    pub fn write_payload(&mut self, bytes: &[u8]) -> Result<(), ContainerError> {
        let total = self.payload_written + bytes.len() as u64;
        if total > self.payload_len {
            return malformed(format!("payload exceeds its declared {} bytes", self.payload_len));
        }
        self.inner.write_all(bytes)?;
        self.payload_crc.update(bytes);
        self.payload_written = total;
        self.offset += bytes.len() as u64;
        Ok(())
    }

    /// Writes the payload's data descriptor, the manifest entry, the central
    /// directory and the end records; returns the inner writer, flushed.
    ///
    /// # Errors
    ///
    /// [`ContainerError::Io`] when writing fails; [`ContainerError::Malformed`]
    /// when fewer payload bytes were written than declared;
    /// [`ContainerError::TooLarge`] for a manifest over [`MAX_MANIFEST_BYTES`].
    pub fn finish(mut self, manifest: &[u8]) -> Result<W, ContainerError> {
        if self.payload_written != self.payload_len {
            return malformed(format!("payload has {} bytes, not the declared {}", self.payload_written, self.payload_len));
        }
        if manifest.len() > MAX_MANIFEST_BYTES {
            return Err(ContainerError::TooLarge { what: "manifest", size: manifest.len() as u64, limit: MAX_MANIFEST_BYTES as u64 });
        }
        let payload_crc = self.payload_crc.clone().finalize();

        let mut tail = Vec::with_capacity(manifest.len() + 512);
        put_u32(&mut tail, DATA_DESCRIPTOR_SIG);
        put_u32(&mut tail, payload_crc);
        if self.payload_zip64 {
            put_u64(&mut tail, self.payload_len);
            put_u64(&mut tail, self.payload_len);
        } else {
            put_u32(&mut tail, self.payload_len as u32);
            put_u32(&mut tail, self.payload_len as u32);
        }
        let payload_entry = WrittenEntry {
            name: PAYLOAD_NAME,
            flags: FLAG_DATA_DESCRIPTOR,
            version_needed: if self.payload_zip64 { VERSION_45 } else { VERSION_20 },
            crc32: payload_crc,
            size: self.payload_len,
            local_offset: 0,
        };

        let manifest_offset = self.offset + tail.len() as u64;
        let manifest_crc = crc32fast::hash(manifest);
        put_u32(&mut tail, LOCAL_HEADER_SIG);
        put_u16(&mut tail, VERSION_20);
        put_u16(&mut tail, 0);
        put_u16(&mut tail, METHOD_STORED);
        put_u16(&mut tail, 0);
        put_u16(&mut tail, DOS_DATE_EPOCH);
        put_u32(&mut tail, manifest_crc);
        put_u32(&mut tail, manifest.len() as u32);
        put_u32(&mut tail, manifest.len() as u32);
        put_u16(&mut tail, MANIFEST_NAME.len() as u16);
        put_u16(&mut tail, 0);
        tail.extend_from_slice(MANIFEST_NAME.as_bytes());
        tail.extend_from_slice(manifest);
        let manifest_entry = WrittenEntry {
            name: MANIFEST_NAME,
            flags: 0,
            version_needed: VERSION_20,
            crc32: manifest_crc,
            size: manifest.len() as u64,
            local_offset: manifest_offset,
        };

        let cd_offset = self.offset + tail.len() as u64;
        let cd_start = tail.len();
        for entry in [&payload_entry, &manifest_entry] {
            write_central_entry(&mut tail, entry);
        }
        let cd_size = (tail.len() - cd_start) as u64;

        if cd_offset >= u64::from(u32::MAX) {
            let record_offset = cd_offset + cd_size;
            put_u32(&mut tail, ZIP64_EOCD_SIG);
            put_u64(&mut tail, ZIP64_EOCD_LEN - 12);
            put_u16(&mut tail, VERSION_45);
            put_u16(&mut tail, VERSION_45);
            put_u32(&mut tail, 0);
            put_u32(&mut tail, 0);
            put_u64(&mut tail, 2);
            put_u64(&mut tail, 2);
            put_u64(&mut tail, cd_size);
            put_u64(&mut tail, cd_offset);
            put_u32(&mut tail, ZIP64_LOCATOR_SIG);
            put_u32(&mut tail, 0);
            put_u64(&mut tail, record_offset);
            put_u32(&mut tail, 1);
        }
        put_u32(&mut tail, EOCD_SIG);
        put_u16(&mut tail, 0);
        put_u16(&mut tail, 0);
        put_u16(&mut tail, 2);
        put_u16(&mut tail, 2);
        put_u32(&mut tail, cd_size as u32);
        put_u32(&mut tail, u32::try_from(cd_offset).unwrap_or(u32::MAX));
        put_u16(&mut tail, 0);

        self.inner.write_all(&tail)?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

fn write_central_entry(out: &mut Vec<u8>, entry: &WrittenEntry) {
    let size_zip64 = entry.size >= u64::from(u32::MAX);
    let offset_zip64 = entry.local_offset >= u64::from(u32::MAX);
    let mut extra = Vec::new();
    if size_zip64 {
        put_u64(&mut extra, entry.size);
        put_u64(&mut extra, entry.size);
    }
    if offset_zip64 {
        put_u64(&mut extra, entry.local_offset);
    }
    put_u32(out, CENTRAL_HEADER_SIG);
    put_u16(out, VERSION_45);
    put_u16(out, entry.version_needed);
    put_u16(out, entry.flags);
    put_u16(out, METHOD_STORED);
    put_u16(out, 0);
    put_u16(out, DOS_DATE_EPOCH);
    put_u32(out, entry.crc32);
    let size32 = if size_zip64 { u32::MAX } else { entry.size as u32 };
    put_u32(out, size32);
    put_u32(out, size32);
    put_u16(out, entry.name.len() as u16);
    put_u16(out, if extra.is_empty() { 0 } else { extra.len() as u16 + 4 });
    put_u16(out, 0);
    put_u16(out, 0);
    put_u16(out, 0);
    put_u32(out, 0);
    put_u32(out, if offset_zip64 { u32::MAX } else { entry.local_offset as u32 });
    out.extend_from_slice(entry.name.as_bytes());
    if !extra.is_empty() {
        put_u16(out, ZIP64_EXTRA_ID);
        put_u16(out, extra.len() as u16);
        out.extend_from_slice(&extra);
    }
}

fn put_u16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put_u32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put_u64(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(&value.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn archive(payload: &[u8], manifest: &[u8]) -> Vec<u8> {
        let mut writer = ContainerWriter::new(Vec::new(), payload.len() as u64).expect("start");
        let (a, b) = payload.split_at(payload.len() / 2);
        writer.write_payload(a).expect("write");
        writer.write_payload(b).expect("write");
        writer.finish(manifest).expect("finish")
    }

    #[test]
    fn round_trip() {
        let bytes = archive(b"payload bytes", br#"{"a":1}"#);
        let mut cursor = Cursor::new(&bytes);
        let container = Container::read(&mut cursor).expect("read");
        assert_eq!(container.payload.size, 13);
        let start = container.payload.data_offset as usize;
        assert_eq!(&bytes[start..start + 13], b"payload bytes");
        assert_eq!(container.read_manifest(&mut cursor).expect("manifest"), br#"{"a":1}"#);
        assert_eq!(container.archive_size, bytes.len() as u64);
    }

    #[test]
    fn empty_payload_round_trip() {
        let bytes = archive(b"", b"{}");
        let container = Container::read(&mut Cursor::new(&bytes)).expect("read");
        assert_eq!(container.payload.size, 0);
    }

    #[test]
    fn writer_rejects_wrong_length() {
        let mut writer = ContainerWriter::new(Vec::new(), 4).expect("start");
        assert!(writer.write_payload(b"12345").is_err());
        writer.write_payload(b"123").expect("write");
        assert!(writer.finish(b"{}").is_err());
    }

    #[test]
    fn rejects_trailing_and_leading_bytes() {
        let bytes = archive(b"abc", b"{}");
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(Container::read(&mut Cursor::new(&trailing)).is_err());
        let mut leading = vec![0u8];
        leading.extend_from_slice(&bytes);
        assert!(Container::read(&mut Cursor::new(&leading)).is_err());
    }

    #[test]
    fn rejects_renamed_entry() {
        let mut bytes = archive(b"abc", b"{}");
        // Rename the manifest in the central directory only.
        let cd_name = bytes.windows(MANIFEST_NAME.len()).rposition(|w| w == MANIFEST_NAME.as_bytes()).expect("name");
        bytes[cd_name] = b'1';
        let error = Container::read(&mut Cursor::new(&bytes)).expect_err("renamed");
        assert!(error.to_string().contains("1.manifest.json"), "{error}");
    }

    #[test]
    fn rejects_duplicate_entry() {
        let mut bytes = archive(b"abc", b"{}");
        let cd_name = bytes.windows(MANIFEST_NAME.len()).rposition(|w| w == MANIFEST_NAME.as_bytes()).expect("name");
        // Overwrite the second central name with the first; lengths differ,
        // so build the case by hand instead: rename the payload entry.
        bytes[cd_name..cd_name + PAYLOAD_NAME.len()].copy_from_slice(PAYLOAD_NAME.as_bytes());
        assert!(Container::read(&mut Cursor::new(&bytes)).is_err());
    }

    #[test]
    fn inflates_deflated_manifest_within_bound() {
        // Hand-built archive: stored payload, deflated manifest.
        let manifest = br#"{"x":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}"#;
        let deflated = miniz_oxide::deflate::compress_to_vec(manifest, 6);
        let bytes = hand_built(b"abc", &deflated, manifest.len() as u32, crc32fast::hash(manifest));
        let mut cursor = Cursor::new(&bytes);
        let container = Container::read(&mut cursor).expect("read");
        assert_eq!(container.manifest.method, METHOD_DEFLATED);
        assert_eq!(container.read_manifest(&mut cursor).expect("inflate"), manifest);

        // Declared size smaller than the inflated size: rejected, bounded.
        let bytes = hand_built(b"abc", &deflated, 10, crc32fast::hash(manifest));
        let mut cursor = Cursor::new(&bytes);
        let container = Container::read(&mut cursor).expect("read");
        assert!(container.read_manifest(&mut cursor).is_err());
    }

    #[test]
    fn rejects_oversized_manifest_sizes_before_reading() {
        // The archive itself is small; only the declared sizes are large,
        // so the reader must refuse from the central directory alone.
        let small = miniz_oxide::deflate::compress_to_vec(b"{}", 6);
        let too_large = (MAX_MANIFEST_BYTES + 1) as u32;
        let bytes = hand_built(b"abc", &small, too_large, 0);
        let error = Container::read(&mut Cursor::new(&bytes)).expect_err("declared size over the limit");
        assert!(matches!(error, ContainerError::TooLarge { what: "manifest", .. }), "{error}");

        // A stored (compressed) size over the limit: patch the central
        // directory's compressed size of the manifest entry.
        let mut bytes = hand_built(b"abc", &small, 2, crc32fast::hash(b"{}"));
        let central = bytes.windows(4).rposition(|w| w == CENTRAL_HEADER_SIG.to_le_bytes()).expect("manifest central header");
        let compressed = u32::try_from(MAX_MANIFEST_COMPRESSED_BYTES + 1).expect("fits 32 bits");
        bytes[central + 20..central + 24].copy_from_slice(&compressed.to_le_bytes());
        let error = Container::read(&mut Cursor::new(&bytes)).expect_err("stored size over the limit");
        assert!(matches!(error, ContainerError::TooLarge { what: "stored manifest", .. }), "{error}");
    }

    /// Builds an archive without data descriptors, manifest deflated.
    fn hand_built(payload: &[u8], manifest_deflated: &[u8], manifest_size: u32, manifest_crc: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        let entries: [(&str, &[u8], u16, u32, u32); 2] = [
            (PAYLOAD_NAME, payload, METHOD_STORED, payload.len() as u32, crc32fast::hash(payload)),
            (MANIFEST_NAME, manifest_deflated, METHOD_DEFLATED, manifest_size, manifest_crc),
        ];
        for (name, data, method, size, crc) in entries {
            let offset = out.len() as u32;
            put_u32(&mut out, LOCAL_HEADER_SIG);
            put_u16(&mut out, 20);
            put_u16(&mut out, 0);
            put_u16(&mut out, method);
            put_u16(&mut out, 0);
            put_u16(&mut out, 0);
            put_u32(&mut out, crc);
            put_u32(&mut out, data.len() as u32);
            put_u32(&mut out, size);
            put_u16(&mut out, name.len() as u16);
            put_u16(&mut out, 0);
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(data);
            put_u32(&mut central, CENTRAL_HEADER_SIG);
            put_u16(&mut central, 20);
            put_u16(&mut central, 20);
            put_u16(&mut central, 0);
            put_u16(&mut central, method);
            put_u16(&mut central, 0);
            put_u16(&mut central, 0);
            put_u32(&mut central, crc);
            put_u32(&mut central, data.len() as u32);
            put_u32(&mut central, size);
            put_u16(&mut central, name.len() as u16);
            put_u16(&mut central, 0);
            put_u16(&mut central, 0);
            put_u16(&mut central, 0);
            put_u16(&mut central, 0);
            put_u32(&mut central, 0);
            put_u32(&mut central, offset);
            central.extend_from_slice(name.as_bytes());
        }
        let cd_offset = out.len() as u32;
        out.extend_from_slice(&central);
        put_u32(&mut out, EOCD_SIG);
        put_u16(&mut out, 0);
        put_u16(&mut out, 0);
        put_u16(&mut out, 2);
        put_u16(&mut out, 2);
        put_u32(&mut out, central.len() as u32);
        put_u32(&mut out, cd_offset);
        put_u16(&mut out, 0);
        out
    }

    #[test]
    fn every_truncation_is_rejected() {
        let bytes = archive(b"abcdef", br#"{"k":"v"}"#);
        for len in 0..bytes.len() {
            assert!(Container::read(&mut Cursor::new(&bytes[..len])).is_err(), "truncated at {len}");
        }
    }
}
