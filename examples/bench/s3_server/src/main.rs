//! The S3 server of the writers benchmark: s3s-fs (an S3 API over a local folder that honours
//! `If-None-Match: *` and `If-Match` on PUT) with one change, its listing. s3s-fs lists by
//! walking the whole bucket on every request, one thread hop per file, whatever the prefix (about
//! 100 ms for a bucket of 1,700 files), which would make the server, not S3's latency, the limit
//! of a lake's writers; this listing starts at the deepest folder of the prefix and reads it
//! in one blocking task. Everything else is s3s-fs's.
//!
//! It also stands in for the network between Lambda and S3: each request is answered a round
//! trip later (`--latency-ms 20-40`, drawn per request), and counted by kind (as S3 bills it)
//! and by the lake's folder; the counts are written as JSON to `--counts` when it is stopped
//! (SIGTERM or Ctrl-C). A delay inside the server costs no CPU, where a proxy in front of it
//! would take a core of this machine's two at a few thousand requests a second.
//!
//!     s3-server ROOT PORT ACCESS_KEY SECRET_KEY [--latency-ms MIN-MAX] [--counts FILE] [--prefix P]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use s3s::dto::*;
use s3s::service::S3ServiceBuilder;
use s3s::{S3, S3Request, S3Response, S3Result, s3_error};
use s3s_fs::FileSystem;

struct Server {
    fs: FileSystem,
    root: PathBuf,
}

/// The S3 trait: each listed operation passed on to s3s-fs, then the items given. (One macro
/// for the whole impl, as `async_trait` must see every method expanded.)
macro_rules! delegate {
    ($($op:ident: $input:ty => $output:ty),* $(,)?; $($rest:tt)*) => {
        #[async_trait::async_trait]
        impl S3 for Server {
            $(async fn $op(&self, req: S3Request<$input>) -> S3Result<S3Response<$output>> {
                self.fs.$op(req).await
            })*
            $($rest)*
        }
    };
}

delegate! {
        create_bucket: CreateBucketInput => CreateBucketOutput,
        copy_object: CopyObjectInput => CopyObjectOutput,
        delete_bucket: DeleteBucketInput => DeleteBucketOutput,
        delete_object: DeleteObjectInput => DeleteObjectOutput,
        delete_objects: DeleteObjectsInput => DeleteObjectsOutput,
        get_bucket_location: GetBucketLocationInput => GetBucketLocationOutput,
        get_object: GetObjectInput => GetObjectOutput,
        head_bucket: HeadBucketInput => HeadBucketOutput,
        head_object: HeadObjectInput => HeadObjectOutput,
        list_buckets: ListBucketsInput => ListBucketsOutput,
        put_object: PutObjectInput => PutObjectOutput,
        create_multipart_upload: CreateMultipartUploadInput => CreateMultipartUploadOutput,
        upload_part: UploadPartInput => UploadPartOutput,
        upload_part_copy: UploadPartCopyInput => UploadPartCopyOutput,
        list_parts: ListPartsInput => ListPartsOutput,
        complete_multipart_upload: CompleteMultipartUploadInput => CompleteMultipartUploadOutput,
        abort_multipart_upload: AbortMultipartUploadInput => AbortMultipartUploadOutput;

    async fn list_objects_v2(&self, req: S3Request<ListObjectsV2Input>) -> S3Result<S3Response<ListObjectsV2Output>> {
        let input = req.input;
        let bucket = self.root.join(&input.bucket);
        let prefix = input.prefix.clone().unwrap_or_default();
        let delimiter = input.delimiter.clone();
        let found = tokio::task::spawn_blocking(move || walk(&bucket, &prefix, delimiter.as_deref()))
            .await
            .map_err(|e| s3_error!(InternalError, "{e}"))?
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => s3_error!(NoSuchBucket),
                _ => s3_error!(InternalError, "{e}"),
            })?;
        // Keys and common prefixes in one order, resumed after the token, at most max_keys.
        let after = input.continuation_token.clone().or_else(|| input.start_after.clone()).unwrap_or_default();
        let max = usize::try_from(input.max_keys.unwrap_or(1000)).unwrap_or(1000);
        let mut page: Vec<Entry> = found.into_iter().filter(|e| e.key() > after.as_str()).collect();
        let truncated = page.len() > max;
        page.truncate(max);
        let next = truncated.then(|| page.last().map(|e| e.key().to_owned())).flatten();
        let (mut contents, mut prefixes) = (Vec::new(), Vec::new());
        for entry in page {
            match entry {
                Entry::Object { key, size, modified } => contents.push(Object {
                    key: Some(key),
                    size: Some(size),
                    last_modified: Some(Timestamp::from(modified)),
                    ..Default::default()
                }),
                Entry::Prefix(prefix) => prefixes.push(CommonPrefix { prefix: Some(prefix) }),
            }
        }
        let output = ListObjectsV2Output {
            key_count: Some(i32::try_from(contents.len() + prefixes.len()).unwrap_or(i32::MAX)),
            max_keys: input.max_keys,
            is_truncated: Some(truncated),
            contents: (!contents.is_empty()).then_some(contents),
            common_prefixes: (!prefixes.is_empty()).then_some(prefixes),
            continuation_token: input.continuation_token,
            next_continuation_token: next,
            delimiter: input.delimiter,
            encoding_type: input.encoding_type,
            name: Some(input.bucket),
            prefix: input.prefix,
            start_after: input.start_after,
            ..Default::default()
        };
        Ok(S3Response::new(output))
    }
}

