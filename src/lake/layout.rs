//! Paths inside a lake. One place decides them, so the writer, the catalog and the query
//! side cannot disagree about where a partition lives.

use chrono::{Datelike, NaiveDate};

/// The raw table: COTAHIST records as published, one Parquet file per trading day.
pub const RAW_TABLE: &str = "raw";

/// Files being written live here until a run commits; no table is under it, so no reader
/// can see a half-written file.
pub const STAGING: &str = "_staging";

/// `raw/year=2022/month=02/day=04`.
pub fn raw_partition(date: NaiveDate) -> String {
    format!("{RAW_TABLE}/year={:04}/month={:02}/day={:02}", date.year(), date.month(), date.day())
}

/// `raw/year=2022/month=02/day=04/cotacoes_20220204.parquet`.
pub fn raw_file(date: NaiveDate) -> String {
    format!("{}/cotacoes_{}.parquet", raw_partition(date), date.format("%Y%m%d"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hive_paths_are_zero_padded() {
        let d = NaiveDate::from_ymd_opt(2022, 2, 4).unwrap();
        assert_eq!(raw_file(d), "raw/year=2022/month=02/day=04/cotacoes_20220204.parquet");
    }
}
