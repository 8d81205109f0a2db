//! The catalog's tables as CloudFormation resources, so the template in `examples/aws/` defines
//! the same Glue tables as `catalog/` without writing them twice: the template holds the block
//! [`glue_tables`] prints between two marker lines, and a test fails when they differ
//! (`b3lake catalog cloudformation --update examples/aws/template.yaml` rewrites it).
//!
//! The refined table has two forms, chosen by the template's `ProjectedRefined` condition: the
//! design's day/ticker folders, whose partitions `catalog sync` registers; or the compact layout
//! (one file a day) with partition projection, so Athena computes the day folders from the
//! table's properties and needs no partition in Glue. Projection cannot serve the ticker
//! folders: an `injected` symbol needs an equality filter in every query, and an `enum` of
//! ~1,200 tickers goes stale with each listing.

use serde_json::{Value, json};

use super::ddl::{Column, TableDef};
use super::glue::{INPUT_FORMAT, MANAGED, OUTPUT_FORMAT, SERDE};
use super::types::hive_type;
use super::{Error, REFINED};

/// The line before the generated block.
pub const BEGIN: &str = "  # BEGIN Glue tables generated from catalog/ by `b3lake catalog cloudformation`; do not edit";
/// The line after it.
pub const END: &str = "  # END Glue tables generated from catalog/";

/// The refined table's partition key that the compact layout keeps in its files.
const SYMBOL: &str = "symbol";

/// The template's logical id of a table: `cotacoes_b3_raw` is `TableCotacoesB3Raw`.
pub fn logical_id(table: &str) -> String {
    let mut id = String::from("Table");
    for part in table.split('_') {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            id.extend(first.to_uppercase());
            id.push_str(chars.as_str());
        }
    }
    id
}

/// The resources (two-space indented YAML, markers included) for `defs`.
pub fn glue_tables(defs: &[TableDef]) -> Result<String, Error> {
    let mut out = format!("{BEGIN}\n");
    for def in defs {
        let properties = json!({
            "CatalogId": {"Ref": "AWS::AccountId"},
            "DatabaseName": {"Ref": "GlueDatabase"},
            "TableInput": table_input(def)?,
        });
        out.push_str(&format!("  {}:\n    Type: AWS::Glue::Table\n    Properties:\n", logical_id(&def.name)));
        yaml(&mut out, &properties, 6);
    }
    out.push_str(END);
    out.push('\n');
    Ok(out)
}

fn columns(columns: &[Column]) -> Result<Value, Error> {
    columns
        .iter()
        .map(|c| {
            let t = hive_type(&c.data_type).map_err(|e| Error::Invalid(format!("column {}: {e}", c.name)))?;
            let mut column = json!({"Name": c.name, "Type": t});
            if let Some(comment) = &c.comment {
                column["Comment"] = json!(comment);
            }
            Ok(column)
        })
        .collect::<Result<Vec<_>, Error>>()
        .map(Value::Array)
}

/// A catalog location in the template's bucket, for `!Sub`: `${lake}` is the bucket's root.
fn in_bucket(def_location: &str) -> String {
    def_location.replace("${lake}", "s3://${LakeBucket}")
}

