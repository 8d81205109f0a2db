//! Table definitions as Athena DDL. The files in `catalog/` are the source of truth: the same
//! text, with `${lake}` replaced by the lake's URL, creates the table in Athena, and b3lake
//! parses it (sqlparser's Hive dialect) to register the table in DataFusion. Rendering goes
//! the other way, for `SHOW CREATE TABLE`, the local catalog's files and `catalog pull`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::sql::sqlparser::ast::{
    ColumnOption, CreateTable, CreateTableOptions, Expr, FileFormat, HiveDistributionStyle, HiveIOFormat,
    HiveRowFormat, SqlOption, Statement, Value,
};
use datafusion::sql::sqlparser::dialect::HiveDialect;
use datafusion::sql::sqlparser::parser::Parser;

use super::Error;
use super::types::{arrow_type, hive_type};

/// Stands for the lake's URL (no trailing slash) in table locations.
pub const LAKE_VAR: &str = "${lake}";
/// Partition projection's folder template (a table property that holds a location).
const PROJECTION_TEMPLATE: &str = "storage.location.template";

/// Where `location` lies in the lake at `lake_url`, as a path relative to the lake root (`""`
/// for the root), or `None` when it lies outside: another bucket or scheme, a local path
/// elsewhere, or a path that climbs out with `..`. `${lake}` stands for the lake and a local
/// absolute path for its `file://` URL; `.` and `..` are resolved before comparing, so
/// `file:///lake/raw/../../etc` is outside however it starts.
pub fn in_lake(location: &str, lake_url: &str) -> Option<String> {
    let lake_url = lake_url.trim_end_matches('/');
    let full = location.replace(LAKE_VAR, lake_url);
    let full = if full.starts_with('/') { format!("file://{full}") } else { full };
    let rest = full.strip_prefix(lake_url)?;
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in rest.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

/// The raw table: COTAHIST records as published.
pub const RAW: &str = "cotacoes_b3_raw";
/// The refined table: one row per trading day and ticker.
pub const REFINED: &str = "cotacoes_b3_refined";
/// The daily summary: one row per trading day.
pub const SUMMARY: &str = "cotacoes_b3_resumo_diario";

/// B3's index portfolios as published.
pub const PORTFOLIO: &str = "carteira_b3_raw";
/// The index members' quotes: portfolios joined with the refined table.
pub const INDEX_MEMBERS: &str = "cotacoes_b3_membros_indice";

/// The definitions b3lake ships, from `catalog/`.
const BUILTIN: [(&str, &str); 5] = [
    (RAW, include_str!("../../catalog/cotacoes_b3_raw.sql")),
    (REFINED, include_str!("../../catalog/cotacoes_b3_refined.sql")),
    (SUMMARY, include_str!("../../catalog/cotacoes_b3_resumo_diario.sql")),
    (PORTFOLIO, include_str!("../../catalog/carteira_b3_raw.sql")),
    (INDEX_MEMBERS, include_str!("../../catalog/cotacoes_b3_membros_indice.sql")),
];

/// A column or partition key.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The name, lower case, as Athena and Glue keep it.
    pub name: String,
    /// The Arrow type of the column's Hive type.
    pub data_type: DataType,
    /// The DDL's `COMMENT`.
    pub comment: Option<String>,
}

impl Column {
    /// A column without a comment.
    pub fn new(name: impl Into<String>, data_type: DataType) -> Self {
        Self { name: name.into(), data_type, comment: None }
    }
}

/// An external Parquet table, Hive-partitioned.
#[derive(Debug, Clone, PartialEq)]
pub struct TableDef {
    /// The name, lower case, as Athena and Glue keep it.
    pub name: String,
    /// The data columns, in the files' order.
    pub columns: Vec<Column>,
    /// The Hive partition keys, outermost folder first.
    pub partition_keys: Vec<Column>,
    /// `${lake}/refined/` for a table inside the lake, or an absolute URL.
    pub location: String,
    /// `TBLPROPERTIES`, b3lake's and the user's.
    pub properties: BTreeMap<String, String>,
    /// `CLUSTERED BY (...) INTO n BUCKETS`: the rows of each partition spread over `n` files
    /// by a hash of these columns (Hive's, bucketing version 1).
    pub buckets: Option<Buckets>,
}

/// A bucketed table's bucketing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buckets {
    /// The columns hashed, lower case.
    pub columns: Vec<String>,
    /// The number of buckets.
    pub count: u32,
}