enum Entry {
    Object { key: String, size: i64, modified: SystemTime },
    Prefix(String),
}

impl Entry {
    fn key(&self) -> &str {
        match self {
            Entry::Object { key, .. } | Entry::Prefix(key) => key,
        }
    }
}

/// The keys under `prefix`, sorted, with everything past a delimiter after the prefix rolled
/// into one common prefix. The walk starts at the prefix's deepest folder.
fn walk(bucket: &Path, prefix: &str, delimiter: Option<&str>) -> std::io::Result<Vec<Entry>> {
    std::fs::metadata(bucket)?;
    let start = &prefix[..prefix.rfind('/').map_or(0, |i| i + 1)];
    let mut found = Vec::new();
    let mut folders = vec![start.to_owned()];
    while let Some(folder) = folders.pop() {
        let entries = match std::fs::read_dir(bucket.join(&folder)) {
            Ok(entries) => entries,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory) => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            // An object deleted while the folder is read is not listed.
            let Some(entry) = gone_is_none(entry)? else { continue };
            let Ok(name) = entry.file_name().into_string() else { continue };
            let key = format!("{folder}{name}");
            let Some(kind) = gone_is_none(entry.file_type())? else { continue };
            if kind.is_dir() {
                let below = format!("{key}/");
                if below.starts_with(prefix) || prefix.starts_with(&below) {
                    folders.push(below);
                }
            } else if key.starts_with(prefix) {
                let Some(meta) = gone_is_none(entry.metadata())? else { continue };
                found.push(Entry::Object {
                    key,
                    size: i64::try_from(meta.len()).unwrap_or(i64::MAX),
                    modified: meta.modified()?,
                });
            }
        }
    }
    found.sort_by(|a, b| a.key().cmp(b.key()));
    let Some(delimiter) = delimiter.filter(|d| !d.is_empty()) else { return Ok(found) };
    let mut rolled: Vec<Entry> = Vec::new();
    for entry in found {
        let rest = &entry.key()[prefix.len()..];
        match rest.find(delimiter) {
            Some(i) => {
                let common = format!("{prefix}{}", &rest[..i + delimiter.len()]);
                if rolled.last().map(Entry::key) != Some(common.as_str()) {
                    rolled.push(Entry::Prefix(common));
                }
            }
            None => rolled.push(entry),
        }
    }
    Ok(rolled)
}

fn gone_is_none<T>(result: std::io::Result<T>) -> std::io::Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// What the server is told at start.
struct Options {
    root: PathBuf,
    port: u16,
    access_key: String,
    secret_key: String,
    /// Each request's round trip, drawn between these (milliseconds).
    latency: (u64, u64),
    /// Where the counts go when the server is stopped.
    counts: Option<PathBuf>,
    /// Left out of each key before its folder is counted (the lake's prefix in its bucket).
    prefix: String,
}

impl Options {
    fn parse() -> Result<Options, String> {
        let usage =
            "usage: s3-server ROOT PORT ACCESS_KEY SECRET_KEY [--latency-ms MIN-MAX] [--counts FILE] [--prefix P]";
        let args: Vec<String> = std::env::args().skip(1).collect();
        let [root, port, access_key, secret_key, rest @ ..] = args.as_slice() else { return Err(usage.to_owned()) };
        let mut options = Options {
            root: PathBuf::from(root),
            port: port.parse().map_err(|e| format!("PORT: {e}"))?,
            access_key: access_key.clone(),
            secret_key: secret_key.clone(),
            latency: (0, 0),
            counts: None,
            prefix: String::new(),
        };
        for pair in rest.chunks(2) {
            match pair {
                [flag, value] if flag == "--latency-ms" => {
                    let (low, high) = value.split_once('-').unwrap_or((value, value));
                    let ms = |v: &str| v.parse::<u64>().map_err(|e| format!("--latency-ms: {e}"));
                    options.latency = (ms(low)?, ms(high)?);
                    if options.latency.0 > options.latency.1 {
                        return Err(format!("--latency-ms {value}: the least first"));
                    }
                }
                [flag, value] if flag == "--counts" => options.counts = Some(PathBuf::from(value)),
                [flag, value] if flag == "--prefix" => options.prefix = value.clone(),
                _ => return Err(usage.to_owned()),
            }
        }
        Ok(options)
    }
}

