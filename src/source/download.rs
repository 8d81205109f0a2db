//! Downloads of COTAHIST ZIPs from B3, by trading day, month or year.
//!
//! B3's server is slow and sometimes fails, answers an HTML page when it has no file for a
//! date, and streams the current year's ZIP, which can arrive cut short. So: timeouts, retries
//! with exponential backoff and jitter for transient failures only, validation of every body
//! before it is kept, and a cache so that a finished period is downloaded once.

use std::fmt;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{Datelike, NaiveDate};
use sha2::{Digest, Sha256};
use tracing::{info, warn};

use reqwest::StatusCode;

use super::http::{self, GetError};
use super::looks_like_html;
use crate::local_fs::replace_local_file;
use crate::retry::{Attempt, RetryConfig};

/// B3's historical quotes folder.
pub const DEFAULT_BASE_URL: &str = "https://bvmf.bmfbovespa.com.br/InstDados/SerHist";

/// A period B3 publishes one file for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Period {
    /// A trading day: `COTAHIST_DDDMMYYYY.ZIP`.
    Day(NaiveDate),
    /// A month: `COTAHIST_MMMYYYY.ZIP`.
    Month {
        /// The year.
        year: i32,
        /// The month, 1 to 12.
        month: u32,
    },
    /// A year: `COTAHIST_AYYYY.ZIP`.
    Year(i32),
}

impl Period {
    /// `YYYY-MM-DD`, `YYYY-MM` or `YYYY`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not a day (YYYY-MM-DD), month (YYYY-MM) or year (YYYY)");
        match s.len() {
            10 => NaiveDate::parse_from_str(s, "%Y-%m-%d").map(Period::Day).map_err(|_| bad()),
            7 => {
                let date = NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d").map_err(|_| bad())?;
                Ok(Period::Month { year: date.year(), month: date.month() })
            }
            4 => s.parse().map(Period::Year).map_err(|_| bad()),
            _ => Err(bad()),
        }
    }

    /// B3's file name: `COTAHIST_D04022022.ZIP`, `COTAHIST_M022022.ZIP`, `COTAHIST_A2022.ZIP`.
    pub fn file_name(&self) -> String {
        match self {
            Period::Day(d) => format!("COTAHIST_D{:02}{:02}{:04}.ZIP", d.day(), d.month(), d.year()),
            Period::Month { year, month } => format!("COTAHIST_M{month:02}{year:04}.ZIP"),
            Period::Year(y) => format!("COTAHIST_A{y:04}.ZIP"),
        }
    }

    /// Last calendar day of the period.
    pub fn last_day(&self) -> NaiveDate {
        match *self {
            Period::Day(d) => d,
            Period::Month { year, month } => {
                let (y, m) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
                NaiveDate::from_ymd_opt(y, m, 1).expect("valid month") - chrono::Days::new(1)
            }
            Period::Year(y) => NaiveDate::from_ymd_opt(y, 12, 31).expect("valid year"),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Day(d) => write!(f, "{d}"),
            Period::Month { year, month } => write!(f, "{year:04}-{month:02}"),
            Period::Year(y) => write!(f, "{y:04}"),
        }
    }
}

/// Why a download failed; each names the URL.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// B3 has no file for the period.
    #[error("{url}: B3 has no file for {period} (HTTP 404)")]
    NotFound {
        /// The URL asked.
        url: String,
        /// The period.
        period: Period,
    },
    /// B3's page for a date without a file.
    #[error(
        "{url}: B3 answered an HTML page instead of a ZIP; it has no file for {period} (a weekend, a holiday, or a date not yet published?)"
    )]
    Html {
        /// The URL asked.
        url: String,
        /// The period.
        period: Period,
    },
    /// Another HTTP error, after the retries it deserved.
    #[error("{url}: HTTP {status} after {attempts} attempts")]
    Status {
        /// The URL asked.
        url: String,
        /// The last HTTP status.
        status: u16,
        /// Attempts made.
        attempts: u32,
    },
    /// A body cut short or not a whole ZIP, every attempt.
    #[error("{url}: download cut off or corrupt after {attempts} attempts: {detail}")]
    Truncated {
        /// The URL asked.
        url: String,
        /// What was wrong with the last body.
        detail: String,
        /// Attempts made.
        attempts: u32,
    },
    /// No answer (connection, timeout), every attempt.
    #[error("{url}: no answer after {attempts} attempts")]
    Network {
        /// The URL asked.
        url: String,
        /// The last attempt's error.
        source: reqwest::Error,
        /// Attempts made.
        attempts: u32,
    },
    /// Writing the cache failed.
    #[error("{path}")]
    Io {
        /// The cached file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// How downloads behave.
#[derive(Debug, Clone)]
pub struct DownloadOptions {
    /// The folder the files are in: B3's, or a mirror's.
    pub base_url: String,
    /// Where downloads are kept, with their SHA-256.
    pub cache_dir: PathBuf,
    /// For 5xx, 429, network errors and cut-off bodies.
    pub retry: RetryConfig,
    /// For the connection alone.
    pub connect_timeout: Duration,
    /// For the whole request, body included: a yearly ZIP is ~90 MB.
    pub timeout: Duration,
}

impl Default for DownloadOptions {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_string(),
            cache_dir: default_cache_dir(),
            retry: RetryConfig::default(),
            connect_timeout: Duration::from_secs(15),
            timeout: Duration::from_secs(600),
        }
    }
}

/// `$XDG_CACHE_HOME/b3lake`, else `~/.cache/b3lake`, else `./.b3lake-cache`.
pub fn default_cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("b3lake");
    }
    match std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        Some(home) => PathBuf::from(home).join(".cache").join("b3lake"),
        None => PathBuf::from(".b3lake-cache"),
    }
}

