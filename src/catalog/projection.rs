//! Partition projection, as Athena computes partitions from a table's properties instead of
//! reading them from a catalog.

use super::ddl::TableDef;

/// Whether the table's properties turn projection on (`projection.enabled` = `true`).
pub fn enabled(def: &TableDef) -> bool {
    def.properties.get("projection.enabled").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}