impl TableDef {
    /// Parses one `CREATE EXTERNAL TABLE` statement; `origin` names the file in errors.
    pub fn parse(sql: &str, origin: &str) -> Result<Self, Error> {
        Self::parse_statement(sql, origin).map(|(def, _)| def)
    }

    /// Parses one `CREATE EXTERNAL TABLE` statement, and whether it says `IF NOT EXISTS`.
    pub fn parse_statement(sql: &str, origin: &str) -> Result<(Self, bool), Error> {
        let err = |message: String| Error::Ddl { origin: origin.to_string(), message };
        // sqlparser reads Hive's CLUSTERED BY in CREATE TABLE but not in CREATE EXTERNAL
        // TABLE: the clause is taken out here and read apart.
        let (text, buckets) = clustered_by(sql).map_err(err)?;
        let parsed = crate::deadline::parse_within(move || Parser::parse_sql(&HiveDialect {}, &text));
        let statements = parsed.map_err(|e| err(e.to_string()))?.map_err(|e| err(e.to_string()))?;
        match statements.as_slice() {
            [Statement::CreateTable(create)] => {
                let mut def = Self::from_create(create).map_err(err)?;
                def.buckets = buckets;
                def.validate().map_err(err)?;
                Ok((def, create.if_not_exists))
            }
            [_] => Err(err("not a CREATE EXTERNAL TABLE statement".into())),
            other => Err(err(format!("expected one statement, found {}", other.len()))),
        }
    }

    /// No backslash or control character in any name, comment or property: a definition is
    /// text that prints back as it was read, and a backslash escapes in Hive's strings but not
    /// in the parser's.
    fn printable(&self) -> Result<(), String> {
        let columns = self.columns.iter().chain(&self.partition_keys);
        let texts = std::iter::once(&self.name)
            .chain(columns.clone().map(|c| &c.name))
            .chain(columns.filter_map(|c| c.comment.as_ref()))
            .chain(self.properties.values());
        match texts.into_iter().find(|t| t.chars().any(|c| c == '\\' || c.is_control())) {
            Some(text) => Err(format!("{text:?} holds a backslash or a control character")),
            None => Ok(()),
        }
    }

    /// The definition of a parsed `CREATE [EXTERNAL] TABLE`.
    pub fn from_create(create: &CreateTable) -> Result<Self, String> {
        if !create.external {
            return Err("only CREATE EXTERNAL TABLE is supported (tables live in the lake's files)".into());
        }
        if !stored_as_parquet(create) {
            return Err("only STORED AS PARQUET tables are supported".into());
        }
        let name = table_name(&create.name.to_string());
        let columns = create.columns.iter().map(column).collect::<Result<Vec<_>, _>>()?;
        let partition_keys = match &create.hive_distribution {
            HiveDistributionStyle::PARTITIONED { columns } => columns.iter().map(column).collect::<Result<_, _>>()?,
            HiveDistributionStyle::NONE => vec![],
            _ => return Err("unsupported table distribution".into()),
        };
        let location = create.location.clone().ok_or("LOCATION is required")?;
        if location.chars().any(|c| c == '\\' || c.is_control()) {
            return Err(format!("LOCATION {location:?} holds a backslash or a control character"));
        }
        let mut properties = BTreeMap::new();
        if let CreateTableOptions::TableProperties(options) = &create.table_options {
            for option in options {
                let SqlOption::KeyValue { key, value } = option else {
                    return Err(format!("unsupported table property {option}"));
                };
                // Keys are names (`classification`, `projection.year.range`): quoted as
                // identifiers, where a backslash escapes nothing, so they could not be written
                // back as they were read.
                if key.value.chars().any(|c| c == '\\' || c == '\'' || c.is_control()) {
                    return Err(format!(
                        "table property {:?}: a key holds no backslash, quote or control character",
                        key.value
                    ));
                }
                properties.insert(key.value.clone(), literal(value)?);
            }
        }
        let def =
            TableDef { name, columns, partition_keys, location: with_slash(&location), properties, buckets: None };
        def.printable()?;
        def.validate()?;
        Ok(def)
    }

