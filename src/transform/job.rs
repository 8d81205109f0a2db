//! The transform job: raw trading days through the SQL of `queries/transform/` into the
//! refined table and the daily summary.
//!
//! Each day is independent: its raw file is read alone (no listing), the steps run as one
//! DataFusion plan, and the output replaces the day's previous output as a unit (see
//! [`super::output`]). Days run in parallel, and every finished day is bookmarked at once.
//! A day with index portfolios (`raw_ibov`) also gets its index members' quotes; a day is
//! done again when its portfolios change, as when its raw file does.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use arrow::datatypes::{Schema, SchemaRef};
use chrono::NaiveDate;
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};
use futures::{StreamExt, TryStreamExt};
use object_store::{ObjectMeta, ObjectStoreExt};
use sha2::{Digest, Sha256};
use tracing::{info, warn};

use super::Error;
use super::output::{self, Layout, Written};
use super::queries::{INDEX_VIEW, PORTFOLIO_VIEW, Queries, REFINED_VIEW, SUMMARY_VIEW, Schemas, register_input};
use super::state::{Bookmark, Bookmarks, RawVersion, RefinedSpec};
use crate::catalog::partition::day_values;
use crate::catalog::{Catalog, INDEX_MEMBERS, LocalCatalog, PORTFOLIO, RAW, REFINED, SUMMARY, TableDef, ddl};
use crate::lake::layout::{self, PORTFOLIO_TABLE, RAW_TABLE, REFINED_TABLE};
use crate::lake::{self, Lake, Scope, Writer};
use crate::source::cotahist::raw_schema;
use crate::source::portfolio::portfolio_schema;

/// Which trading days to transform.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Days {
    /// Days whose raw file is new or changed since they were last transformed.
    #[default]
    Incremental,
    /// These days (each must be in the raw table), done again even if up to date.
    Only(Vec<NaiveDate>),
    /// Those of these days that are in the raw table and changed since they were last
    /// transformed (what an S3 event names: delivered twice, it does nothing twice).
    Changed(Vec<NaiveDate>),
    /// Every raw day from the first to the second date, both included.
    Range(NaiveDate, NaiveDate),
    /// Every raw day.
    All,
}

/// How a transform runs.
#[derive(Debug, Clone)]
pub struct TransformOptions {
    /// The days to transform.
    pub days: Days,
    /// The refined layout; `None` keeps the lake's (or the default for a new lake).
    pub layout: Option<Layout>,
    /// SQL predicate choosing raw records; `None` keeps the lake's (default `tipo_mercado = 10`).
    pub filter: Option<String>,
    /// The SQL of the steps: the built-in files, or a folder of them.
    pub queries: Queries,
    /// Days transformed at once.
    pub parallelism: usize,
    /// Show a progress bar (on a terminal).
    pub progress: bool,
    /// Sync the days written to this Glue database.
    pub sync_glue: Option<String>,
}

impl Default for TransformOptions {
    fn default() -> Self {
        Self {
            days: Days::Incremental,
            layout: None,
            filter: None,
            queries: Queries::embedded(),
            parallelism: std::thread::available_parallelism().map_or(2, |n| n.get()),
            progress: false,
            sync_glue: None,
        }
    }
}

/// What a transform did.
#[derive(Debug, Clone, Default)]
pub struct TransformReport {
    /// Days transformed, in order.
    pub days: Vec<NaiveDate>,
    /// Raw days left alone because their output is up to date.
    pub up_to_date: usize,
    /// The refined layout written.
    pub layout: Layout,
    /// Refined rows written.
    pub rows: u64,
    /// Files written (refined and summary).
    pub files: u64,
    /// Bytes written.
    pub bytes: u64,
    /// Wall time.
    pub elapsed: Duration,
}

impl std::fmt::Display for TransformReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let span = crate::ingest::day_span(&self.days);
        write!(
            f,
            "{} trading days transformed{span}, {} up to date; {} refined rows in {} files ({} layout), {:.1} MB, in {:.2} s",
            self.days.len(),
            self.up_to_date,
            self.rows,
            self.files,
            self.layout,
            self.bytes as f64 / 1e6,
            self.elapsed.as_secs_f64()
        )
    }
}

