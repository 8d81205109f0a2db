//! Shared helpers: test data, lakes in temporary folders, queries, the CLI.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use arrow::array::RecordBatch;
use b3lake::ingest::{IngestOptions, IngestReport, ingest};
use b3lake::lake::Lake;
use b3lake::source;

pub const DAY_2022: &str = "COTAHIST_D04022022.TXT";
pub const YEAR_2016: &str = "COTAHIST_A2016.TXT";
pub const DEMO_2003: &str = "DemoCotacoesHistoricas12022003.txt";

pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

pub fn lines(name: &str) -> Vec<Vec<u8>> {
    std::fs::read(data(name)).unwrap().split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(<[u8]>::to_vec).collect()
}

/// Writes lines with CRLF.
pub fn write_lines(path: &Path, lines: &[Vec<u8>]) {
    let mut out = Vec::new();
    for l in lines {
        out.extend_from_slice(l.strip_suffix(b"\r").unwrap_or(l));
        out.extend_from_slice(b"\r\n");
    }
    std::fs::write(path, out).unwrap();
}

/// A small COTAHIST file: three days (2024-03-04 .. 06) of `n` spot-market records of the real
/// 2022-02-04 session, starting at its `skip`th such record (so two files can differ).
pub fn small_days(path: &Path, skip: usize, n: usize) -> PathBuf {
    let lines = lines(DAY_2022);
    let spot: Vec<&Vec<u8>> = lines.iter().filter(|l| l.starts_with(b"01") && &l[24..27] == b"010").collect();
    let mut out = vec![lines[0].clone()];
    for day in [b"20240304", b"20240305", b"20240306"] {
        for record in spot.iter().skip(skip).take(n) {
            let mut record = (*record).clone();
            record[2..10].copy_from_slice(day);
            out.push(record);
        }
    }
    let mut trailer = lines.last().unwrap().clone();
    trailer[31..42].copy_from_slice(format!("{:011}", out.len() + 1).as_bytes());
    out.push(trailer);
    write_lines(path, &out);
    path.to_path_buf()
}

pub async fn ingest_paths(lake: &Lake, paths: &[PathBuf]) -> b3lake::Result<IngestReport> {
    let inputs = source::resolve(paths)?;
    Ok(ingest(lake, &inputs, &IngestOptions::default()).await?)
}

pub async fn query(lake: &Lake, sql: &str) -> Vec<RecordBatch> {
    let ctx = b3lake::sql::session(lake).await.unwrap();
    ctx.plan(sql).await.unwrap().collect().await.unwrap()
}

pub async fn query_one_i64(lake: &Lake, sql: &str) -> i64 {
    let batches = query(lake, sql).await;
    // Any integer type (Trino's `integer` arithmetic of partition keys and literals stays one).
    let col = arrow::compute::cast(batches[0].column(0), &arrow::datatypes::DataType::Int64).unwrap();
    arrow::array::cast::as_primitive_array::<arrow::datatypes::Int64Type>(&col).value(0)
}