fn table_input(def: &TableDef) -> Result<Value, Error> {
    let mut parameters: serde_json::Map<String, Value> =
        def.properties.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    parameters.insert("EXTERNAL".into(), json!("TRUE"));
    parameters.insert(MANAGED.into(), json!("true"));
    let storage = |columns: Value| {
        json!({
            "Columns": columns,
            "Location": {"Fn::Sub": in_bucket(&def.location)},
            "InputFormat": INPUT_FORMAT,
            "OutputFormat": OUTPUT_FORMAT,
            "SerdeInfo": {"SerializationLibrary": SERDE, "Parameters": {"serialization.format": "1"}},
        })
    };
    let keys = columns(&def.partition_keys)?;
    if def.name != REFINED {
        return Ok(json!({
            "Name": def.name,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": parameters,
            "PartitionKeys": keys,
            "StorageDescriptor": storage(columns(&def.columns)?),
        }));
    }
    // The compact form: the symbol is a column of each day's file, and the days are projected.
    let (symbol, day_keys): (Vec<Column>, Vec<Column>) =
        def.partition_keys.iter().cloned().partition(|k| k.name == SYMBOL);
    let mut compact_columns = def.columns.clone();
    compact_columns.extend(symbol);
    let mut projected = parameters.clone();
    let folders: Vec<String> = day_keys.iter().map(|k| format!("{0}=${{!{0}}}", k.name)).collect();
    let template = format!("{}/{}/", in_bucket(&def.location).trim_end_matches('/'), folders.join("/"));
    for (key, value) in [
        ("projection.enabled", json!("true")),
        ("projection.year.type", json!("integer")),
        ("projection.year.range", json!("1986,2099")),
        ("projection.month.type", json!("integer")),
        ("projection.month.range", json!("1,12")),
        ("projection.month.digits", json!("2")),
        ("projection.day.type", json!("integer")),
        ("projection.day.range", json!("1,31")),
        ("projection.day.digits", json!("2")),
        ("storage.location.template", json!({"Fn::Sub": template})),
    ] {
        projected.insert(key.into(), value);
    }
    let either = |compact: Value, symbol: Value| json!({"Fn::If": ["ProjectedRefined", compact, symbol]});
    Ok(json!({
        "Name": def.name,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": either(Value::Object(projected), Value::Object(parameters)),
        "PartitionKeys": either(columns(&day_keys)?, keys),
        "StorageDescriptor": storage(either(columns(&compact_columns)?, columns(&def.columns)?)),
    }))
}

/// Block YAML for CloudFormation: strings double-quoted (so `OFF` or `1.0` stay strings),
/// `Ref`, `Fn::Sub` and `Fn::If` in their short forms.
fn yaml(out: &mut String, value: &Value, indent: usize) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                let key =
                    if key.chars().all(|c| c.is_ascii_alphanumeric()) { key.clone() } else { json!(key).to_string() };
                match inline(v) {
                    Some(text) => out.push_str(&format!("{pad}{key}: {text}\n")),
                    None if v.get("Fn::If").is_some() => {
                        out.push_str(&format!("{pad}{key}: !If\n"));
                        yaml(out, &v["Fn::If"], indent + 2);
                    }
                    None => {
                        out.push_str(&format!("{pad}{key}:\n"));
                        yaml(out, v, indent + 2);
                    }
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                match inline(item) {
                    Some(text) => out.push_str(&format!("{pad}- {text}\n")),
                    None => {
                        // The first line of the item goes after the dash.
                        let mut nested = String::new();
                        yaml(&mut nested, item, indent + 2);
                        out.push_str(&format!("{pad}- {}", &nested[indent + 2..]));
                    }
                }
            }
        }
        scalar => out.push_str(&format!("{pad}{}\n", inline(scalar).expect("a scalar"))),
    }
}

/// A value that fits on its key's line.
fn inline(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(json!(s).to_string()),
        Value::Bool(_) | Value::Number(_) | Value::Null => Some(value.to_string()),
        Value::Array(items) if items.is_empty() => Some("[]".into()),
        Value::Object(map) if map.len() == 1 => match map.iter().next() {
            Some((k, Value::String(s))) if k == "Ref" => Some(format!("!Ref {s}")),
            Some((k, Value::String(s))) if k == "Fn::Sub" => Some(format!("!Sub {}", json!(s))),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logical_ids_and_yaml() {
        assert_eq!(logical_id("cotacoes_b3_raw"), "TableCotacoesB3Raw");
        let mut out = String::new();
        let v = json!({"A": {"Ref": "X"}, "B": [{"N": "y", "T": "OFF"}, "z"], "C": {"Fn::If": ["P", [1], []]}, "D": {"Fn::Sub": "s3://${B}/"}});
        yaml(&mut out, &v, 0);
        assert_eq!(
            out,
            "A: !Ref X\nB:\n  - N: \"y\"\n    T: \"OFF\"\n  - \"z\"\nC: !If\n  - \"P\"\n  - - 1\n  - []\nD: !Sub \"s3://${B}/\"\n"
        );
    }
}
