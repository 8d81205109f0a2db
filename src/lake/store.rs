//! A lake URL to an `ObjectStore`: a local folder, or S3 (and S3-compatible servers) with the
//! standard AWS configuration: environment, profiles, SSO and the rest of the credential
//! chain, as the AWS CLI resolves them, and `AWS_ENDPOINT_URL` for another endpoint.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use bytes::Bytes;
use datafusion::prelude::SessionContext;
use futures::{StreamExt, TryStreamExt};
use object_store::CredentialProvider;
use object_store::aws::{AmazonS3Builder, AwsCredential};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use url::Url;

use super::Error;
use crate::retry::RetryConfig;

/// A lake: an object store and the root of the lake inside it.
#[derive(Clone)]
pub struct Lake {
    url: Url,
    store: Arc<dyn ObjectStore>,
    root: Path,
    local_root: Option<PathBuf>,
}

impl fmt::Debug for Lake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lake").field("url", &self.url.as_str()).finish()
    }
}

impl fmt::Display for Lake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.local_root {
            Some(dir) => write!(f, "{}", dir.display()),
            None => f.write_str(self.url.as_str().trim_end_matches('/')),
        }
    }
}

impl Lake {
    /// Opens `location`: `s3://bucket[/prefix]`, `file:///dir`, or a local folder (created if
    /// missing).
    pub async fn open(location: &str) -> Result<Self, Error> {
        let err = |message: String| Error::Location { url: location.to_string(), message };
        if let Some(rest) = location.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(err("no bucket name".into()));
            }
            let store = s3_store(bucket).await.map_err(|e| err(e.to_string()))?;
            let url = Url::parse(&format!("s3://{bucket}/{}", with_slash(prefix))).map_err(|e| err(e.to_string()))?;
            return Ok(Lake { url, store: Arc::new(store), root: Path::from(prefix), local_root: None });
        }
        let dir = match location.strip_prefix("file://") {
            Some(path) => PathBuf::from(path),
            None if location.contains("://") => return Err(err("only local folders and s3:// are supported".into())),
            None => PathBuf::from(location),
        };
        // The file system's calls block: off the async worker.
        let made = tokio::task::spawn_blocking(move || std::fs::create_dir_all(&dir).and_then(|()| dir.canonicalize()));
        let dir = made.await.map_err(|e| err(e.to_string()))?.map_err(|e| err(e.to_string()))?;
        let url = Url::from_directory_path(&dir).map_err(|_| err("not an absolute path".into()))?;
        let root = Path::from_filesystem_path(&dir).map_err(|e| err(e.to_string()))?;
        Ok(Lake { url, store: Arc::new(super::local::LocalStore::default()), root, local_root: Some(dir) })
    }

    /// The object store the lake lives in.
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// The lake's URL, ending in `/`.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The local folder, for a lake on local disk.
    pub fn local_root(&self) -> Option<&std::path::Path> {
        self.local_root.as_deref()
    }

    /// A path relative to the lake root, as the store names it. `relative` comes from
    /// [`super::layout`], whose partition values are already escaped: it is taken as it is,
    /// not escaped a second time.
    pub fn path(&self, relative: &str) -> Path {
        let relative = relative.trim_matches('/');
        let joined = match (self.root.as_ref(), relative) {
            ("", rel) => rel.to_string(),
            (root, "") => root.to_string(),
            (root, rel) => format!("{root}/{rel}"),
        };
        Path::parse(&joined).unwrap_or_else(|_| Path::from_iter(joined.split('/').filter(|p| !p.is_empty())))
    }

    /// A path of the store as a path relative to the lake root.
    pub fn relative<'a>(&self, path: &'a Path) -> &'a str {
        let root = self.root.as_ref();
        let full = path.as_ref();
        if root.is_empty() { full } else { full.strip_prefix(root).map_or(full, |r| r.trim_start_matches('/')) }
    }

    /// The URL of a file inside the lake, as DataFusion takes it.
    pub fn file_url(&self, relative: &str) -> String {
        format!("{}{}", self.url, relative.trim_matches('/'))
    }

    /// The URL DataFusion knows the lake's store by (`file://`, `s3://bucket`).
    pub fn object_store_url(&self) -> datafusion::execution::object_store::ObjectStoreUrl {
        let url = match self.local_root {
            Some(_) => "file://".to_string(),
            None => format!("{}://{}", self.url.scheme(), self.url.host_str().unwrap_or_default()),
        };
        datafusion::execution::object_store::ObjectStoreUrl::parse(url).expect("a scheme and a host make a URL")
    }

    /// Whether an object exists.
    pub async fn exists(&self, path: &Path) -> Result<bool, Error> {
        match self.store.head(path).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(source) => Err(store_error(path, source)),
        }
    }

    /// An object's bytes, or `None` when there is no such object.
    pub async fn read(&self, path: &Path) -> Result<Option<Bytes>, Error> {
        let got = match self.store.get(path).await {
            Ok(got) => got.bytes().await,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => Err(e),
        };
        got.map(Some).map_err(|source| store_error(path, source))
    }

    /// Writes an object with one PUT: atomic on every store.
    pub async fn write(&self, path: &Path, body: impl Into<PutPayload>) -> Result<(), Error> {
        self.store.put(path, body.into()).await.map_err(|source| store_error(path, source))?;
        Ok(())
    }

    /// Replaces a small object by `change` of its current content (`None`: no object), as one
    /// compare-and-swap, so that writers updating it at once each add their change: on S3 a
    /// conditional PUT (`If-Match` on the ETag read, `If-None-Match: *` for a new object),
    /// tried again on the content that won; on local disk under an `flock` of a companion
    /// `.lock` file.
    pub async fn update(&self, path: &Path, change: impl Fn(Option<Bytes>) -> Vec<u8>) -> Result<(), Error> {
        if let Some(root) = &self.local_root {
            let lock = root.join(format!("{}.lock", self.relative(path)));
            let file = tokio::task::spawn_blocking(move || {
                if let Some(parent) = lock.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock)?;
                file.lock()?;
                Ok::<_, std::io::Error>(file)
            })
            .await
            .map_err(|e| Error::Io { path: path.to_string(), source: std::io::Error::other(e.to_string()) })?
            .map_err(|source| Error::Io { path: path.to_string(), source })?;
            let body = change(self.read(path).await?);
            self.write(path, body).await?;
            drop(file);
            return Ok(());
        }
        loop {
            let (current, mode) = match self.store.get(path).await {
                Ok(got) => {
                    let version = object_store::UpdateVersion { e_tag: got.meta.e_tag.clone(), version: None };
                    let bytes = got.bytes().await.map_err(|source| store_error(path, source))?;
                    (Some(bytes), PutMode::Update(version))
                }
                Err(object_store::Error::NotFound { .. }) => (None, PutMode::Create),
                Err(source) => return Err(store_error(path, source)),
            };
            let body = change(current);
            match self.store.put_opts(path, body.into(), PutOptions::from(mode)).await {
                Ok(_) => return Ok(()),
                Err(
                    object_store::Error::Precondition { .. }
                    | object_store::Error::AlreadyExists { .. }
                    | object_store::Error::NotFound { .. },
                ) => continue,
                Err(source) => return Err(store_error(path, source)),
            }
        }
    }

    /// Deletes an object; one already gone is not an error.
    pub async fn remove(&self, path: &Path) -> Result<(), Error> {
        match self.store.delete(path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(source) => Err(store_error(path, source)),
        }
    }

    /// Deletes objects, as few requests as the store allows (S3 deletes a thousand at once);
    /// ones already gone are not an error.
    pub async fn remove_all(&self, paths: Vec<Path>) -> Result<(), Error> {
        if paths.is_empty() {
            return Ok(());
        }
        let mut deleted = self.store.delete_stream(futures::stream::iter(paths.into_iter().map(Ok)).boxed());
        while let Some(result) = deleted.next().await {
            match result {
                Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
                Err(source) => return Err(store_error(&Path::from(""), source)),
            }
        }
        Ok(())
    }

    /// Every object under a folder (none for a missing folder).
    pub async fn list_all(&self, folder: &Path) -> Result<Vec<Path>, Error> {
        match self.store.list(Some(folder)).map_ok(|meta| meta.location).try_collect().await {
            Ok(paths) => Ok(paths),
            Err(object_store::Error::NotFound { .. }) => Ok(vec![]),
            Err(source) => Err(store_error(folder, source)),
        }
    }

    /// Makes the lake's store known to a DataFusion session.
    pub fn register(&self, ctx: &SessionContext) {
        if self.local_root.is_none() {
            let mut base = self.url.clone();
            base.set_path("/");
            ctx.register_object_store(&base, self.store.clone());
        }
    }
}