/// Every file under a folder with its bytes: equal snapshots mean an untouched lake.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.insert(p.strip_prefix(dir).unwrap().join(""), Vec::new());
                stack.push(p);
            } else {
                out.insert(p.strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

pub fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_b3lake")).args(args).output().expect("run b3lake")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// Rows as text in result order, cells `|`-separated (NULL is empty).
pub fn strings(batches: &[RecordBatch]) -> Vec<String> {
    let mut out = Vec::new();
    for b in batches {
        for i in 0..b.num_rows() {
            let cells: Vec<String> =
                b.columns().iter().map(|c| arrow::util::display::array_value_to_string(c, i).unwrap()).collect();
            out.push(cells.join("|"));
        }
    }
    out
}

/// A ZIP of one member holding the file at `path`, as B3 packs a COTAHIST file.
pub fn zip_file(member: &str, path: &Path) -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file(member, zip::write::SimpleFileOptions::default()).unwrap();
    zip.write_all(&std::fs::read(path).unwrap()).unwrap();
    zip.finish().unwrap().into_inner()
}

/// Creates a fresh bucket on the S3 endpoint the test command started.
pub async fn bucket(name: &str) -> String {
    let endpoint = std::env::var("AWS_ENDPOINT_URL")
        .expect("AWS_ENDPOINT_URL is not set: run the tests with tests/run.sh, which starts moto on 127.0.0.1");
    assert!(endpoint.contains("127.0.0.1") || endpoint.contains("localhost"), "tests only talk to loopback");
    let response = reqwest::Client::new().put(format!("{endpoint}/{name}")).send().await.expect("moto is running");
    assert!(response.status().is_success(), "create bucket: {}", response.status());
    format!("s3://{name}/lake")
}

static DEMO: tokio::sync::OnceCell<tempfile::TempDir> = tokio::sync::OnceCell::const_new();

/// The lake `b3lake demo` builds (the real 2022-02-04 session and a synthetic January 2024),
/// built once for every test that reads it.
pub async fn demo_lake() -> PathBuf {
    let dir = DEMO
        .get_or_init(|| async {
            let dir = tempfile::tempdir().unwrap();
            let month = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
            b3lake::demo::run(dir.path().to_str().unwrap(), month, false).await.expect("the demo runs");
            dir
        })
        .await;
    dir.path().to_path_buf()
}

/// One request the test HTTP server received (its head and body are read by the Lambda tests).
#[derive(Clone)]
#[cfg_attr(not(feature = "lambda"), allow(dead_code))]
pub struct Seen {
    pub path: String,
    pub at: std::time::Instant,
    /// The request line and headers.
    pub head: String,
    pub body: Vec<u8>,
}

/// What the test HTTP server answers to one request.
#[derive(Clone)]
pub enum Reply {
    /// A status with an empty body.
    Status(u16),
    /// 200 with a body of this content type.
    Body(&'static str, Vec<u8>),
    /// Any status with a body of this content type.
    StatusBody(u16, &'static str, Vec<u8>),
    /// Announces the whole length, sends part of it, then closes.
    CutOff(Vec<u8>),
    /// Any status with these extra headers and a JSON body.
    #[cfg_attr(not(feature = "lambda"), allow(dead_code))]
    Headers(u16, Vec<(&'static str, &'static str)>, Vec<u8>),
}

/// A one-thread HTTP/1.1 server on 127.0.0.1: request number `i` (from 0) for `path` gets
/// `answer(i, path)`. Real sockets, so the client's timeouts, lengths and retries are real.
pub struct HttpServer {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// Each request's path, arrival time, head and body.
    seen: std::sync::Arc<std::sync::Mutex<Vec<Seen>>>,
}

impl HttpServer {
    pub fn start(answer: impl Fn(usize, &str) -> Reply + Send + 'static) -> Self {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let requests = seen.clone();
        std::thread::spawn(move || {
            for (i, stream) in listener.incoming().enumerate() {
                let Ok(mut stream) = stream else { return };
                // The head, then as much body as it announces (AWS SDK calls are POSTs).
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                let body_start = loop {
                    if let Some(at) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                        break at + 4;
                    }
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break request.len(),
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                };
                let head = String::from_utf8_lossy(&request[..body_start]).to_string();
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0))
                    })
                    .unwrap_or(0);
                while request.len() < body_start + length {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let path = head.lines().next().unwrap_or_default().split(' ').nth(1).unwrap_or_default().to_string();
                let body = request[body_start.min(request.len())..].to_vec();
                let seen = Seen { path: path.clone(), at: std::time::Instant::now(), head: head.clone(), body };
                requests.lock().unwrap().push(seen);
                let _ = match answer(i, &path) {
                    Reply::Status(code) => {
                        write!(stream, "HTTP/1.1 {code} Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    }
                    Reply::Body(content_type, body) => write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .and_then(|_| stream.write_all(&body)),
                    Reply::StatusBody(code, content_type, body) => write!(
                        stream,
                        "HTTP/1.1 {code} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .and_then(|_| stream.write_all(&body)),
                    Reply::Headers(code, headers, body) => {
                        let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
                        write!(
                            stream,
                            "HTTP/1.1 {code} X\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .and_then(|_| stream.write_all(&body))
                    }
                    Reply::CutOff(body) => write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .and_then(|_| stream.write_all(&body[..body.len() / 3])),
                };
                let _ = stream.flush();
            }
        });
        HttpServer { base, seen }
    }

    /// The paths requested so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap().iter().map(|s| s.path.clone()).collect()
    }

    /// The requests so far, whole, in order.
    #[cfg_attr(not(feature = "lambda"), allow(dead_code))]
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// When each request arrived, in order.
    pub fn times(&self) -> Vec<std::time::Instant> {
        self.seen.lock().unwrap().iter().map(|s| s.at).collect()
    }
}

/// Debian's headless Chromium, as the probe of this machine starts it (no network of its own),
/// with a profile folder of its own: the caller adds what it wants of the page.
pub fn chromium(profile: &Path) -> Command {
    let chromium = Path::new("/usr/bin/chromium");
    assert!(chromium.exists(), "Debian's chromium is missing: tests/run.sh installs it");
    let mut command = Command::new(chromium);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()));
    command
}