/// Runs the transform on `lake`. Days that fail are reported together at the end; the days
/// that succeeded stay done and bookmarked, so the next run retries only the failures.
pub async fn transform(lake: &Lake, opts: &TransformOptions) -> Result<TransformReport, Error> {
    let run = crate::catalog::writes::within(lake, "transform", async |w: &Writer| transform_in(w, opts).await);
    crate::telemetry::measured("transform", run, |r: &TransformReport| {
        use crate::telemetry::Unit::{Bytes, Count};
        vec![
            ("DaysTransformed", Count, r.days.len() as f64),
            ("RowsWritten", Count, r.rows as f64),
            ("BytesWritten", Bytes, r.bytes as f64),
        ]
    })
    .await
}

async fn transform_in(writer: &Writer, opts: &TransformOptions) -> Result<TransformReport, Error> {
    let lake = writer.lake();
    let started = Instant::now();
    let (spec, tables) = reconcile_spec(writer, opts).await?;
    let fingerprints = Fingerprints::new(&opts.queries, &spec);
    let (todo, total) = days_to_do(lake, opts, tables.index.is_some(), &fingerprints).await?;
    let mut report = TransformReport { up_to_date: total - todo.len(), layout: spec.layout, ..Default::default() };
    info!(days = todo.len(), up_to_date = report.up_to_date, layout = %spec.layout, "transforming");

    let run = writer.run().to_string();
    let bar = crate::telemetry::progress_bar(
        opts.progress && !todo.is_empty(),
        todo.len() as u64,
        "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} days {per_sec} {eta}",
    );
    let job = Arc::new(DayJob {
        lake: lake.clone(),
        writer: writer.clone(),
        spec: spec.clone(),
        tables,
        queries: opts.queries.clone(),
        run: run.clone(),
        fingerprints,
        incremental: matches!(opts.days, Days::Incremental | Days::Changed(_)),
    });
    let mut results = futures::stream::iter(todo)
        .map(|day| {
            let job = job.clone();
            tokio::spawn(async move {
                let date = day.date;
                (date, job.run(day).await)
            })
        })
        .buffer_unordered(opts.parallelism.max(1));
    let mut failed: Vec<(NaiveDate, String)> = Vec::new();
    while let Some(joined) = results.next().await {
        let (date, result) = joined.map_err(|e| Error::State(format!("a transform task stopped: {e}")))?;
        bar.inc(1);
        match result {
            Ok(Some((rows, written))) => {
                report.days.push(date);
                report.rows += rows;
                report.files += written.files;
                report.bytes += written.bytes;
            }
            // Done by another writer while this one waited for the day.
            Ok(None) => report.up_to_date += 1,
            Err(e) => {
                warn!(%date, error = %crate::chain::Chain(&e), "day failed");
                failed.push((date, crate::chain::chain(&e)));
            }
        }
    }
    bar.finish_and_clear();
    lake::staging::finish_run(lake, &run).await?;
    report.days.sort();
    report.elapsed = started.elapsed();
    if !failed.is_empty() {
        failed.sort();
        return Err(Error::DaysFailed { failed, done: report.days.len() });
    }
    info!(days = report.days.len(), rows = report.rows, files = report.files, "transformed");
    if let Some(database) = &opts.sync_glue {
        let tables: &[&str] =
            if job.tables.index.is_some() { &[REFINED, SUMMARY, INDEX_MEMBERS] } else { &[REFINED, SUMMARY] };
        let plan = crate::catalog::sync::glue_days(lake, database, tables, &report.days).await?;
        info!(database = %database, changes = plan.changes.len(), "synced the refined partitions with Glue");
    }
    Ok(report)
}

/// What built a day: the SQL, filter and layout, and for days with portfolios the index
/// steps too (the other days keep the fingerprint they had before there were index steps).
struct Fingerprints {
    plain: String,
    with_index: Option<String>,
}

impl Fingerprints {
    fn new(queries: &Queries, spec: &RefinedSpec) -> Self {
        let plain = fingerprint(queries, spec);
        let with_index = queries.index_fingerprint().map(|index| format!("{plain}+{index}"));
        Self { plain, with_index }
    }

    fn of(&self, day: &DayInput) -> String {
        match &self.with_index {
            Some(with_index) if !day.portfolios.is_empty() => with_index.clone(),
            _ => self.plain.clone(),
        }
    }
}

