//! A file's bytes as read from disk, and the only place where byte offsets become lines and
//! columns. Everything upstream speaks in [`FileSpan`]s; lines and columns are computed here, once,
//! for display.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// A byte offset into the original bytes of a file on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FileOffset(pub usize);

/// A half-open byte range in the original bytes of a file on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FileSpan {
    pub start: FileOffset,
    pub end: FileOffset,
}

impl FileSpan {
    pub fn new(start: usize, end: usize) -> Self {
        FileSpan {
            start: FileOffset(start),
            end: FileOffset(end.max(start)),
        }
    }

    pub fn len(&self) -> usize {
        self.end.0 - self.start.0
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A 1-based line and column. Columns count characters: a valid UTF-8 sequence is one column and
/// so is each byte that is not valid UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineColumn {
    pub line: usize,
    pub column: usize,
}

/// The bytes of one file and an index of where its lines start.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as reached from the command-line argument (or the `--stdin-filename`).
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    /// Where each line starts, found when a position is first asked for: most files read have
    /// no finding, and finding the lines of each was a twentieth of a scan of Cluster API AWS.
    line_starts: std::sync::OnceLock<Vec<usize>>,
}

impl SourceFile {
    pub fn new(path: PathBuf, bytes: Vec<u8>) -> Self {
        SourceFile {
            path,
            bytes,
            line_starts: std::sync::OnceLock::new(),
        }
    }

    fn line_starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| {
            let mut starts = vec![0];
            starts.extend(memchr::memchr_iter(b'\n', &self.bytes).map(|i| i + 1));
            starts
        })
    }

    /// The 0-based index of the line holding `offset`.
    pub fn line_index(&self, offset: FileOffset) -> usize {
        match self.line_starts().binary_search(&offset.0) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        }
    }

    /// The byte offset where the 0-based line `index` starts (the end of the file past the last).
    pub fn line_start(&self, index: usize) -> usize {
        self.line_starts()
            .get(index)
            .copied()
            .unwrap_or(self.bytes.len())
    }

    /// The byte range of 0-based line `index`, without its line terminator (`\n` or `\r\n`).
    pub fn line_range(&self, index: usize) -> (usize, usize) {
        let start = self.line_start(index).min(self.bytes.len());
        let mut end = self
            .line_starts()
            .get(index + 1)
            .map_or(self.bytes.len(), |next| next.saturating_sub(1));
        end = end.max(start);
        if end > start && self.bytes.get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
        (start, end)
    }

    /// The text of 0-based line `index`, decoded lossily.
    pub fn line_text(&self, index: usize) -> String {
        let (start, end) = self.line_range(index);
        String::from_utf8_lossy(self.bytes.get(start..end).unwrap_or_default()).into_owned()
    }

    pub fn line_count(&self) -> usize {
        self.line_starts().len()
    }

    pub fn position(&self, offset: FileOffset) -> LineColumn {
        let offset = FileOffset(offset.0.min(self.bytes.len()));
        let line = self.line_index(offset);
        let start = self.line_start(line);
        let prefix = self.bytes.get(start..offset.0).unwrap_or_default();
        LineColumn {
            line: line + 1,
            column: count_chars(prefix) + 1,
        }
    }
}

/// Counts characters the way [`LineColumn`] does: one per UTF-8 sequence or invalid byte.
pub fn count_chars(bytes: &[u8]) -> usize {
    // Most lines are ASCII: one byte, one character (and the check is much cheaper than decoding,
    // which matters when a long line holds thousands of findings).
    if bytes.is_ascii() {
        return bytes.len();
    }
    bytes.utf8_chunks().fold(0, |n, chunk| {
        n + chunk.valid().chars().count() + chunk.invalid().len()
    })
}

/// Opens `path` for reading if it is a regular file (links followed), without blocking on a FIFO
/// or a device: every file imds-lint reads goes through here, so that a hostile repository
/// cannot make it wait forever or read without end. Returns the file's metadata too.
pub fn open_regular(path: &Path) -> io::Result<(File, std::fs::Metadata)> {
    let file = open_nonblocking(path)?;
    let metadata = file.metadata()?;
    regular(&metadata)?;
    Ok((file, metadata))
}

/// Opens `path` for reading without blocking on a FIFO or a device, whatever it is: for a file
/// the walker has just seen to be regular, whose first read cannot block either way (a FIFO put
/// in its place has no writer: it reads as empty), and whose kind and size [`regular`] checks
/// once it turns out longer than a probe.
pub fn open_nonblocking(path: &Path) -> io::Result<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

/// Whether `metadata` is a regular file's, or an error that says what it is instead.
pub fn regular(metadata: &std::fs::Metadata) -> io::Result<()> {
    let kind = metadata.file_type();
    if kind.is_file() {
        return Ok(());
    }
    let what = if kind.is_fifo() {
        "a named pipe (FIFO)"
    } else if kind.is_dir() {
        "a directory"
    } else {
        "a device or socket"
    };
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{what}, not a regular file; not read"),
    ))
}

/// Reads a regular file of at most `limit` bytes whole (see [`open_regular`]).
pub fn read_regular(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let (file, _) = open_regular(path)?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("over {limit} bytes; not read"),
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(bytes: &[u8]) -> SourceFile {
        SourceFile::new(PathBuf::from("t.sh"), bytes.to_vec())
    }

    #[test]
    fn positions_are_one_based() {
        let f = file(b"ab\ncd\n");
        assert_eq!(f.position(FileOffset(0)), LineColumn { line: 1, column: 1 });
        assert_eq!(f.position(FileOffset(4)), LineColumn { line: 2, column: 2 });
        assert_eq!(f.position(FileOffset(6)), LineColumn { line: 3, column: 1 });
    }

    #[test]
    fn columns_count_characters_and_invalid_bytes() {
        let f = file("é\u{ff}x".as_bytes());
        // "é" is two bytes, one column; then U+00FF (two bytes), then x.
        assert_eq!(f.position(FileOffset(4)).column, 3);
        let g = file(b"\xff\xfex");
        assert_eq!(g.position(FileOffset(2)).column, 3);
    }

    #[test]
    fn crlf_lines_exclude_the_terminator() {
        let f = file(b"one\r\ntwo\r\n");
        assert_eq!(f.line_text(0), "one");
        assert_eq!(f.line_text(1), "two");
        assert_eq!(f.position(FileOffset(5)), LineColumn { line: 2, column: 1 });
    }
}
