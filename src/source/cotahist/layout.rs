//! The COTAHIST record layout as one table, so that the parser, the synthetic writer, the
//! error messages and the Arrow schema all agree on a single source of truth.
//!
//! Positions come from B3's "Séries Históricas" layout (revisions 00, 01 and 02 agree).
//! Ranges are 0-based, half-open byte offsets into a 245-byte record.

use std::ops::Range;
use std::sync::{Arc, LazyLock};

use arrow::datatypes::{DataType, Field as ArrowField, Schema, SchemaRef};

/// Bytes in every COTAHIST record, excluding the line terminator.
pub const RECORD_LEN: usize = 245;

/// Record type of the header (the TIPREG field).
pub const TIPREG_HEADER: &[u8; 2] = b"00";
/// Record type of a quote.
pub const TIPREG_QUOTE: &[u8; 2] = b"01";
/// Record type of the trailer.
pub const TIPREG_TRAILER: &[u8; 2] = b"99";

/// Value of DATVEN meaning "no expiry"; stored as NULL.
pub const NO_EXPIRY: &[u8; 8] = b"99991231";

/// How the bytes of a field are interpreted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Latin-1 text, space padded; trimmed, and NULL when blank.
    Text,
    /// Zero-padded integer that fits an `INT`.
    Int,
    /// Zero-padded integer that fits a `BIGINT`.
    BigInt,
    /// `AAAAMMDD`.
    Date,
    /// Zero-padded digits with an implied decimal point: `Decimal(digits, scale)`.
    Decimal {
        /// Digits after the implied point.
        scale: i8,
    },
}

/// One field of the quote record (record type 01).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// B3's name for the field, as in the layout document.
    pub b3_name: &'static str,
    /// Column name in the raw table.
    pub column: &'static str,
    /// Its bytes in the record (0-based, end excluded).
    pub range: Range<usize>,
    /// How its bytes are read.
    pub kind: Kind,
}

impl Field {
    /// Digits (for numbers) or characters in the field.
    pub const fn width(&self) -> usize {
        self.range.end - self.range.start
    }

    /// 1-based inclusive positions, as B3's document prints them.
    pub fn positions(&self) -> (usize, usize) {
        (self.range.start + 1, self.range.end)
    }

    /// Whether the raw table allows NULL here. The trading date, code and market are a
    /// record's key: a record without one cannot be placed in a partition or a ticker, so
    /// the parser refuses it instead of inventing a value.
    pub fn nullable(&self) -> bool {
        !matches!(self.column, "data_pregao" | "codigo_negociacao" | "tipo_mercado")
    }

    /// The column's Arrow type in the raw table.
    pub fn data_type(&self) -> DataType {
        match self.kind {
            Kind::Text => DataType::Utf8,
            Kind::Int => DataType::Int32,
            Kind::BigInt => DataType::Int64,
            Kind::Date => DataType::Date32,
            Kind::Decimal { scale } => DataType::Decimal128(self.width() as u8, scale),
        }
    }
}

macro_rules! fields {
    ($( $b3:literal $col:ident $start:literal .. $end:literal $kind:expr ),* $(,)?) => {
        /// Every field of record 01 except TIPREG, in file order, which is also column order.
        pub const QUOTE_FIELDS: &[Field] = &[
            $( Field { b3_name: $b3, column: stringify!($col), range: $start..$end, kind: $kind } ),*
        ];
    };
}

use Kind::*;
fields! {
    "DATPRE" data_pregao 2..10 Date,
    "CODBDI" codigo_bdi 10..12 Text,
    "CODNEG" codigo_negociacao 12..24 Text,
    "TPMERC" tipo_mercado 24..27 Int,
    "NOMRES" nome_empresa 27..39 Text,
    "ESPECI" especificacao_papel 39..49 Text,
    "PRAZOT" prazo_dias_termo 49..52 Text,
    "MODREF" moeda 52..56 Text,
    "PREABE" preco_abertura 56..69 Decimal { scale: 2 },
    "PREMAX" preco_maximo 69..82 Decimal { scale: 2 },
    "PREMIN" preco_minimo 82..95 Decimal { scale: 2 },
    "PREMED" preco_medio 95..108 Decimal { scale: 2 },
    "PREULT" preco_ultimo_negocio 108..121 Decimal { scale: 2 },
    "PREOFC" preco_melhor_oferta_compra 121..134 Decimal { scale: 2 },
    "PREOFV" preco_melhor_oferta_venda 134..147 Decimal { scale: 2 },
    "TOTNEG" numero_negocios 147..152 Int,
    "QUATOT" quantidade_papeis_negociados 152..170 BigInt,
    "VOLTOT" volume_total_negociado 170..188 Decimal { scale: 2 },
    "PREEXE" preco_exercicio 188..201 Decimal { scale: 2 },
    "INDOPC" indicador_correcao 201..202 Int,
    "DATVEN" data_vencimento 202..210 Date,
    "FATCOT" fator_cotacao 210..217 Int,
    "PTOEXE" preco_exercicio_pontos 217..230 Decimal { scale: 6 },
    "CODISI" codigo_isin 230..242 Text,
    "DISMES" numero_distribuicao 242..245 Int,
}

/// The record type, first in every record.
pub const TIPREG: Field = Field { b3_name: "TIPREG", column: "tipo_registro", range: 0..2, kind: Kind::Int };

/// Header (00) and trailer (99): the file name, e.g. `COTAHIST.2022`.
pub const CONTROL_FILE_NAME: Field =
    Field { b3_name: "NOMARQ", column: "nome_arquivo", range: 2..15, kind: Kind::Text };
/// Header and trailer: the generation date (not the trading date).
pub const CONTROL_GENERATED: Field =
    Field { b3_name: "DATGER", column: "data_geracao", range: 23..31, kind: Kind::Text };
/// Trailer only: records in the file, header and trailer included.
pub const TRAILER_TOTAL: Field =
    Field { b3_name: "TOTREG", column: "total_registros", range: 31..42, kind: Kind::BigInt };

/// Look a field up by its column name.
pub fn field(column: &str) -> Option<&'static Field> {
    QUOTE_FIELDS.iter().find(|f| f.column == column)
}

/// Arrow schema of the raw table, in the order of [`QUOTE_FIELDS`].
///
/// The key columns ([`Field::nullable`]) are never NULL; other blank text and the `99991231`
/// "no expiry" date are.
pub fn raw_schema() -> SchemaRef {
    static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
        Arc::new(Schema::new(
            QUOTE_FIELDS.iter().map(|f| ArrowField::new(f.column, f.data_type(), f.nullable())).collect::<Vec<_>>(),
        ))
    });
    SCHEMA.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_tile_the_record() {
        let mut pos = 2;
        for f in QUOTE_FIELDS {
            assert_eq!(f.range.start, pos, "{} does not start where the previous ended", f.b3_name);
            pos = f.range.end;
        }
        assert_eq!(pos, RECORD_LEN);
        assert_eq!(QUOTE_FIELDS.len(), 25, "26 fields less TIPREG");
    }

    #[test]
    fn decimal_precision_is_the_field_width() {
        assert_eq!(field("preco_abertura").unwrap().data_type(), DataType::Decimal128(13, 2));
        assert_eq!(field("volume_total_negociado").unwrap().data_type(), DataType::Decimal128(18, 2));
        assert_eq!(field("preco_exercicio_pontos").unwrap().data_type(), DataType::Decimal128(13, 6));
    }
}
