//! Downloads against a real HTTP server on 127.0.0.1 that plays back scripted answers.

use std::time::Duration;

use b3lake::retry::RetryConfig;
use b3lake::source::download::{DownloadError, DownloadOptions, Downloader, Period};

use crate::common::*;

/// A server on 127.0.0.1 that plays `replies` in order (the last one repeats).
struct Server {
    base: String,
    http: HttpServer,
}

impl Server {
    fn start(replies: Vec<Reply>) -> Self {
        let http = HttpServer::start(move |i, _| replies[i.min(replies.len() - 1)].clone());
        Server { base: format!("{}/InstDados/SerHist", http.base), http }
    }

    fn requests(&self) -> Vec<String> {
        self.http.requests()
    }
}

fn zip_of(member: &str, source: &str) -> Vec<u8> {
    zip_file(member, &data(source))
}

fn downloader(server: &Server, cache: &std::path::Path) -> Downloader {
    Downloader::new(DownloadOptions {
        base_url: server.base.clone(),
        cache_dir: cache.to_path_buf(),
        retry: RetryConfig::new(3, Duration::from_millis(20)),
        connect_timeout: Duration::from_secs(5),
        timeout: Duration::from_secs(20),
    })
    .unwrap()
}

fn day() -> Period {
    Period::parse("2022-02-04").unwrap()
}

#[tokio::test]
async fn server_error_then_success_then_cache_hit() {
    let server = Server::start(vec![
        Reply::Status(500),
        Reply::Status(503),
        Reply::Body("application/zip", zip_of("COTAHIST_D04022022.TXT", DAY_2022)),
    ]);
    let cache = tempfile::tempdir().unwrap();
    let dl = downloader(&server, cache.path());
    let path = dl.fetch(day()).await.unwrap();
    assert_eq!(path, cache.path().join("COTAHIST_D04022022.ZIP"));
    assert_eq!(server.requests(), vec!["/InstDados/SerHist/COTAHIST_D04022022.ZIP"; 3]);
    // A past day is cached with its hash: the second fetch makes no request.
    let again = dl.fetch(day()).await.unwrap();
    assert_eq!(again, path);
    assert_eq!(server.requests().len(), 3);
    // A damaged cached file does not match its hash and is downloaded again.
    std::fs::write(&path, b"PK garbage").unwrap();
    dl.fetch(day()).await.unwrap();
    assert_eq!(server.requests().len(), 4);
    // The downloaded ZIP ingests like any other.
    let lake_dir = tempfile::tempdir().unwrap();
    let lake = b3lake::lake::Lake::open(lake_dir.path().to_str().unwrap()).await.unwrap();
    let report = ingest_paths(&lake, &[path]).await.unwrap();
    assert_eq!(report.records, 7522);
}

#[tokio::test]
async fn html_body_is_not_a_zip_and_is_not_retried() {
    let server = Server::start(vec![Reply::Body("text/html", b"<html><body>Not found</body></html>".to_vec())]);
    let cache = tempfile::tempdir().unwrap();
    let err = downloader(&server, cache.path()).fetch(day()).await.unwrap_err();
    assert!(matches!(err, DownloadError::Html { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("COTAHIST_D04022022.ZIP") && msg.contains("HTML page"), "{msg}");
    assert_eq!(server.requests().len(), 1);
    assert!(!cache.path().join("COTAHIST_D04022022.ZIP").exists(), "nothing is cached");
}

#[tokio::test]
async fn cut_off_body_is_retried_then_reported() {
    let server = Server::start(vec![Reply::CutOff(zip_of("COTAHIST_D04022022.TXT", DAY_2022))]);
    let cache = tempfile::tempdir().unwrap();
    let err = downloader(&server, cache.path()).fetch(day()).await.unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("COTAHIST_D04022022.ZIP") && msg.contains("after 3 attempts"), "{msg}");
    assert_eq!(server.requests().len(), 3);
    assert!(!cache.path().join("COTAHIST_D04022022.ZIP").exists(), "nothing is cached");
}

#[tokio::test]
async fn cut_off_then_whole() {
    let zip = zip_of("COTAHIST_D04022022.TXT", DAY_2022);
    let server = Server::start(vec![Reply::CutOff(zip.clone()), Reply::Body("application/zip", zip.clone())]);
    let cache = tempfile::tempdir().unwrap();
    let path = downloader(&server, cache.path()).fetch(day()).await.unwrap();
    assert_eq!(std::fs::read(path).unwrap(), zip);
}

#[tokio::test]
async fn a_zip_whose_end_is_missing_is_caught_without_content_length_help() {
    // The body is complete as HTTP goes but the archive inside is cut (a server that streamed
    // a partial file): the central directory is missing.
    let zip = zip_of("COTAHIST_D04022022.TXT", DAY_2022);
    let server = Server::start(vec![Reply::Body("application/zip", zip[..zip.len() - 40].to_vec())]);
    let cache = tempfile::tempdir().unwrap();
    let err = downloader(&server, cache.path()).fetch(day()).await.unwrap_err();
    assert!(matches!(err, DownloadError::Truncated { .. }), "{err}");
}

#[tokio::test]
async fn not_found_is_final() {
    let server = Server::start(vec![Reply::Status(404)]);
    let cache = tempfile::tempdir().unwrap();
    let err = downloader(&server, cache.path()).fetch(day()).await.unwrap_err();
    assert!(matches!(err, DownloadError::NotFound { .. }), "{err}");
    assert_eq!(server.requests().len(), 1);
}

fn ingest_day(day: &str, base: &str, cache: &std::path::Path, lake: &std::path::Path) -> std::process::Output {
    let (cache, lake) = (cache.to_str().unwrap(), lake.to_str().unwrap());
    cli(&["ingest", "--day", day, "--base-url", base, "--cache-dir", cache, "--lake", lake])
}

#[test]
fn cli_downloads_by_day_from_a_mirror() {
    let server = Server::start(vec![Reply::Body("application/zip", zip_of("COTAHIST_D04022022.TXT", DAY_2022))]);
    let dir = tempfile::tempdir().unwrap();
    let (lake, cache) = (dir.path().join("lake"), dir.path().join("cache"));
    let out = ingest_day("2022-02-04", &server.base, &cache, &lake);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(lake.join("raw/year=2022/month=02/day=04/cotacoes_20220204.parquet").exists());
    // An HTML answer fails the run with a non-zero exit and leaves the lake alone.
    let html = Server::start(vec![Reply::Body("text/html", b"<html></html>".to_vec())]);
    let before = snapshot(&lake);
    let out = ingest_day("2022-02-05", &html.base, &cache, &lake);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("COTAHIST_D05022022.ZIP"), "{}", stderr(&out));
    assert!(snapshot(&lake) == before);
}