    /// Every column named once, at least one data column, bucket columns among them.
    pub fn validate(&self) -> Result<(), String> {
        let mut seen = std::collections::HashSet::new();
        for c in self.columns.iter().chain(&self.partition_keys) {
            if !seen.insert(c.name.to_lowercase()) {
                return Err(format!("column {} appears twice", c.name));
            }
        }
        if self.columns.is_empty() {
            return Err("a table needs at least one column".into());
        }
        for b in self.buckets.iter().flat_map(|b| &b.columns) {
            if !self.columns.iter().any(|c| &c.name == b) {
                return Err(format!("bucket column {b} is not a data column"));
            }
        }
        Ok(())
    }

    /// The definition with `${lake}` standing for `lake_url` where the location lies in the
    /// lake ([`in_lake`]); a location outside it is kept, and refused where tables are made.
    pub fn with_location_template(mut self, lake_url: &str) -> Self {
        let template = |location: &str| {
            let rest = in_lake(location, lake_url)?;
            let slash = if location.ends_with('/') { "/" } else { "" };
            Some(if rest.is_empty() { format!("{LAKE_VAR}{slash}") } else { format!("{LAKE_VAR}/{rest}{slash}") })
        };
        if let Some(location) = template(&self.location) {
            self.location = location;
        }
        // Partition projection's folder template, `${column}`s and all.
        if let Some(t) = self.properties.get(PROJECTION_TEMPLATE).and_then(|t| template(t)) {
            self.properties.insert(PROJECTION_TEMPLATE.into(), t);
        }
        self
    }

    /// The definition with `${lake}` replaced by `lake_url` in its location and projection
    /// template: what Athena is given.
    pub fn resolved(mut self, lake_url: &str) -> Self {
        self.location = self.resolved_location(lake_url);
        if let Some(t) = self.properties.get_mut(PROJECTION_TEMPLATE) {
            *t = t.replace(LAKE_VAR, lake_url.trim_end_matches('/'));
        }
        self
    }

    /// The location with `${lake}` replaced by `lake_url`.
    pub fn resolved_location(&self, lake_url: &str) -> String {
        self.location.replace(LAKE_VAR, lake_url.trim_end_matches('/'))
    }

    /// The table's folder relative to the lake root (`refined`), if it lies in the lake.
    pub fn lake_prefix(&self) -> Option<&str> {
        self.location.strip_prefix(LAKE_VAR).map(|rest| rest.trim_matches('/'))
    }

    /// The Arrow schema of the files (the columns without the partition keys).
    pub fn file_schema(&self) -> SchemaRef {
        Arc::new(Schema::new(
            self.columns.iter().map(|c| Field::new(&c.name, c.data_type.clone(), true)).collect::<Vec<_>>(),
        ))
    }

    /// The partition keys as Arrow fields (never NULL in a path, but `__HIVE_DEFAULT_PARTITION__`).
    pub fn partition_fields(&self) -> Vec<Arc<Field>> {
        self.partition_keys.iter().map(|c| Arc::new(Field::new(&c.name, c.data_type.clone(), true))).collect()
    }

    /// Replaces the data columns with those of `schema`, keeping comments of columns that stay.
    pub fn with_columns(mut self, schema: &Schema) -> Result<Self, String> {
        let keys: Vec<&str> = self.partition_keys.iter().map(|c| c.name.as_str()).collect();
        let comments: BTreeMap<String, String> =
            self.columns.iter().filter_map(|c| Some((c.name.clone(), c.comment.clone()?))).collect();
        self.columns = schema
            .fields()
            .iter()
            .filter(|f| !keys.contains(&f.name().as_str()))
            .map(|f| Column {
                name: f.name().clone(),
                data_type: f.data_type().clone(),
                comment: comments.get(f.name()).cloned(),
            })
            .collect();
        self.validate()?;
        Ok(self)
    }

    /// The `CREATE EXTERNAL TABLE` statement, runnable in Athena once `${lake}` is replaced.
    pub fn to_ddl(&self) -> Result<String, String> {
        let mut out = format!("CREATE EXTERNAL TABLE `{}` (\n", self.name);
        write_columns(&mut out, &self.columns)?;
        out.push(')');
        if !self.partition_keys.is_empty() {
            out.push_str("\nPARTITIONED BY (\n");
            write_columns(&mut out, &self.partition_keys)?;
            out.push(')');
        }
        if let Some(b) = &self.buckets {
            let columns: Vec<String> = b.columns.iter().map(|c| format!("`{c}`")).collect();
            let _ = write!(out, "\nCLUSTERED BY ({}) INTO {} BUCKETS", columns.join(", "), b.count);
        }
        let _ = write!(out, "\nSTORED AS PARQUET\nLOCATION '{}'", quote(&self.location));
        if !self.properties.is_empty() {
            out.push_str("\nTBLPROPERTIES (\n");
            let props: Vec<String> =
                self.properties.iter().map(|(k, v)| format!("  '{}'='{}'", quote(k), quote(v))).collect();
            out.push_str(&props.join(",\n"));
            out.push(')');
        }
        out.push_str(";\n");
        Ok(out)
    }
}

