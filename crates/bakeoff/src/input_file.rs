//! The files a user names (scenarios, manifests, profiles, request bodies,
//! data tables, segments), read with a size limit: `/dev/zero` or a wrong
//! multi-gigabyte file is refused with a message, never read into memory.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Scenario, manifest and advisor profile files: a few KiB in practice.
pub const TEXT_LIMIT: u64 = 16 << 20;
/// A scenario's `[data.*]` table, a `load --body @file`, a merge segment.
pub const DATA_LIMIT: u64 = 256 << 20;

/// The whole file, or an error once it passes `limit` bytes.
pub fn read(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    open(path, limit)?.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The whole file as UTF-8 text, or an error once it passes `limit` bytes.
pub fn read_to_string(path: &Path, limit: u64) -> io::Result<String> {
    let mut text = String::new();
    open(path, limit)?.read_to_string(&mut text)?;
    Ok(text)
}

/// A reader of the file that fails once it has given `limit` bytes and more
/// follow. A regular file over the limit is refused before any read.
pub fn open(path: &Path, limit: u64) -> io::Result<Bounded> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "it is a directory; name a file",
        ));
    }
    if meta.is_file() && meta.len() > limit {
        return Err(too_large(limit));
    }
    Ok(Bounded {
        inner: file,
        left: limit,
        limit,
    })
}

/// See [`open`].
pub struct Bounded {
    inner: File,
    left: u64,
    limit: u64,
}

impl Read for Bounded {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            // At the limit: one more byte means the file is over it.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(too_large(self.limit)),
            };
        }
        let max = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..max])?;
        self.left -= n as u64;
        Ok(n)
    }
}

fn too_large(limit: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "larger than {}, the most bakeoff reads from such a file; is this the right file?",
            size(limit)
        ),
    )
}

/// "16 MiB", "256 KiB", "100 bytes".
fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_at_the_limit_is_read_and_one_past_it_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, vec![b'x'; 10]).unwrap();
        assert_eq!(read(&path, 10).unwrap().len(), 10);
        let e = read(&path, 9).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert!(e.to_string().contains("is this the right file?"), "{e}");
    }

    #[test]
    fn an_endless_device_is_cut_off_at_the_limit() {
        // /dev/zero has no length: the reader, not the size check, stops it.
        let e = read(Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{e}");
        let e = read_to_string(Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert!(e.to_string().contains("larger than 1 MiB"), "{e}");
    }

    #[test]
    fn a_directory_is_named_as_one() {
        let dir = tempfile::tempdir().unwrap();
        let e = read(dir.path(), 10).unwrap_err();
        assert!(e.to_string().contains("directory"), "{e}");
    }
}
