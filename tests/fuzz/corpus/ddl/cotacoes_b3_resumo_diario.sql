-- One row per trading day: the market's totals, breadth and extremes, written by the
-- transform (queries/transform/04_resumo_diario.sql). ${lake} is the lake's URL.
CREATE EXTERNAL TABLE `cotacoes_b3_resumo_diario` (
  `data_pregao` date,
  `numero_tickers` bigint,
  `vol_financeiro_total` decimal(28,2) COMMENT 'traded value, BRL',
  `qtd_acoes_negociadas` bigint,
  `numero_negocios` bigint,
  `altas` bigint COMMENT 'tickers that closed above the open',
  `baixas` bigint COMMENT 'tickers that closed below the open',
  `estaveis` bigint,
  `maior_alta` string,
  `maior_alta_pct` double,
  `maior_baixa` string,
  `maior_baixa_pct` double
)
PARTITIONED BY (
  `year` int,
  `month` int,
  `day` int
)
STORED AS PARQUET
LOCATION '${lake}/summary/daily_aggregates/'
TBLPROPERTIES (
  'classification'='parquet',
  'parquet.compression'='SNAPPY'
);