/// The days this run transforms (all the options name, or those whose inputs or build
/// changed since their bookmark), and how many days the options name.
async fn days_to_do(
    lake: &Lake,
    opts: &TransformOptions,
    with_index: bool,
    fingerprints: &Fingerprints,
) -> Result<(Vec<DayInput>, usize), Error> {
    let local = lake.local_root().is_some();
    let raw = raw_days(lake, &opts.days).await?;
    // The bookmarks of the days named only: a writer of a few days of a long history (one
    // invocation of a backfill) reads a few, not one per day ever transformed.
    let bookmarks = match &opts.days {
        Days::Incremental | Days::All => Bookmarks::load(lake).await?,
        Days::Only(_) | Days::Changed(_) | Days::Range(..) => {
            Bookmarks::load_days(lake, &raw.keys().copied().collect::<Vec<_>>()).await?
        }
    };
    let mut portfolios = if with_index { portfolio_files(lake, &opts.days).await? } else { BTreeMap::new() };
    let total = raw.len();
    let todo = raw
        .into_iter()
        .map(|(date, raw)| DayInput {
            date,
            raw,
            portfolios: portfolios.remove(&date).unwrap_or_default(),
            had_index: bookmarks.days.get(&date).is_some_and(|b| !b.portfolios.is_empty()),
        })
        .filter(|day| {
            !matches!(opts.days, Days::Incremental | Days::Changed(_))
                || bookmarks.is_stale(
                    day.date,
                    &RawVersion::of(&day.raw, local),
                    &fingerprints.of(day),
                    &day.portfolio_versions(local),
                )
        })
        .collect();
    Ok((todo, total))
}

/// The lake's refined spec after this run's options, checked and saved if it changed. A
/// layout change rewrites the whole table, so it needs `--all`. Changing the spec or the
/// tables' definitions is the whole lake's business: the run then holds it while it does.
async fn reconcile_spec(writer: &Writer, opts: &TransformOptions) -> Result<(RefinedSpec, Tables), Error> {
    let lake = writer.lake();
    let existing = RefinedSpec::load(lake).await?;
    let base = existing.clone().unwrap_or_default();
    let spec =
        RefinedSpec { layout: opts.layout.unwrap_or(base.layout), filter: opts.filter.clone().unwrap_or(base.filter) };
    // Before anything is saved: a bad filter must not become the lake's.
    let schemas = opts.queries.plan_empty_day(&spec.filter).await?;
    let relayout = existing.as_ref().is_some_and(|e| e.layout != spec.layout);
    if let Some(existing) = existing.as_ref().filter(|_| relayout) {
        if opts.days != Days::All {
            return Err(Error::Usage(format!(
                "the refined table of {lake} is in the {} layout; transform --all --layout {} rewrites it",
                existing.layout, spec.layout
            )));
        }
        info!(from = %existing.layout, to = %spec.layout, "rewriting the refined table in a new layout");
    }
    let (tables, ready) = define_tables(lake, spec.layout, &schemas, false).await?;
    if ready && existing.as_ref() == Some(&spec) {
        return Ok((spec, tables));
    }
    let held = writer.take(&Scope::Lake).await?;
    let result = async {
        // Read again: another writer may have changed it while this one waited.
        let existing = RefinedSpec::load(lake).await?;
        let relayout = existing.as_ref().is_some_and(|e| e.layout != spec.layout);
        if relayout && opts.days != Days::All {
            return Err(Error::Usage(format!(
                "the refined table of {lake} changed layout while this transform waited; transform --all --layout {} rewrites it",
                spec.layout
            )));
        }
        // A layout change, step by step, so that a crash anywhere leaves a lake that reads
        // without error and that the next run, whatever its options, finishes: first the spec
        // (every day's fingerprint now names the new layout, so every day is stale), then the
        // catalog (the table's partition keys, indexed from the files of the new layout: none
        // yet), and only then the old files, which no reader is pointed at any more.
        if existing.as_ref() != Some(&spec) {
            spec.save(lake).await?;
        }
        let (tables, _) = define_tables(lake, spec.layout, &schemas, true).await?;
        if relayout {
            output::remove_table(lake, REFINED_TABLE).await?;
            Bookmarks::clear(lake).await?;
        }
        Ok(tables)
    }
    .await;
    Ok((spec, writer.settle(held, result).await?))
}

