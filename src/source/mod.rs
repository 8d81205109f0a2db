//! Where quotes come from: files and folders on disk, ZIP archives as B3 publishes them,
//! downloads from B3, and the synthetic generator.
//!
//! Everything ends up as an [`Input`]: one COTAHIST text stream that can be opened and read
//! as Arrow batches, whatever container it came in.

pub mod calendar;
pub mod cotahist;
pub mod download;
mod http;
pub mod portfolio;
pub mod synth;

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow::array::RecordBatch;

pub use cotahist::{CotahistReader, ParseError, ReaderOptions};

/// Errors of the source layer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading an input failed.
    #[error("{path}")]
    Io {
        /// The input.
        path: String,
        /// Why.
        source: io::Error,
    },
    /// A record that is not valid COTAHIST, located to the line and field.
    #[error(transparent)]
    Parse(#[from] Box<ParseError>),
    /// A web page where a COTAHIST file was expected.
    #[error(
        "{path}: this is an HTML page, not a ZIP or COTAHIST file (B3 answers with a page when it has no file for a date)"
    )]
    Html {
        /// The file.
        path: String,
    },
    /// A ZIP that cannot be read.
    #[error("{path}: not a valid ZIP archive (truncated or corrupt download?)")]
    Zip {
        /// The archive.
        path: String,
        /// The ZIP reader's error.
        source: zip::result::ZipError,
    },
    /// A ZIP without a COTAHIST file in it.
    #[error("{path}: the ZIP holds no COTAHIST member (members: {members:?})")]
    NoCotahistMember {
        /// The archive.
        path: String,
        /// What it holds.
        members: Vec<String>,
    },
    /// An input that is not there.
    #[error("{0}: no such file or folder")]
    NotFound(String),
    /// A folder without COTAHIST files.
    #[error("{path}: no COTAHIST files (.TXT, .ZIP or COTAHIST*) in this folder")]
    EmptyFolder {
        /// The folder.
        path: String,
    },
    /// A download from B3.
    #[error(transparent)]
    Download(#[from] download::DownloadError),
    /// An index portfolio from B3's API or a file.
    #[error(transparent)]
    Portfolio(#[from] portfolio::PortfolioError),
    /// A day that comes back after later days: not one COTAHIST file, or a damaged one.
    #[error("{input}: records of {date} appear again after later dates; COTAHIST files are sorted by trading date")]
    Unsorted {
        /// The input.
        input: String,
        /// The day that came back.
        date: chrono::NaiveDate,
    },
}

impl Error {
    fn io(path: &Path, source: io::Error) -> Self {
        Error::Io { path: path.display().to_string(), source }
    }
}

/// One COTAHIST text stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A plain text file.
    Text {
        /// The file.
        path: PathBuf,
        /// Bytes.
        size: u64,
    },
    /// One member of a ZIP archive; `size` is the compressed size, the bytes read from disk.
    ZipMember {
        /// The archive.
        zip: PathBuf,
        /// The member's name.
        member: String,
        /// Compressed bytes.
        size: u64,
    },
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Input::Text { path, .. } => write!(f, "{}", path.display()),
            Input::ZipMember { zip, member, .. } => write!(f, "{}!{member}", zip.display()),
        }
    }
}

/// What the first bytes of a file say it is.
enum Sniffed {
    Zip,
    Html,
    Text,
}

/// B3 answers a request for a missing file with a web page, sometimes with status 200.
pub(crate) fn looks_like_html(body: &[u8]) -> bool {
    let head = &body[..body.len().min(512)];
    let lower = head.trim_ascii_start().to_ascii_lowercase();
    lower.starts_with(b"<") || lower.windows(5).any(|w| w == b"<html")
}

fn sniff(path: &Path) -> Result<Sniffed, Error> {
    let mut head = [0u8; 512];
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut n = 0;
    while n < head.len() {
        match file.read(&mut head[n..]).map_err(|e| Error::io(path, e))? {
            0 => break,
            k => n += k,
        }
    }
    let head = &head[..n];
    if head.starts_with(b"PK") {
        return Ok(Sniffed::Zip);
    }
    if looks_like_html(head) {
        return Ok(Sniffed::Html);
    }
    let is_zip_name = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    if is_zip_name && !head.is_empty() {
        // Named .ZIP but not one: most likely a cut-off or mangled download.
        return Err(Error::Zip {
            path: path.display().to_string(),
            source: zip::result::ZipError::InvalidArchive("no ZIP signature".into()),
        });
    }
    Ok(Sniffed::Text)
}

/// B3 names its files `COTAHIST_A2022.TXT`, `COTAHIST.A1990` (old, no extension), and the
/// demo `DemoCotacoesHistoricas12022003.txt`.
fn is_cotahist_name(name: &str) -> bool {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name).to_ascii_uppercase();
    base.starts_with("COTAHIST") || (base.ends_with(".TXT") && base.contains("COTAC"))
}

