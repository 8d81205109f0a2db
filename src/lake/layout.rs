//! Paths inside a lake. One place decides them, so the writers, the catalog and the query
//! side cannot disagree about where a partition lives.

use chrono::{Datelike, NaiveDate};

/// The raw table: COTAHIST records as published, one Parquet file per trading day.
pub const RAW_TABLE: &str = "raw";

/// The refined table: one row per trading day and ticker.
pub const REFINED_TABLE: &str = "refined";

/// The daily summary table: one row per trading day.
pub const SUMMARY_TABLE: &str = "summary/daily_aggregates";

/// B3's index portfolios ("carteira do dia"), one file per index and day.
pub const PORTFOLIO_TABLE: &str = "raw_ibov";

/// The refined quotes of each day's index members.
pub const INDEX_MEMBERS_TABLE: &str = "index_members";

/// Files being written live here until a run commits; no table is under it, so no reader
/// can see a half-written file.
pub const STAGING: &str = "_staging";

/// b3lake's own state kept with the data (job bookmarks, the refined layout), so that any
/// machine that opens the lake carries on where the last one stopped.
pub const META: &str = "_b3lake";

/// The one file of a partition that holds a single file.
pub const PART_FILE: &str = "part-00000.parquet";

/// A day's companion in the refined table's symbol layout: all the day's rows in one Parquet
/// file beside its symbol folders, which b3lake's queries read instead of a file per ticker
/// while it is current. Athena, Hive, Spark and pyarrow skip files named with a leading `_`,
/// and without a `.parquet` extension no `**/*.parquet` glob (DuckDB, Polars) takes it either.
pub const DAY_COMPANION: &str = "_b3lake_day";

/// Hive partition value for an empty string, as Hive and Athena write it.
pub const HIVE_DEFAULT_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// The keys of a trading day's folders and the digits each is written with.
pub const DAY_KEYS: [(&str, usize); 3] = [("year", 4), ("month", 2), ("day", 2)];

/// `year=2022/month=02/day=04`.
pub fn date_partition(date: NaiveDate) -> String {
    let values = [date.year(), date.month() as i32, date.day() as i32];
    let parts: Vec<String> =
        DAY_KEYS.iter().zip(values).map(|((key, width), v)| format!("{key}={v:0width$}")).collect();
    parts.join("/")
}

/// `raw/year=2022/month=02/day=04`.
pub fn raw_partition(date: NaiveDate) -> String {
    format!("{RAW_TABLE}/{}", date_partition(date))
}

/// `raw/year=2022/month=02/day=04/cotacoes_20220204.parquet`.
pub fn raw_file(date: NaiveDate) -> String {
    format!("{}/cotacoes_{}.parquet", raw_partition(date), date.format("%Y%m%d"))
}

/// `raw_ibov/year=2022/month=12/day=08`.
pub fn portfolio_partition(date: NaiveDate) -> String {
    format!("{PORTFOLIO_TABLE}/{}", date_partition(date))
}

/// `raw_ibov/year=2022/month=12/day=08/carteira_20221208.parquet` for IBOV, and
/// `carteira_SMLL_20221208.parquet` beside it for another index.
pub fn portfolio_file(date: NaiveDate, index: &str) -> String {
    let index = if index == "IBOV" { String::new() } else { format!("{index}_") };
    format!("{}/carteira_{index}{}.parquet", portfolio_partition(date), date.format("%Y%m%d"))
}

/// `index_members/year=2022/month=12/day=08`.
pub fn index_members_day(date: NaiveDate) -> String {
    format!("{INDEX_MEMBERS_TABLE}/{}", date_partition(date))
}

/// `refined/year=2022/month=02/day=04`: a trading day of the refined table, in either layout.
pub fn refined_day(date: NaiveDate) -> String {
    format!("{REFINED_TABLE}/{}", date_partition(date))
}

/// `refined/year=2022/month=02/day=04/symbol=PETR4/part-00000.parquet`.
pub fn refined_symbol_file(date: NaiveDate, symbol: &str) -> String {
    format!("{}/symbol={}/{PART_FILE}", refined_day(date), escape_partition_value(symbol))
}

/// `summary/daily_aggregates/year=2022/month=02/day=04`.
pub fn summary_day(date: NaiveDate) -> String {
    format!("{SUMMARY_TABLE}/{}", date_partition(date))
}

/// The trading day of a path under a date-partitioned table (`.../year=2022/month=02/day=04/...`).
pub fn date_of_path(path: &str) -> Option<NaiveDate> {
    let mut parts = path.split('/');
    while let Some(part) = parts.next() {
        if let Some(year) = part.strip_prefix("year=") {
            let month = parts.next()?.strip_prefix("month=")?;
            let day = parts.next()?.strip_prefix("day=")?;
            return NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, day.parse().ok()?);
        }
    }
    None
}

/// Escapes a partition value as Hive does (`%` and two hex digits for `/`, `=`, `%`, quotes,
/// control characters and the rest of Hive's list), so that no value can leave its folder or
/// forge another partition key. DataFusion, Hive and Athena decode it back to the value.
pub fn escape_partition_value(value: &str) -> String {
    if value.is_empty() {
        return HIVE_DEFAULT_PARTITION.to_string();
    }
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        let escape = c.is_ascii_control()
            || matches!(c, '"' | '#' | '%' | '\'' | '*' | '/' | ':' | '=' | '?' | '\\' | '{' | '[' | ']' | '^' | '}');
        if escape {
            out.push_str(&format!("%{:02X}", c as u32));
        } else {
            out.push(c);
        }
    }
    // `.` and `..` alone are not folder names anywhere; they cannot occur after `symbol=`,
    // but the escape keeps the value safe wherever it is used.
    if out == "." || out == ".." {
        out = out.replace('.', "%2E");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hive_paths_are_zero_padded() {
        let d = NaiveDate::from_ymd_opt(2022, 2, 4).unwrap();
        assert_eq!(raw_file(d), "raw/year=2022/month=02/day=04/cotacoes_20220204.parquet");
        assert_eq!(
            refined_symbol_file(d, "PETR4"),
            "refined/year=2022/month=02/day=04/symbol=PETR4/part-00000.parquet"
        );
        assert_eq!(date_of_path(&raw_file(d)), Some(d));
        assert_eq!(date_of_path("lake/summary/daily_aggregates/year=2022/month=02/day=04/x"), Some(d));
        assert_eq!(date_of_path("raw/year=2022/month=13/day=04/x"), None);
    }

    #[test]
    fn hostile_values_stay_in_their_folder() {
        assert_eq!(escape_partition_value("PETR4"), "PETR4");
        assert_eq!(escape_partition_value("../../etc"), "..%2F..%2Fetc");
        assert_eq!(escape_partition_value("A=B/day=05"), "A%3DB%2Fday%3D05");
        assert_eq!(escape_partition_value("50%"), "50%25");
        assert_eq!(escape_partition_value(".."), "%2E%2E");
        assert_eq!(escape_partition_value(""), HIVE_DEFAULT_PARTITION);
        assert_eq!(escape_partition_value("a\nb"), "a%0Ab");
        for v in ["../../etc", "A=B/day=05", "50%", "a\nb", "x\\y"] {
            let escaped = escape_partition_value(v);
            assert!(!escaped.contains('/') && !escaped.contains('=') && !escaped.contains('\\'));
            let decoded = percent_encoding::percent_decode_str(&escaped).decode_utf8().unwrap();
            assert_eq!(decoded, v);
        }
    }
}