/// The catalog's definitions of the tables a run writes.
struct Tables {
    refined: TableDef,
    summary: TableDef,
    /// When the SQL has the index members' steps.
    index: Option<TableDef>,
}

/// Makes the catalog's refined, summary and (when the SQL joins portfolios) index members'
/// tables say what this run writes: the layout's partition keys and the columns of the
/// transform SQL (the built-in SQL gives exactly the built-in definitions, so a default run
/// changes nothing). Then each is indexed, once, before the days run in parallel. Unless
/// `write`, nothing is changed: the definitions come back, and whether the catalog already
/// has them, indexed.
async fn define_tables(lake: &Lake, layout: Layout, schemas: &Schemas, write: bool) -> Result<(Tables, bool), Error> {
    let catalog = LocalCatalog::new(lake);
    let base = ddl::builtin_table;
    let mut refined_def = catalog.table(REFINED).await?.unwrap_or_else(|| base(REFINED));
    refined_def.partition_keys = base(REFINED).partition_keys;
    if layout == Layout::Compact {
        refined_def.partition_keys.retain(|k| k.name != output::SYMBOL);
    }
    let summary_def = catalog.table(SUMMARY).await?.unwrap_or_else(|| base(SUMMARY));
    let mut ready = true;
    let index = match &schemas.index {
        Some(schema) => {
            let def = catalog.table(INDEX_MEMBERS).await?.unwrap_or_else(|| base(INDEX_MEMBERS));
            Some(define_table(&catalog, def, schema, write, &mut ready).await?)
        }
        None => None,
    };
    let tables = Tables {
        refined: define_table(&catalog, refined_def, &schemas.refined, write, &mut ready).await?,
        summary: define_table(&catalog, summary_def, &schemas.summary, write, &mut ready).await?,
        index,
    };
    Ok((tables, ready))
}

/// Puts `def` with the columns of `schema` in the catalog, and indexes the table (with
/// `write`; otherwise clears `ready` if either is to do).
async fn define_table(
    catalog: &LocalCatalog,
    def: TableDef,
    schema: &Schema,
    write: bool,
    ready: &mut bool,
) -> Result<TableDef, Error> {
    let name = def.name.clone();
    let def = def.with_columns(schema).map_err(|e| Error::Queries(format!("table {name}: {e}")))?;
    if !write {
        let indexed = crate::catalog::index::PartitionIndex::new(catalog.lake(), &def).exists().await?;
        *ready &= indexed && catalog.table(&name).await?.as_ref() == Some(&def);
        return Ok(def);
    }
    if catalog.put_table(&def).await? {
        info!(table = %name, "table definition updated in the catalog");
    }
    catalog.ensure_indexed(&def).await?;
    Ok(def)
}

fn fingerprint(queries: &Queries, spec: &RefinedSpec) -> String {
    let mut hash = Sha256::new();
    hash.update(queries.fingerprint());
    hash.update([0]);
    hash.update(&spec.filter);
    hash.update([0]);
    hash.update(spec.layout.as_str());
    hex::encode(&hash.finalize()[..8])
}

/// The trading days of the raw table that `days` names (a backfill's work list).
pub async fn raw_dates(lake: &Lake, days: &Days) -> Result<Vec<NaiveDate>, Error> {
    Ok(raw_days(lake, days).await?.into_keys().collect())
}

/// Raw files of the days asked for, by trading day. Named days are looked up directly;
/// the rest lists the raw table once (a year is ~250 files).
async fn raw_days(lake: &Lake, days: &Days) -> Result<BTreeMap<NaiveDate, ObjectMeta>, Error> {
    let store = lake.store();
    if let Days::Only(dates) | Days::Changed(dates) = days {
        let mut out = BTreeMap::new();
        for &date in dates {
            let path = lake.path(&layout::raw_file(date));
            match store.head(&path).await {
                Ok(meta) => {
                    out.insert(date, meta);
                }
                Err(object_store::Error::NotFound { .. }) if matches!(days, Days::Changed(_)) => {
                    warn!(%date, file = %path, "no raw file for the day (removed since?); nothing to do");
                }
                Err(object_store::Error::NotFound { .. }) => {
                    return Err(Error::Usage(format!("no raw data for {date} ({path}); ingest that day first")));
                }
                Err(source) => return Err(lake::Error::Store { path: path.to_string(), source }.into()),
            }
        }
        return Ok(out);
    }
    let mut out = BTreeMap::new();
    for (date, meta) in list_days(lake, RAW_TABLE, days).await? {
        if lake.relative(&meta.location) == layout::raw_file(date) {
            out.insert(date, meta);
        }
    }
    Ok(out)
}