/// The request's kind as S3 bills it, and the lake folder it touches.
fn kind(req: &hyper::Request<hyper::body::Incoming>, prefix: &str) -> (&'static str, String) {
    let query = req.uri().query().unwrap_or("");
    let has = |name: &str| query.split('&').any(|p| p == name || p.starts_with(&format!("{name}=")));
    let method = req.method().as_str();
    let op = match method {
        "GET" if has("list-type") => "LIST",
        "GET" => "GET",
        "HEAD" => "HEAD",
        "PUT" if req.headers().contains_key("x-amz-copy-source") => "COPY",
        "PUT" => "PUT",
        "POST" if has("delete") => "DELETE (batch)",
        "POST" => "POST",
        "DELETE" => "DELETE",
        _ => "other",
    };
    let path = req.uri().path().trim_start_matches('/');
    let key = match op {
        "LIST" => query
            .split('&')
            .find_map(|p| p.strip_prefix("prefix="))
            .unwrap_or("")
            .replace("%2F", "/")
            .replace("%2f", "/"),
        _ => path.split_once('/').map_or("", |(_, key)| key).to_owned(),
    };
    let key = key.strip_prefix(prefix).unwrap_or(&key);
    let mut parts = key.split('/');
    let first = parts.next().unwrap_or("");
    let folder = match parts.next() {
        Some(second) if first.starts_with('_') && parts.next().is_some() => format!("{first}/{second}"),
        _ => first.to_owned(),
    };
    (op, folder)
}

/// A number in 0..n from a shared xorshift state: the delays need spread, not quality.
fn draw(state: &AtomicU64, n: u64) -> u64 {
    let mut x = state.load(Ordering::Relaxed);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    state.store(x, Ordering::Relaxed);
    if n == 0 { 0 } else { x % n }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let options = Options::parse()?;
    let root = std::fs::canonicalize(&options.root)?;
    let fs = FileSystem::new(&root).map_err(|e| format!("{e:?}"))?;
    let mut builder = S3ServiceBuilder::new(Server { fs, root });
    builder.set_auth(s3s::auth::SimpleAuth::from_single(options.access_key.as_str(), options.secret_key.as_str()));
    let service = builder.build();
    let counts: Arc<Mutex<BTreeMap<String, u64>>> = Arc::default();
    let seed = Arc::new(AtomicU64::new(0x9E37_79B9_7F4A_7C15));
    let (low, high) = options.latency;
    let prefix: Arc<str> = options.prefix.into();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port)).await?;
    let http = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
    let mut stop = std::pin::pin!(tokio::signal::ctrl_c());
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        let socket = tokio::select! {
            accepted = listener.accept() => accepted?.0,
            _ = stop.as_mut() => break,
            _ = term.recv() => break,
        };
        let (service, counts, seed, prefix) = (service.clone(), counts.clone(), seed.clone(), prefix.clone());
        // Half the round trip before the request reaches S3, half after its answer leaves it.
        let handler = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
            let (service, counts) = (service.clone(), counts.clone());
            let (op, folder) = kind(&req, &prefix);
            let trip = low + draw(&seed, high - low + 1);
            async move {
                {
                    let mut counts = counts.lock().unwrap();
                    *counts.entry(op.to_owned()).or_default() += 1;
                    *counts.entry(format!("{op} {folder}")).or_default() += 1;
                }
                tokio::time::sleep(Duration::from_millis(trip / 2)).await;
                let answer = hyper::service::Service::call(&service, req).await;
                tokio::time::sleep(Duration::from_millis(trip - trip / 2)).await;
                answer
            }
        });
        let conn = http.serve_connection(hyper_util::rt::TokioIo::new(socket), handler).into_owned();
        tokio::spawn(async move {
            let _ = conn.await;
        });
    }
    if let Some(path) = options.counts {
        let counts = counts.lock().unwrap();
        let lines: Vec<String> = counts.iter().map(|(k, v)| format!("  \"{k}\": {v}")).collect();
        std::fs::write(path, format!("{{\n{}\n}}\n", lines.join(",\n")))?;
    }
    Ok(())
}