fn store_error(path: &Path, source: object_store::Error) -> Error {
    Error::Store { path: path.to_string(), source }
}

fn with_slash(s: &str) -> String {
    let s = s.trim_matches('/');
    if s.is_empty() { String::new() } else { format!("{s}/") }
}

/// S3 with object_store's settings from the environment (`AWS_ENDPOINT_URL`,
/// `AWS_ALLOW_HTTP`, ...) and region and credentials resolved by the AWS SDK's chain.
async fn s3_store(bucket: &str) -> Result<object_store::aws::AmazonS3, object_store::Error> {
    let config = aws_config::load_from_env().await;
    // b3lake's one retry policy, as for every other remote call.
    let mut builder =
        AmazonS3Builder::from_env().with_bucket_name(bucket).with_retry(RetryConfig::default().for_object_store());
    if let Some(region) = config.region() {
        builder = builder.with_region(region.as_ref());
    }
    if let Some(provider) = config.credentials_provider() {
        let credentials = SdkCredentials::new(provider);
        // Fail before any work when there are no credentials; this also warms the cache.
        credentials.get_credential().await?;
        builder = builder.with_credentials(Arc::new(credentials));
    }
    builder.build()
}

/// The AWS SDK's credential chain as an object_store credential provider, refreshed a few
/// minutes before the credentials expire.
#[derive(Debug)]
struct SdkCredentials {
    provider: SharedCredentialsProvider,
    cached: tokio::sync::Mutex<Option<(Arc<AwsCredential>, Option<SystemTime>)>>,
}