/// The index portfolio files of the days asked for, by day: each day's partition for named
/// days, else one listing of the (small: one file per index and day) portfolio table.
async fn portfolio_files(lake: &Lake, days: &Days) -> Result<BTreeMap<NaiveDate, Vec<ObjectMeta>>, Error> {
    let prefixes: Vec<String> = match days {
        Days::Only(dates) | Days::Changed(dates) => dates.iter().map(|d| layout::portfolio_partition(*d)).collect(),
        _ => vec![PORTFOLIO_TABLE.to_string()],
    };
    let mut out: BTreeMap<NaiveDate, Vec<ObjectMeta>> = BTreeMap::new();
    for prefix in prefixes {
        for (date, meta) in list_days(lake, &prefix, days).await? {
            let relative = lake.relative(&meta.location);
            let in_partition =
                relative.strip_prefix(&layout::portfolio_partition(date)).and_then(|r| r.strip_prefix('/'));
            if in_partition.is_some_and(|name| !name.contains('/') && name.ends_with(".parquet")) {
                out.entry(date).or_default().push(meta);
            }
        }
    }
    Ok(out)
}

/// Every file under `prefix` whose path names a trading day (`.../year=/month=/day=/...`) that
/// a listing for `days` keeps, with its day.
async fn list_days(lake: &Lake, prefix: &str, days: &Days) -> Result<Vec<(NaiveDate, ObjectMeta)>, Error> {
    let prefix = lake.path(prefix);
    let listed: Vec<ObjectMeta> = lake
        .store()
        .list(Some(&prefix))
        .try_collect()
        .await
        .map_err(|source| lake::Error::Store { path: prefix.to_string(), source })?;
    Ok(listed
        .into_iter()
        .filter_map(|meta| {
            let date = layout::date_of_path(lake.relative(&meta.location))?;
            let wanted = match days {
                Days::Range(from, to) => (*from..=*to).contains(&date),
                _ => true,
            };
            wanted.then_some((date, meta))
        })
        .collect())
}

/// One day to transform: its raw file and its index portfolio files.
struct DayInput {
    date: NaiveDate,
    raw: ObjectMeta,
    portfolios: Vec<ObjectMeta>,
    /// The day was last built with portfolios (whose output goes if they are gone).
    had_index: bool,
}

impl DayInput {
    fn portfolio_versions(&self, local: bool) -> BTreeMap<String, RawVersion> {
        self.portfolios
            .iter()
            .map(|m| (m.location.filename().unwrap_or_default().to_string(), RawVersion::of(m, local)))
            .collect()
    }
}

/// What every day of a run shares.
struct DayJob {
    lake: Lake,
    writer: Writer,
    spec: RefinedSpec,
    tables: Tables,
    queries: Queries,
    run: String,
    fingerprints: Fingerprints,
    /// Days up to date by the time this run holds them are left alone.
    incremental: bool,
}

impl DayJob {
    /// Does a day holding it (and its inputs, which no ingest changes meanwhile), and
    /// bookmarks it; `None` when another writer did it while this one waited for it.
    async fn run(&self, day: DayInput) -> Result<Option<(u64, Written)>, Error> {
        let scope = Scope::days(&[RAW, PORTFOLIO, REFINED, SUMMARY, INDEX_MEMBERS], [day.date]);
        let held = self.writer.take(&scope).await?;
        self.writer.settle(held, self.run_held(day).await).await
    }

    async fn run_held(&self, day: DayInput) -> Result<Option<(u64, Written)>, Error> {
        let local = self.lake.local_root().is_some();
        let day = self.inputs_now(day).await?;
        if RefinedSpec::load(&self.lake).await?.as_ref() != Some(&self.spec) {
            return Err(Error::Usage("the refined table's spec changed while this transform ran".into()));
        }
        let fingerprint = self.fingerprints.of(&day);
        if self.incremental {
            let bookmarks = Bookmarks::load_days(&self.lake, &[day.date]).await?;
            let (raw, portfolios) = (RawVersion::of(&day.raw, local), day.portfolio_versions(local));
            if !bookmarks.is_stale(day.date, &raw, &fingerprint, &portfolios) {
                return Ok(None);
            }
        }
        let (rows, written) = self.write(&day).await?;
        let bookmark = Bookmark {
            raw: RawVersion::of(&day.raw, local),
            portfolios: day.portfolio_versions(local),
            fingerprint,
            rows,
            files: written.files,
            finished: chrono::Utc::now(),
        };
        Bookmarks::save_day(&self.lake, day.date, &bookmark).await?;
        Ok(Some((rows, written)))
    }