/// Downloads B3 files into the cache folder.
pub struct Downloader {
    client: reqwest::Client,
    opts: DownloadOptions,
}

impl Downloader {
    /// A downloader with its HTTP client.
    pub fn new(opts: DownloadOptions) -> Result<Self, DownloadError> {
        let client = http::client(opts.connect_timeout, opts.timeout).map_err(|source| DownloadError::Network {
            url: opts.base_url.clone(),
            source,
            attempts: 0,
        })?;
        Ok(Self { client, opts })
    }

    fn url(&self, period: &Period) -> String {
        format!("{}/{}", self.opts.base_url.trim_end_matches('/'), period.file_name())
    }

    /// The path of the period's ZIP in the cache, downloading it unless a verified copy is
    /// there. Periods that may still change (ending today or later) are always downloaded.
    pub async fn fetch(&self, period: Period) -> Result<PathBuf, DownloadError> {
        let name = period.file_name();
        let path = self.opts.cache_dir.join(&name);
        let today = chrono::Local::now().date_naive();
        if period.last_day() < today
            && let Some(hash) = cached_hash(&path)
        {
            info!(file = %path.display(), sha256 = %hash, "download cache hit");
            return Ok(path);
        }
        let url = self.url(&period);
        let body = self.opts.retry.run(&url, |n| self.try_get(&url, period, n)).await?;
        store(&path, &body)?;
        info!(%url, bytes = body.len(), "downloaded");
        Ok(path)
    }

    /// Removes the period's file and its hash from the cache (a function's small `/tmp`).
    pub fn evict(&self, period: Period) {
        let path = self.opts.cache_dir.join(period.file_name());
        let _ = std::fs::remove_file(sidecar(&path));
        let _ = std::fs::remove_file(path);
    }

    /// Attempt number `attempts` at the period's ZIP.
    async fn try_get(&self, url: &str, period: Period, attempts: u32) -> Result<Vec<u8>, Attempt<DownloadError>> {
        let url = url.to_string();
        let body = http::get(&self.client, &url).await.map_err(|e| {
            e.attempt(|e| match e {
                GetError::Status(StatusCode::NOT_FOUND) => DownloadError::NotFound { url: url.clone(), period },
                GetError::Status(status) => {
                    DownloadError::Status { url: url.clone(), status: status.as_u16(), attempts }
                }
                GetError::Network(source) | GetError::Body(source) => {
                    DownloadError::Network { url: url.clone(), source, attempts }
                }
                e @ GetError::Length { .. } => {
                    DownloadError::Truncated { url: url.clone(), detail: e.to_string(), attempts }
                }
            })
        })?;
        let cut = |detail: String| Attempt::Retry {
            error: DownloadError::Truncated { url: url.clone(), detail: detail.clone(), attempts },
            detail,
        };
        if looks_like_html(&body) {
            return Err(Attempt::Final(DownloadError::Html { url, period }));
        }
        if !body.starts_with(b"PK") {
            return Err(cut("the body is not a ZIP archive".to_string()));
        }
        verify_zip(&body).map_err(cut)?;
        Ok(body.to_vec())
    }
}

/// Reads every member to the end, so that a cut-off archive or a bad CRC is caught before
/// the file is cached.
fn verify_zip(body: &[u8]) -> Result<(), String> {
    let mut archive = zip::ZipArchive::new(Cursor::new(body)).map_err(|e| e.to_string())?;
    for i in 0..archive.len() {
        let mut member = archive.by_index(i).map_err(|e| e.to_string())?;
        let name = member.name().map(|n| n.to_string()).unwrap_or_default();
        std::io::copy(&mut member, &mut std::io::sink()).map_err(|e| format!("member {name}: {e}"))?;
    }
    Ok(())
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn sidecar(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".sha256");
    path.with_file_name(name)
}

/// The hash of a cached file if the file is there and matches the hash recorded with it.
fn cached_hash(path: &Path) -> Option<String> {
    let recorded = std::fs::read_to_string(sidecar(path)).ok()?;
    let body = std::fs::read(path).ok()?;
    let actual = sha256_hex(&body);
    if recorded.trim() == actual {
        Some(actual)
    } else {
        warn!(file = %path.display(), "cached file does not match its recorded hash; downloading again");
        None
    }
}

/// Writes the body and its hash, each through a temporary file, so a crash never leaves a
/// cached file that looks complete.
fn store(path: &Path, body: &[u8]) -> Result<(), DownloadError> {
    let io = |source| DownloadError::Io { path: path.display().to_string(), source };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let _ = std::fs::remove_file(sidecar(path));
    replace_local_file(path, body).map_err(io)?;
    replace_local_file(&sidecar(path), sha256_hex(body).as_bytes()).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_follow_b3() {
        assert_eq!(Period::parse("2022-02-04").unwrap().file_name(), "COTAHIST_D04022022.ZIP");
        assert_eq!(Period::parse("2022-02").unwrap().file_name(), "COTAHIST_M022022.ZIP");
        assert_eq!(Period::parse("2022").unwrap().file_name(), "COTAHIST_A2022.ZIP");
        assert!(Period::parse("2022-13").is_err());
        assert!(Period::parse("22-02-04").is_err());
    }

    #[test]
    fn last_days() {
        assert_eq!(Period::parse("2024-02").unwrap().last_day().to_string(), "2024-02-29");
        assert_eq!(Period::parse("2022-12").unwrap().last_day().to_string(), "2022-12-31");
    }
}