/// `sql` without its `CLUSTERED BY (cols) [SORTED BY (...)] INTO n BUCKETS`, and the buckets.
fn clustered_by(sql: &str) -> Result<(String, Option<Buckets>), String> {
    static CLAUSE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let clause = CLAUSE.get_or_init(|| {
        regex::Regex::new(
            r"(?is)\bCLUSTERED\s+BY\s*\(([^)]*)\)\s*(?:SORTED\s+BY\s*\([^)]*\)\s*)?INTO\s+(\d+)\s+BUCKETS\b",
        )
        .expect("a valid pattern")
    });
    let Some(found) = clause.captures(sql) else { return Ok((sql.to_string(), None)) };
    let columns = found[1].split(',').map(|c| c.trim().trim_matches(|q| q == '`' || q == '"').to_lowercase()).collect();
    let count = found[2].parse::<u32>().ok().filter(|n| *n > 0).ok_or("INTO n BUCKETS: n from 1")?;
    let whole = found.get(0).expect("a match");
    Ok((format!("{} {}", &sql[..whole.start()], &sql[whole.end()..]), Some(Buckets { columns, count })))
}

/// `STORED AS PARQUET`, or the long form Athena's own `SHOW CREATE TABLE` prints (`ROW FORMAT
/// SERDE '...ParquetHiveSerDe' STORED AS INPUTFORMAT '...MapredParquetInputFormat' ...`).
fn stored_as_parquet(create: &CreateTable) -> bool {
    let formats = create.hive_formats.as_ref();
    let storage = formats.and_then(|h| h.storage.as_ref());
    let class = |e: &Expr| literal(e).unwrap_or_default();
    matches!(create.file_format, Some(FileFormat::PARQUET))
        || matches!(storage, Some(HiveIOFormat::FileFormat { format: FileFormat::PARQUET }))
        || matches!(storage, Some(HiveIOFormat::IOF { input_format, .. }) if class(input_format).ends_with("MapredParquetInputFormat"))
        || matches!(formats.and_then(|h| h.row_format.as_ref()),
            Some(HiveRowFormat::SERDE { class }) if class.ends_with("ParquetHiveSerDe"))
}

/// The built-in definition of `name` (one of the constants above).
pub fn builtin_table(name: &str) -> TableDef {
    let (name, sql) = BUILTIN.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("{name} is not built in"));
    parse_builtin(name, sql)
}

/// The built-in table definitions, in `catalog/` order.
pub fn builtin() -> Vec<TableDef> {
    BUILTIN.iter().map(|(name, sql)| parse_builtin(name, sql)).collect()
}

fn parse_builtin(name: &str, sql: &str) -> TableDef {
    TableDef::parse(sql, &format!("catalog/{name}.sql")).unwrap_or_else(|e| panic!("built-in DDL: {e}"))
}

/// A table name as the catalog keys it: unquoted, lower case, without `default.` (or
/// `awsdatacatalog.default.`), however each part is quoted (`"default"."t"`, as awswrangler
/// names its CTAS tables).
pub fn table_name(name: &str) -> String {
    let name = name.trim().replace(['`', '"'], "").to_lowercase();
    let name = name.strip_prefix("awsdatacatalog.").unwrap_or(&name);
    name.strip_prefix("default.").unwrap_or(name).to_string()
}

fn column(def: &datafusion::sql::sqlparser::ast::ColumnDef) -> Result<Column, String> {
    let data_type = arrow_type(&def.data_type).map_err(|e| format!("column {}: {e}", def.name.value))?;
    let comment = def.options.iter().find_map(|o| match &o.option {
        ColumnOption::Comment(c) => Some(c.clone()),
        _ => None,
    });
    Ok(Column { name: def.name.value.to_lowercase(), data_type, comment })
}