    /// The day's input files as they are now that the run holds the day (an ingest may have
    /// replaced them since they were listed).
    async fn inputs_now(&self, mut day: DayInput) -> Result<DayInput, Error> {
        let path = self.lake.path(&layout::raw_file(day.date));
        day.raw = match self.lake.store().head(&path).await {
            Ok(meta) => meta,
            Err(source) => return Err(lake::Error::Store { path: path.to_string(), source }.into()),
        };
        if self.tables.index.is_some() {
            let only = Days::Only(vec![day.date]);
            day.portfolios = portfolio_files(&self.lake, &only).await?.remove(&day.date).unwrap_or_default();
        }
        Ok(day)
    }

    async fn write(&self, day: &DayInput) -> Result<(u64, Written), Error> {
        let date = day.date;
        let (refined, summary, index) = self.compute(day).await?;
        let rows = refined.num_rows() as u64;
        // Until the index names the new files, readers list the day's folders instead.
        let folders = vec![layout::refined_day(date), layout::summary_day(date), layout::index_members_day(date)];
        let change = lake::staging::changing(&self.lake, &self.run, &date.to_string(), folders).await?;
        let written = self.replace(day, refined, summary, index).await?;
        change.done(&self.lake).await?;
        Ok((rows, written))
    }

    /// Writes the day's output and records it in the partition index.
    async fn replace(
        &self,
        day: &DayInput,
        refined: RecordBatch,
        summary: RecordBatch,
        index: Option<RecordBatch>,
    ) -> Result<Written, Error> {
        let date = day.date;
        let output = output::prepare_day(&self.lake, self.spec.layout, &self.run, date, refined, summary).await?;
        // The files and the index change together for the lake's queries.
        let _publishing = self.lake.publishing().await?;
        let catalog = LocalCatalog::new(&self.lake);
        // On S3 the index names the staged day while it is copied in, and a crash from here on
        // is finished by the next writer: readers see the old day or the whole new one.
        let staged = match output.staged_remotely(&self.lake) {
            Some(partitions) => {
                let folders = vec![layout::refined_day(date)];
                let mark = lake::staging::staged(&self.lake, &self.run, &date.to_string(), folders).await?;
                catalog.record(&self.tables.refined, vec![(day_values(date), partitions)]).await?;
                Some(mark)
            }
            None => None,
        };
        let mut written = output.publish(&self.lake).await?;
        let refined = std::mem::take(&mut written.refined);
        catalog.record_days(&self.tables.refined, vec![(day_values(date), refined, written.companion.take())]).await?;
        catalog.record(&self.tables.summary, vec![(day_values(date), std::mem::take(&mut written.summary))]).await?;
        if let Some(def) = &self.tables.index
            && (index.is_some() || day.had_index)
        {
            let partitions = output::write_index_day(&self.lake, date, index).await?;
            written.files += partitions.len() as u64;
            written.bytes += partitions.iter().flat_map(|p| &p.files).map(|f| f.size).sum::<u64>();
            catalog.record(def, vec![(day_values(date), partitions)]).await?;
        }
        if let Some(mark) = staged {
            // The mark first: a staged copy without its mark is abandoned, never moved in.
            mark.done(&self.lake).await?;
            lake::staging::discard(&self.lake, &self.run, &layout::refined_day(date)).await?;
        }
        Ok(written)
    }