impl SdkCredentials {
    fn new(provider: SharedCredentialsProvider) -> Self {
        Self { provider, cached: tokio::sync::Mutex::new(None) }
    }
}

#[async_trait::async_trait]
impl object_store::CredentialProvider for SdkCredentials {
    type Credential = AwsCredential;

    async fn get_credential(&self) -> object_store::Result<Arc<AwsCredential>> {
        let mut cached = self.cached.lock().await;
        let margin = std::time::Duration::from_secs(300);
        if let Some((credential, expiry)) = cached.as_ref() {
            let fresh = expiry.is_none_or(|e| SystemTime::now() + margin < e);
            if fresh {
                return Ok(credential.clone());
            }
        }
        let creds = self.provider.provide_credentials().await.map_err(|e| object_store::Error::Generic {
            store: "S3",
            source: format!("AWS credentials: {}", crate::chain::chain(&e)).into(),
        })?;
        let credential = Arc::new(AwsCredential {
            key_id: creds.access_key_id().to_string(),
            secret_key: creds.secret_access_key().to_string(),
            token: creds.session_token().map(str::to_string),
        });
        *cached = Some((credential.clone(), creds.expiry()));
        Ok(credential)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::Credentials;

    #[tokio::test]
    async fn sdk_credentials_reach_object_store_and_are_cached() {
        let creds = Credentials::new("AKID", "SECRET", Some("TOKEN".into()), None, "profile");
        let adapter = SdkCredentials::new(SharedCredentialsProvider::new(creds));
        let got = adapter.get_credential().await.unwrap();
        assert_eq!(
            (got.key_id.as_str(), got.secret_key.as_str(), got.token.as_deref()),
            ("AKID", "SECRET", Some("TOKEN"))
        );
        assert!(Arc::ptr_eq(&got, &adapter.get_credential().await.unwrap()), "no expiry: served from the cache");
    }

    #[tokio::test]
    async fn credentials_about_to_expire_are_refreshed() {
        let soon = SystemTime::now() + std::time::Duration::from_secs(60);
        let creds = Credentials::new("AKID", "SECRET", None, Some(soon), "sts");
        let adapter = SdkCredentials::new(SharedCredentialsProvider::new(creds));
        let first = adapter.get_credential().await.unwrap();
        assert!(!Arc::ptr_eq(&first, &adapter.get_credential().await.unwrap()));
    }

    #[tokio::test]
    async fn lake_urls() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::open(dir.path().join("new").to_str().unwrap()).await.unwrap();
        assert!(dir.path().join("new").is_dir());
        assert!(lake.file_url("raw/x").starts_with("file:///") && lake.file_url("raw/x").ends_with("/new/raw/x"));
        assert!(Lake::open("gs://bucket").await.unwrap_err().to_string().contains("only local folders and s3://"));
        assert!(Lake::open("s3://").await.is_err());
    }
}
