//! Field by field against records of real B3 files, read by hand from the raw lines.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{Date32Type, Decimal128Type, Int32Type, Int64Type};
use b3lake::source::cotahist::{CotahistReader, ReaderOptions, raw_schema};

use crate::common::*;

fn read_all(bytes: &[u8], name: &str) -> RecordBatch {
    let reader = CotahistReader::new(bytes, name, ReaderOptions::default());
    let batches: Vec<RecordBatch> = reader.collect::<Result<_, _>>().unwrap();
    arrow::compute::concat_batches(&raw_schema(), &batches).unwrap()
}

/// One row as `column=value` strings, decimals with their scale, NULL as `NULL`.
fn row(batch: &RecordBatch, ticker: &str) -> Vec<(String, String)> {
    let tickers = batch.column_by_name("codigo_negociacao").unwrap().as_string::<i32>();
    let i = (0..batch.num_rows()).find(|&i| tickers.value(i) == ticker).unwrap_or_else(|| panic!("{ticker} not found"));
    batch
        .schema()
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(f, c)| {
            let v = if c.is_null(i) {
                "NULL".to_string()
            } else {
                arrow::util::display::array_value_to_string(c, i).unwrap()
            };
            (f.name().clone(), v)
        })
        .collect()
}

fn expect(batch: &RecordBatch, ticker: &str, expected: &[(&str, &str)]) {
    let got = row(batch, ticker);
    assert_eq!(got.len(), 25);
    for (col, want) in expected {
        let (_, v) = got.iter().find(|(c, _)| c == col).unwrap_or_else(|| panic!("no column {col}"));
        assert_eq!(v, want, "{ticker}: {col}");
    }
}

#[test]
fn petr4_on_2022_02_04_every_field() {
    let batch = read_all(&std::fs::read(data(DAY_2022)).unwrap(), DAY_2022);
    assert_eq!(batch.num_rows(), 7522, "7,524 lines less header and trailer");
    expect(
        &batch,
        "PETR4",
        &[
            ("data_pregao", "2022-02-04"),
            ("codigo_bdi", "02"),
            ("codigo_negociacao", "PETR4"),
            ("tipo_mercado", "10"),
            ("nome_empresa", "PETROBRAS"),
            ("especificacao_papel", "PN      N2"),
            ("prazo_dias_termo", "NULL"),
            ("moeda", "R$"),
            ("preco_abertura", "32.41"),
            ("preco_maximo", "33.23"),
            ("preco_minimo", "31.88"),
            ("preco_medio", "32.78"),
            ("preco_ultimo_negocio", "32.63"),
            ("preco_melhor_oferta_compra", "32.62"),
            ("preco_melhor_oferta_venda", "32.66"),
            ("numero_negocios", "94572"),
            ("quantidade_papeis_negociados", "59346800"),
            ("volume_total_negociado", "1945649554.00"),
            ("preco_exercicio", "0.00"),
            ("indicador_correcao", "0"),
            ("data_vencimento", "NULL"),
            ("fator_cotacao", "1"),
            ("preco_exercicio_pontos", "0.000000"),
            ("codigo_isin", "BRPETRACNPR6"),
            ("numero_distribuicao", "201"),
        ],
    );
}

#[test]
fn index_option_with_strike_in_points() {
    let batch = read_all(&std::fs::read(data(DAY_2022)).unwrap(), DAY_2022);
    expect(
        &batch,
        "IBOVD109",
        &[
            ("codigo_bdi", "74"),
            ("tipo_mercado", "70"),
            ("nome_empresa", "IBOVE  FM"),
            ("especificacao_papel", "IBO"),
            ("prazo_dias_termo", "000"),
            ("preco_abertura", "7291.00"),
            ("preco_maximo", "7708.00"),
            ("preco_minimo", "6550.00"),
            ("preco_medio", "7012.72"),
            ("preco_ultimo_negocio", "7613.00"),
            ("preco_melhor_oferta_compra", "0.00"),
            ("numero_negocios", "41"),
            ("quantidade_papeis_negociados", "151"),
            ("volume_total_negociado", "1058921.00"),
            ("preco_exercicio", "109000.00"),
            ("data_vencimento", "2022-04-13"),
            ("preco_exercicio_pontos", "109000.000000"),
            ("codigo_isin", "BRIBOVINDM18"),
            ("numero_distribuicao", "8"),
        ],
    );
}