    /// The day's refined rows (sorted by symbol), summary row, and index members' rows (when
    /// the day has portfolios).
    async fn compute(&self, day: &DayInput) -> Result<(RecordBatch, RecordBatch, Option<RecordBatch>), Error> {
        let (date, raw) = (day.date, &day.raw);
        let sql = |e| Error::Sql(REFINED_VIEW.into(), e);
        let ctx = day_context();
        self.lake.register(&ctx);
        let table = self.files_table(std::slice::from_ref(raw), raw_schema()).map_err(sql)?;
        ctx.register_table("raw_arquivo", table).map_err(sql)?;
        register_input(&ctx, "raw_arquivo", &self.spec.filter).await?;
        self.queries.register_refined(&ctx).await?;
        let df = ctx.sql(&format!("SELECT * FROM {REFINED_VIEW} ORDER BY {}", output::SYMBOL)).await.map_err(sql)?;
        let refined = one_batch(df, REFINED_VIEW).await?;
        if let Some(other) = self.other_dates(&refined, date) {
            return Err(Error::Usage(format!("the raw file of {date} holds rows of {other}")));
        }

        let summary_ctx = day_context();
        let mem = MemTable::try_new(refined.schema(), vec![vec![refined.clone()]]).map_err(sql)?;
        summary_ctx.register_table(REFINED_VIEW, Arc::new(mem)).map_err(sql)?;
        self.queries.register_summary(&summary_ctx).await?;
        let df = summary_ctx.table(SUMMARY_VIEW).await.map_err(|e| Error::Sql(SUMMARY_VIEW.into(), e))?;
        let summary = one_batch(df, SUMMARY_VIEW).await?;
        if self.tables.index.is_none() || day.portfolios.is_empty() {
            return Ok((refined, summary, None));
        }
        let index_sql = |e| Error::Sql(INDEX_VIEW.into(), e);
        self.lake.register(&summary_ctx);
        let portfolios = self.files_table(&day.portfolios, portfolio_schema()).map_err(index_sql)?;
        summary_ctx.register_table(PORTFOLIO_VIEW, portfolios).map_err(index_sql)?;
        self.queries.register_index(&summary_ctx).await?;
        let df = summary_ctx
            .sql(&format!("SELECT * FROM {INDEX_VIEW} ORDER BY indice, codigo_negociacao"))
            .await
            .map_err(index_sql)?;
        let index = one_batch(df, INDEX_VIEW).await?;
        Ok((refined, summary, Some(index)))
    }

    /// A table over these Parquet files of the lake, read with `schema`.
    fn files_table(
        &self,
        files: &[ObjectMeta],
        schema: SchemaRef,
    ) -> datafusion::error::Result<Arc<dyn datafusion::catalog::TableProvider>> {
        // DataFusion reads an empty file as no rows: the day's output would silently go.
        if let Some(empty) = files.iter().find(|m| m.size == 0) {
            let error = lake::Error::EmptyFile { path: empty.location.to_string() };
            return Err(datafusion::error::DataFusionError::External(Box::new(error)));
        }
        let urls = files
            .iter()
            .map(|m| ListingTableUrl::parse(self.lake.file_url(self.lake.relative(&m.location))))
            .collect::<datafusion::error::Result<Vec<_>>>()?;
        let options = ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
        let config = ListingTableConfig::new_with_multi_paths(urls).with_listing_options(options).with_schema(schema);
        Ok(Arc::new(ListingTable::try_new(config)?))
    }

    /// A date other than `date` in the refined rows, if any (a misplaced raw file).
    fn other_dates(&self, refined: &RecordBatch, date: NaiveDate) -> Option<NaiveDate> {
        use arrow::array::AsArray;
        let col = refined.column_by_name("data_pregao")?.as_primitive_opt::<arrow::datatypes::Date32Type>()?;
        col.iter().flatten().map(arrow::temporal_conversions::date32_to_datetime).find_map(|d| {
            let d = d?.date();
            (d != date).then_some(d)
        })
    }
}

/// Runs `df` and returns its rows as one batch (a day's output is small).
async fn one_batch(df: DataFrame, view: &str) -> Result<RecordBatch, Error> {
    let schema = Arc::new(df.schema().as_arrow().clone());
    let batches = df.collect().await.map_err(|e| Error::Sql(view.into(), e))?;
    arrow::compute::concat_batches(&schema, &batches).map_err(|e| Error::Arrow(e.to_string()))
}

/// A session for one day's queries, in Athena's dialect. A day is small: one partition avoids
/// repartitioning, and days run in parallel.
fn day_context() -> SessionContext {
    let config = SessionConfig::new().with_target_partitions(1);
    crate::sql::dialect::context(SessionStateBuilder::new().with_config(config).with_default_features())
}
