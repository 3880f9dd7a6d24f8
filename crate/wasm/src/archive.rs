//! Reads a package archive where the page keeps it, in a JavaScript
//! `Uint8Array`, so the module copies only the parts it parses (the ZIP
//! directory and the manifest) and the segments it decrypts, never the
//! whole archive. A package as large as the document would otherwise sit
//! twice in the page's memory.

use std::io::{self, Read, Seek, SeekFrom};

use js_sys::Uint8Array;

/// A [`Read`] and [`Seek`] view of a `Uint8Array`. Each read copies only the
/// requested bytes into the module's memory. A detached buffer (one
/// transferred to a worker) reads as empty.
pub(crate) struct ArchiveReader<'a> {
    archive: &'a Uint8Array,
    position: u64,
}

impl<'a> ArchiveReader<'a> {
    pub(crate) fn new(archive: &'a Uint8Array) -> ArchiveReader<'a> {
        ArchiveReader { archive, position: 0 }
    }
}

fn out_of_range(value: u64) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("archive offset {value} is beyond what a Uint8Array can hold"))
}

impl Read for ArchiveReader<'_> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let length = u64::from(self.archive.length());
        if self.position >= length || buffer.is_empty() {
            return Ok(0);
        }
        let wanted = u64::try_from(buffer.len()).map_err(|_| out_of_range(self.position))?;
        let end = self.position.saturating_add(wanted).min(length);
        let begin_index = u32::try_from(self.position).map_err(|_| out_of_range(self.position))?;
        let end_index = u32::try_from(end).map_err(|_| out_of_range(end))?;
        let count = usize::try_from(end_index - begin_index).map_err(|_| out_of_range(end))?;
        let target = buffer.get_mut(..count).ok_or_else(|| out_of_range(end))?;
        self.archive.subarray(begin_index, end_index).copy_to(target);
        self.position = end;
        Ok(count)
    }
}

impl Seek for ArchiveReader<'_> {
    fn seek(&mut self, target: SeekFrom) -> io::Result<u64> {
        let length = i128::from(self.archive.length());
        let position = match target {
            SeekFrom::Start(offset) => i128::from(offset),
            SeekFrom::End(delta) => length + i128::from(delta),
            SeekFrom::Current(delta) => i128::from(self.position) + i128::from(delta),
        };
        self.position = u64::try_from(position)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, format!("seek to archive offset {position}, before the start")))?;
        Ok(self.position)
    }
}