#[test]
fn odd_lot_with_quotation_factor_1000_in_2003() {
    let batch = read_all(&std::fs::read(data(DEMO_2003)).unwrap(), DEMO_2003);
    expect(
        &batch,
        "TMCP4F",
        &[
            ("data_pregao", "2003-02-12"),
            ("codigo_bdi", "96"),
            ("tipo_mercado", "20"),
            ("nome_empresa", "TELEMIG PART"),
            ("especificacao_papel", "PN *"),
            ("preco_abertura", "2.43"),
            ("preco_ultimo_negocio", "2.51"),
            ("quantidade_papeis_negociados", "377522"),
            ("volume_total_negociado", "921.05"),
            ("fator_cotacao", "1000"),
            ("numero_distribuicao", "105"),
        ],
    );
    let factors = batch.column_by_name("fator_cotacao").unwrap().as_primitive::<Int32Type>();
    assert_eq!(factors.values().iter().filter(|&&f| f == 1000).count(), 378, "SOURCES.md: FATCOT=1000 on 378 rows");
    // An index option exercise with strike correction 6 (index points).
    expect(
        &batch,
        "IBOVB9E",
        &[
            ("tipo_mercado", "12"),
            ("preco_exercicio", "9000.00"),
            ("indicador_correcao", "6"),
            ("data_vencimento", "2003-02-12"),
            ("preco_exercicio_pontos", "9000.000000"),
        ],
    );
}

#[test]
fn yearly_lf_file_first_record() {
    let batch = read_all(&std::fs::read(data(YEAR_2016)).unwrap(), YEAR_2016);
    assert_eq!(batch.num_rows(), 5220);
    expect(
        &batch,
        "AAPL34",
        &[
            ("data_pregao", "2016-01-04"),
            ("nome_empresa", "APPLE"),
            ("especificacao_papel", "DRN"),
            ("preco_abertura", "41.50"),
            ("preco_medio", "42.13"),
            ("preco_melhor_oferta_compra", "39.50"),
            ("volume_total_negociado", "526644.00"),
            ("codigo_isin", "BRAAPLBDR004"),
        ],
    );
    let dates = batch.column(0).as_primitive::<Date32Type>();
    let distinct: std::collections::BTreeSet<i32> = dates.values().iter().copied().collect();
    assert_eq!(distinct.len(), 3);
}

#[test]
fn latin1_name_is_decoded() {
    // None of the three real files has a non-ASCII name, so take PETR4's real record and
    // put a Latin-1 É (0xC9) in NOMRES, as older files have.
    let all = lines(DAY_2022);
    let mut rec = all.iter().find(|l| &l[12..17] == b"PETR4" && l[17] == b' ').unwrap().clone();
    rec[27..39].copy_from_slice(b"PETR\xc9LEO    ");
    let trailer = {
        let mut t = all.last().unwrap().clone();
        t[31..42].copy_from_slice(b"00000000003");
        t
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.txt");
    write_lines(&path, &[all[0].clone(), rec, trailer]);
    let batch = read_all(&std::fs::read(&path).unwrap(), "latin1.txt");
    let names = batch.column_by_name("nome_empresa").unwrap().as_string::<i32>();
    assert_eq!(names.value(0), "PETRÉLEO");
}

#[test]
fn prices_are_decimals_never_floats() {
    let schema = raw_schema();
    for f in schema.fields() {
        assert!(!f.data_type().is_floating(), "{} is a float", f.name());
    }
    let batch = read_all(&std::fs::read(data(DAY_2022)).unwrap(), DAY_2022);
    let vol = batch.column_by_name("volume_total_negociado").unwrap().as_primitive::<Decimal128Type>();
    assert_eq!(vol.precision(), 18);
    assert_eq!(vol.scale(), 2);
    let q = batch.column_by_name("quantidade_papeis_negociados").unwrap().as_primitive::<Int64Type>();
    assert!(q.values().iter().all(|&v| v > 0));
}
