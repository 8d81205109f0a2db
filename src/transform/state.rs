//! The transform's state, kept in the lake under `_b3lake/` so that whichever machine runs
//! the job next (a laptop, a Glue worker) carries on where the last run stopped.
//!
//! `bookmarks/transform/<day>.json` (beside the refined table's spec, [`RefinedSpec`]) records,
//! for each trading day, the raw file it was built from and the SQL that built it. A day is out
//! of date when its raw file or its index portfolios changed (re-ingested), the SQL or the
//! filter changed, or it was never done. Each finished day is recorded at once, so a run that
//! fails or is killed resumes with the days it had not finished. A day's bookmark is its own
//! object, written by the writer that holds the day: writers of other days never meet. (A
//! lake written before keeps `bookmarks/transform.json`, read under the days' own files.)

use std::collections::BTreeMap;

use chrono::NaiveDate;
use object_store::ObjectMeta;
use serde::{Deserialize, Serialize};

use super::Error;
pub use crate::catalog::refined::{DEFAULT_FILTER, RefinedSpec};
use crate::lake::Lake;
use crate::lake::layout::META;

/// The bookmarks of lakes written before each day had its own.
const LEGACY_FILE: &str = "bookmarks/transform.json";
const BOOKMARKS_FOLDER: &str = "bookmarks/transform";

fn day_file(date: NaiveDate) -> String {
    format!("{BOOKMARKS_FOLDER}/{date}.json")
}

/// The raw file a day was built from, as the store describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawVersion {
    /// Bytes.
    pub size: u64,
    /// When the store last wrote it.
    pub last_modified: chrono::DateTime<chrono::Utc>,
    /// The store's entity tag, when it gives one (S3 does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e_tag: Option<String>,
}

impl From<&ObjectMeta> for RawVersion {
    fn from(meta: &ObjectMeta) -> Self {
        Self { size: meta.size, last_modified: meta.last_modified, e_tag: meta.e_tag.clone() }
    }
}

impl RawVersion {
    /// A file's version as the lake sees it. A local file's "ETag" is its inode, modification
    /// time and size: the inode changes when a lake is copied (`cp -a`, a backup restored)
    /// while the file does not, so on local disk the time and size alone say it.
    pub fn of(meta: &ObjectMeta, local: bool) -> Self {
        let mut version = Self::from(meta);
        if local {
            version.e_tag = None;
        }
        version
    }

    /// Whether two versions name the same file content (ETags compared when both have one).
    fn same(&self, other: &Self) -> bool {
        self.size == other.size
            && self.last_modified == other.last_modified
            && (self.e_tag.is_none() || other.e_tag.is_none() || self.e_tag == other.e_tag)
    }
}

/// One finished day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bookmark {
    /// The day's raw file the day was built from.
    pub raw: RawVersion,
    /// The day's index portfolio files (by name) the day was built with.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub portfolios: BTreeMap<String, RawVersion>,
    /// Hash of the SQL, the filter and the layout that built the day.
    pub fingerprint: String,
    /// Refined rows written.
    pub rows: u64,
    /// Files written.
    pub files: u64,
    /// When the day was done.
    pub finished: chrono::DateTime<chrono::Utc>,
}

/// Every finished day of the transform.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Bookmarks {
    /// Each finished day.
    pub days: BTreeMap<NaiveDate, Bookmark>,
}

impl Bookmarks {
    /// The lake's bookmarks; none for a lake never transformed.
    pub async fn load(lake: &Lake) -> Result<Self, Error> {
        let mut bookmarks: Bookmarks = read_json(lake, LEGACY_FILE).await?.unwrap_or_default();
        let files = lake.list_all(&lake.path(&format!("{META}/{BOOKMARKS_FOLDER}"))).await?;
        let dates: Vec<NaiveDate> =
            files.iter().filter_map(|p| p.filename()?.strip_suffix(".json")?.parse().ok()).collect();
        bookmarks.days.extend(Self::read_days(lake, &dates).await?.days);
        Ok(bookmarks)
    }

    /// The bookmarks of these days only.
    pub async fn load_days(lake: &Lake, dates: &[NaiveDate]) -> Result<Self, Error> {
        let mut bookmarks = Self::read_days(lake, dates).await?;
        let missing = dates.iter().any(|d| !bookmarks.days.contains_key(d));
        if missing && let Some(legacy) = read_json::<Bookmarks>(lake, LEGACY_FILE).await? {
            for (date, b) in legacy.days.into_iter().filter(|(d, _)| dates.contains(d)) {
                bookmarks.days.entry(date).or_insert(b);
            }
        }
        Ok(bookmarks)
    }

    async fn read_days(lake: &Lake, dates: &[NaiveDate]) -> Result<Self, Error> {
        use futures::{StreamExt, TryStreamExt};
        let days: Vec<Option<(NaiveDate, Bookmark)>> = futures::stream::iter(dates.iter().copied())
            .map(|date| async move { Ok::<_, Error>(read_json(lake, &day_file(date)).await?.map(|b| (date, b))) })
            .buffer_unordered(32)
            .try_collect()
            .await?;
        Ok(Self { days: days.into_iter().flatten().collect() })
    }

    /// Records a finished day (the caller holds the day).
    pub async fn save_day(lake: &Lake, date: NaiveDate, bookmark: &Bookmark) -> Result<(), Error> {
        write_json(lake, &day_file(date), bookmark).await
    }

    /// Forgets every day (the caller holds the whole lake): the refined table is rebuilt.
    pub async fn clear(lake: &Lake) -> Result<(), Error> {
        let files = lake.list_all(&lake.path(&format!("{META}/{BOOKMARKS_FOLDER}"))).await?;
        lake.remove_all(files).await?;
        lake.remove(&lake.path(&format!("{META}/{LEGACY_FILE}"))).await?;
        Ok(())
    }

    /// Whether `date`, whose raw file is now `raw` and portfolio files `portfolios`, needs
    /// transforming.
    pub fn is_stale(
        &self,
        date: NaiveDate,
        raw: &RawVersion,
        fingerprint: &str,
        portfolios: &BTreeMap<String, RawVersion>,
    ) -> bool {
        let same_portfolios = |b: &Bookmark| {
            b.portfolios.len() == portfolios.len()
                && b.portfolios.iter().zip(portfolios).all(|((n1, v1), (n2, v2))| n1 == n2 && v1.same(v2))
        };
        self.days.get(&date).is_none_or(|b| !b.raw.same(raw) || b.fingerprint != fingerprint || !same_portfolios(b))
    }
}

async fn read_json<T: serde::de::DeserializeOwned>(lake: &Lake, name: &str) -> Result<Option<T>, Error> {
    let path = lake.path(&format!("{META}/{name}"));
    let Some(bytes) = lake.read(&path).await? else { return Ok(None) };
    serde_json::from_slice(&bytes).map(Some).map_err(|e| Error::State(format!("{path}: {e}")))
}

/// One PUT: atomic on every store, so a crash leaves the old state or the new.
async fn write_json<T: Serialize>(lake: &Lake, name: &str, value: &T) -> Result<(), Error> {
    let path = lake.path(&format!("{META}/{name}"));
    let json = serde_json::to_vec_pretty(value).map_err(|e| Error::State(format!("{path}: {e}")))?;
    Ok(lake.write(&path, json).await?)
}