/// Expands paths (files, ZIPs, folders) into inputs, in a stable order.
pub fn resolve(paths: &[PathBuf]) -> Result<Vec<Input>, Error> {
    let mut inputs = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => Error::NotFound(path.display().to_string()),
            _ => Error::io(path, e),
        })?;
        if meta.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| Error::io(path, e))?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .filter(|p| {
                    let name = p.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
                    let upper = name.to_ascii_uppercase();
                    is_cotahist_name(&name) || upper.ends_with(".ZIP") || upper.ends_with(".TXT")
                })
                .collect();
            if files.is_empty() {
                return Err(Error::EmptyFolder { path: path.display().to_string() });
            }
            files.sort();
            for file in files {
                inputs.extend(resolve_file(&file)?);
            }
        } else {
            inputs.extend(resolve_file(path)?);
        }
    }
    Ok(inputs)
}

/// A file's inputs: itself, or its COTAHIST members if it is a ZIP.
pub fn resolve_file(path: &Path) -> Result<Vec<Input>, Error> {
    let size = std::fs::metadata(path).map_err(|e| Error::io(path, e))?.len();
    match sniff(path)? {
        Sniffed::Text => Ok(vec![Input::Text { path: path.to_path_buf(), size }]),
        Sniffed::Html => Err(Error::Html { path: path.display().to_string() }),
        Sniffed::Zip => {
            let zip_err = |source| Error::Zip { path: path.display().to_string(), source };
            let file = File::open(path).map_err(|e| Error::io(path, e))?;
            let mut archive = zip::ZipArchive::new(BufReader::new(file)).map_err(zip_err)?;
            let mut inputs = Vec::new();
            let mut members = Vec::new();
            for i in 0..archive.len() {
                let entry = archive.by_index_raw(i).map_err(zip_err)?;
                let name = entry.name().map_err(zip_err)?.to_string();
                if entry.is_file() && is_cotahist_name(&name) {
                    inputs.push(Input::ZipMember {
                        zip: path.to_path_buf(),
                        member: name.clone(),
                        size: entry.compressed_size(),
                    });
                }
                members.push(name);
            }
            if inputs.is_empty() {
                return Err(Error::NoCotahistMember { path: path.display().to_string(), members });
            }
            Ok(inputs)
        }
    }
}

/// Counts bytes read, for progress and throughput.
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl<R: Seek> Seek for Counting<R> {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

const READ_BUFFER: usize = 1 << 20;

impl Input {
    /// Bytes of the input as stored (compressed for ZIP members).
    pub fn size(&self) -> u64 {
        match self {
            Input::Text { size, .. } | Input::ZipMember { size, .. } => *size,
        }
    }

    /// Reads the input as raw-schema batches, handing each to `on_batch` in file order.
    /// `progress` is advanced by the bytes read from disk. Returns the number of quote records.
    pub fn read_batches(
        &self,
        opts: &ReaderOptions,
        progress: Arc<AtomicU64>,
        mut on_batch: impl FnMut(RecordBatch) -> bool,
    ) -> Result<u64, Error> {
        let name = self.to_string();
        let mut drain = |reader: &mut dyn BufRead| -> Result<u64, Error> {
            let mut reader = CotahistReader::new(reader, name.clone(), opts.clone());
            while let Some(batch) = reader.next_batch().map_err(Box::new)? {
                if !on_batch(batch) {
                    break;
                }
            }
            Ok(reader.quotes())
        };
        match self {
            Input::Text { path, .. } => {
                let file = File::open(path).map_err(|e| Error::io(path, e))?;
                let mut reader = BufReader::with_capacity(READ_BUFFER, Counting { inner: file, count: progress });
                drain(&mut reader)
            }
            Input::ZipMember { zip, member, .. } => {
                let zip_err = |source| Error::Zip { path: zip.display().to_string(), source };
                let file = File::open(zip).map_err(|e| Error::io(zip, e))?;
                let counted = BufReader::new(Counting { inner: file, count: progress });
                let mut archive = zip::ZipArchive::new(counted).map_err(zip_err)?;
                let entry = archive.by_name(member).map_err(zip_err)?;
                let mut reader = BufReader::with_capacity(READ_BUFFER, entry);
                drain(&mut reader)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cotahist_member_names() {
        assert!(is_cotahist_name("COTAHIST_A2022.TXT"));
        assert!(is_cotahist_name("COTAHIST.A1990"));
        assert!(is_cotahist_name("dir/cotahist_d04022022.txt"));
        assert!(is_cotahist_name("DemoCotacoesHistoricas12022003.txt"));
        assert!(!is_cotahist_name("readme.pdf"));
        assert!(!is_cotahist_name("LEIAME.TXT"));
    }
}