fn literal(expr: &Expr) -> Result<String, String> {
    match expr {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => Ok(s.clone()),
            Value::Number(n, _) => Ok(n.clone()),
            Value::Boolean(b) => Ok(b.to_string()),
            other => Err(format!("unsupported property value {other}")),
        },
        Expr::Identifier(i) => Ok(i.value.clone()),
        other => Err(format!("unsupported property value {other}")),
    }
}

fn write_columns(out: &mut String, columns: &[Column]) -> Result<(), String> {
    let lines = columns
        .iter()
        .map(|c| {
            let mut line =
                format!("  `{}` {}", c.name, hive_type(&c.data_type).map_err(|e| format!("{}: {e}", c.name))?);
            if let Some(comment) = &c.comment {
                let _ = write!(line, " COMMENT '{}'", quote(comment));
            }
            Ok(line)
        })
        .collect::<Result<Vec<_>, String>>()?;
    out.push_str(&lines.join(",\n"));
    out.push('\n');
    Ok(())
}

/// A string literal's text: a quote doubled, as the parser and Athena read it (backslashes
/// never reach here: [`TableDef::printable`] refuses them).
fn quote(s: &str) -> String {
    s.replace('\'', "''")
}

fn with_slash(location: &str) -> String {
    format!("{}/", location.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_lose_their_quotes_and_the_default_schema_however_quoted() {
        for name in
            ["t", "T", "`t`", "\"t\"", "default.t", "\"default\".\"t\"", "`default`.`t`", "awsdatacatalog.default.t"]
        {
            assert_eq!(table_name(name), "t", "{name}");
        }
        assert_eq!(table_name("other.t"), "other.t", "another schema stays, to be refused");
    }

    #[test]
    fn comments_and_properties_print_back_as_read() {
        let sql = "CREATE EXTERNAL TABLE t (a int COMMENT 'B3''s code') STORED AS PARQUET LOCATION 'l' \
                   TBLPROPERTIES ('k'='it''s')";
        let def = TableDef::parse(sql, "t").unwrap();
        assert_eq!(def.columns[0].comment.as_deref(), Some("B3's code"));
        assert_eq!(def.properties["k"], "it's");
        let printed = def.to_ddl().unwrap();
        assert_eq!(TableDef::parse(&printed, "t").unwrap(), def, "{printed}");
        // A backslash means one thing to Hive and Athena and another to the parser: refused.
        let sql = "CREATE EXTERNAL TABLE t (a int COMMENT 'x\\d') STORED AS PARQUET LOCATION 'l'";
        assert!(TableDef::parse(sql, "t").unwrap_err().to_string().contains("backslash"));
    }

    #[test]
    fn buckets_print_back_as_read() {
        let sql = "CREATE EXTERNAL TABLE t (a string, b int) PARTITIONED BY (y int) \
                   CLUSTERED BY (`A`, b) SORTED BY (a) INTO 8 BUCKETS STORED AS PARQUET LOCATION 'l'";
        let def = TableDef::parse(sql, "t").unwrap();
        assert_eq!(def.buckets, Some(Buckets { columns: vec!["a".into(), "b".into()], count: 8 }));
        let printed = def.to_ddl().unwrap();
        assert!(printed.contains("CLUSTERED BY (`a`, `b`) INTO 8 BUCKETS"), "{printed}");
        assert_eq!(TableDef::parse(&printed, "t").unwrap(), def);
        let bad = "CREATE EXTERNAL TABLE t (a int) CLUSTERED BY (z) INTO 2 BUCKETS STORED AS PARQUET LOCATION 'l'";
        assert!(TableDef::parse(bad, "t").unwrap_err().to_string().contains("bucket column z"));
    }

    #[test]
    fn locations_are_normalised_before_they_are_judged() {
        let lake = "file:///data/lake/";
        assert_eq!(in_lake("${lake}/raw/", lake).as_deref(), Some("raw"));
        assert_eq!(in_lake("file:///data/lake/raw/./x/../y", lake).as_deref(), Some("raw/y"));
        assert_eq!(in_lake("/data/lake/raw/", lake).as_deref(), Some("raw"));
        assert_eq!(in_lake("${lake}", lake).as_deref(), Some(""));
        for outside in [
            "/etc",
            "file:///etc/",
            "s3://other/x/",
            "../../../../etc",
            "raw/x",
            "file:///data/lake/raw/../../",
            "${lake}/..",
            "/data/lakehouse/x",
        ] {
            assert_eq!(in_lake(outside, lake), None, "{outside}");
        }
        assert_eq!(in_lake("s3://b/lake/raw/../x", "s3://b/lake").as_deref(), Some("x"));
        assert_eq!(in_lake("s3://b/lakehouse/x", "s3://b/lake"), None);
    }

    #[test]
    fn builtin_tables_parse_with_typed_partitions() {
        let tables = builtin();
        let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, [RAW, REFINED, SUMMARY, PORTFOLIO, INDEX_MEMBERS]);
        let refined = &tables[1];
        let keys: Vec<(&str, &DataType)> =
            refined.partition_keys.iter().map(|c| (c.name.as_str(), &c.data_type)).collect();
        assert_eq!(
            keys,
            [
                ("year", &DataType::Int32),
                ("month", &DataType::Int32),
                ("day", &DataType::Int32),
                ("symbol", &DataType::Utf8)
            ]
        );
        assert_eq!(refined.location, "${lake}/refined/");
        assert_eq!(refined.lake_prefix(), Some("refined"));
        assert_eq!(refined.properties.get("classification").map(String::as_str), Some("parquet"));
        assert_eq!(tables[0].partition_keys.len(), 3);
    }

    #[test]
    fn rendering_parses_back_to_the_same_definition() {
        for def in builtin() {
            let ddl = def.to_ddl().unwrap();
            assert_eq!(TableDef::parse(&ddl, "rendered").unwrap(), def, "{ddl}");
        }
    }

    #[test]
    fn location_templates() {
        let def = TableDef::parse("CREATE EXTERNAL TABLE x (`a` int) STORED AS PARQUET LOCATION 's3://b/lake/x'", "t")
            .unwrap()
            .with_location_template("s3://b/lake/");
        assert_eq!(def.location, "${lake}/x/");
        assert_eq!(def.resolved_location("s3://b/lake/"), "s3://b/lake/x/");
        let other =
            TableDef::parse("CREATE EXTERNAL TABLE x (a int) STORED AS PARQUET LOCATION 's3://b/lakehouse/'", "t")
                .unwrap()
                .with_location_template("s3://b/lake");
        assert_eq!(other.lake_prefix(), None);
    }

    #[test]
    fn athenas_own_show_create_table_output_parses() {
        let athena = "CREATE EXTERNAL TABLE `x`(\n  `a` int COMMENT 'from deserializer')\nPARTITIONED BY (\n  `year` int)\n\
            ROW FORMAT SERDE\n  'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'\n\
            STORED AS INPUTFORMAT\n  'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat'\n\
            OUTPUTFORMAT\n  'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat'\n\
            LOCATION\n  's3://b/lake/x'\nTBLPROPERTIES (\n  'classification'='parquet')";
        let def = TableDef::parse(athena, "athena").unwrap().with_location_template("s3://b/lake");
        assert_eq!((def.name.as_str(), def.location.as_str(), def.partition_keys.len()), ("x", "${lake}/x/", 1));
        let csv = athena
            .replace("parquet.serde.ParquetHiveSerDe", "lazy.LazySimpleSerDe")
            .replace("parquet.MapredParquetInputFormat", "TextInputFormat");
        assert!(TableDef::parse(&csv, "csv").unwrap_err().to_string().contains("PARQUET"));
    }

    #[test]
    fn bad_ddl_is_refused_with_the_file_name() {
        for (sql, expected) in [
            ("CREATE TABLE x (a int) STORED AS PARQUET LOCATION 'l'", "only CREATE EXTERNAL TABLE"),
            ("CREATE EXTERNAL TABLE x (a int) STORED AS TEXTFILE LOCATION 'l'", "STORED AS PARQUET"),
            ("CREATE EXTERNAL TABLE x (a int) STORED AS PARQUET", "LOCATION"),
            ("CREATE EXTERNAL TABLE x (a interval) STORED AS PARQUET LOCATION 'l'", "column a"),
            ("CREATE EXTERNAL TABLE x (a int) PARTITIONED BY (a int) STORED AS PARQUET LOCATION 'l'", "twice"),
            ("SELECT 1", "not a CREATE"),
        ] {
            let e = TableDef::parse(sql, "catalog/x.sql").unwrap_err().to_string();
            assert!(e.starts_with("catalog/x.sql") && e.contains(expected), "{sql}: {e}");
        }
    }
}
