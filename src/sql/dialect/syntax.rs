//! Athena's syntax: DataFusion's generic SQL dialect plus Trino's lambda expressions
//! (`x -> x + 1`, `(k, v) -> v > 0`), which the generic dialect reads as a JSON operator.
//!
//! The parser asks a dialect what it is by type (`dialect_of!`) as well as through its
//! methods, so [`Athena`] answers as the generic dialect and forwards every method the
//! generic dialect overrides: the only difference left is the lambdas.

use std::any::TypeId;

use datafusion::common::Result;
use datafusion::sql::parser::{DFParserBuilder, Statement};
use datafusion::sql::sqlparser::dialect::{Dialect, GenericDialect};

/// The parser's dialect for Athena's SQL.
#[derive(Debug, Default)]
pub struct Athena(GenericDialect);

macro_rules! forward {
    ($($method:ident),* $(,)?) => {
        $(fn $method(&self) -> bool { self.0.$method() })*
    };
}

impl Dialect for Athena {
    fn dialect(&self) -> TypeId {
        self.0.dialect()
    }

    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        self.0.is_delimited_identifier_start(ch)
    }

    fn is_identifier_start(&self, ch: char) -> bool {
        self.0.is_identifier_start(ch)
    }

    fn is_identifier_part(&self, ch: char) -> bool {
        self.0.is_identifier_part(ch)
    }

    fn supports_lambda_functions(&self) -> bool {
        true
    }

    forward!(
        supports_unicode_string_literal,
        supports_partition_by_after_order_by,
        supports_array_join_syntax,
        supports_group_by_expr,
        supports_group_by_with_modifier,
        supports_left_associative_joins_without_parens,
        supports_connect_by,
        supports_match_recognize,
        supports_pipe_operator,
        supports_start_transaction_modifier,
        supports_window_function_null_treatment_arg,
        supports_dictionary_syntax,
        supports_window_clause_named_window_reference,
        supports_parenthesized_set_variables,
        supports_select_wildcard_except,
        support_map_literal_syntax,
        allow_extract_custom,
        allow_extract_single_quotes,
        supports_extract_comma_syntax,
        supports_create_view_comment_syntax,
        supports_parens_around_table_factor,
        supports_values_as_table_factor,
        supports_create_index_with_clause,
        supports_explain_with_utility_options,
        supports_limit_comma,
        supports_update_order_by,
        supports_from_first_select,
        supports_projection_trailing_commas,
        supports_asc_desc_in_column_definition,
        supports_try_convert,
        supports_bitwise_shift_operators,
        supports_comment_on,
        supports_load_extension,
        supports_named_fn_args_with_assignment_operator,
        supports_struct_literal,
        supports_empty_projections,
        supports_nested_comments,
        supports_multiline_comment_hints,
        supports_user_host_grantee,
        supports_string_escape_constant,
        supports_array_typedef_with_brackets,
        supports_match_against,
        supports_set_names,
        supports_comma_separated_set_assignments,
        supports_filter_during_aggregation,
        supports_select_wildcard_exclude,
        supports_data_type_signed_suffix,
        supports_interval_options,
        supports_quote_delimited_string,
        supports_select_wildcard_replace,
        supports_select_wildcard_ilike,
        supports_select_wildcard_rename,
        supports_optimize_table,
        supports_install,
        supports_detach,
        supports_prewhere,
        supports_with_fill,
        supports_limit_by,
        supports_interpolate,
        supports_settings,
        supports_select_format,
        supports_comment_optimizer_hint,
        supports_constraint_keyword_without_name,
        supports_key_column_option,
        supports_comma_separated_trim,
        supports_cte_without_as,
        supports_select_item_multi_column_alias,
        supports_xml_expressions,
    );
}

/// Parses one statement of Athena's SQL, as [`datafusion::execution::SessionState::sql_to_statement`]
/// does with the session's dialect.
pub fn parse(sql: &str, recursion_limit: usize) -> Result<Statement> {
    let dialect = Athena::default();
    let mut statements = DFParserBuilder::new(sql)
        .with_dialect(&dialect)
        .with_recursion_limit(recursion_limit)
        .build()?
        .parse_statements()?;
    match (statements.pop_front(), statements.is_empty()) {
        (Some(statement), true) => Ok(statement),
        (None, _) => datafusion::common::plan_err!("no SQL statement"),
        (Some(_), false) => datafusion::common::not_impl_err!("one statement at a time"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambdas_parse_and_the_rest_reads_as_the_generic_dialect() {
        let statement =
            parse("SELECT transform(ARRAY[1, 2], x -> x + 1), reduce(a, 0, (s, x) -> s + x, s -> s) FROM t", 50)
                .unwrap()
                .to_string();
        assert!(statement.contains("x -> x + 1"), "{statement}");
        assert!(statement.contains("(s, x) -> s + x"), "{statement}");
        assert!(parse("SELECT 1; SELECT 2", 50).is_err());
        // A generic-only form still parses.
        parse("SELECT * EXCLUDE (a) FROM t", 50).unwrap();
    }
}
