-- B3's index portfolios ("carteira do dia", GetPortfolioDay) as published: one row per index
-- member, one Parquet file per index and day (carteira_YYYYMMDD.parquet for IBOV,
-- carteira_<INDEX>_YYYYMMDD.parquet for others). Numbers are exact decimals read from B3's
-- text; ${lake} is the lake's URL.
CREATE EXTERNAL TABLE `carteira_b3_raw` (
  `data_carteira` date COMMENT 'date in the header: the day the portfolio is for',
  `indice` string COMMENT 'index code: IBOV, IBXX, SMLL, IDIV, ...',
  `segmento` string COMMENT 'economic segment, as B3 names it',
  `codigo` string COMMENT 'ticker',
  `acao` string COMMENT 'company short name',
  `tipo` string COMMENT 'share type and listing segment (ON NM, PN N2, UNT ...)',
  `qtd_teorica` decimal(20,0) COMMENT 'theoretical quantity, shares',
  `participacao_pct` decimal(9,3) COMMENT 'weight in the index, percent',
  `participacao_acumulada_pct` decimal(9,3) COMMENT 'accumulated weight of the segment, percent',
  `qtd_teorica_total` decimal(20,0) COMMENT 'total theoretical quantity, from the header',
  `redutor` decimal(28,8) COMMENT 'the index reducer',
  `texto_substituido` boolean COMMENT 'a text field holds U+FFFD: characters B3 lost before publishing',
  `idioma` string COMMENT 'language of the answer: pt-br or en-us'
)
PARTITIONED BY (
  `year` int,
  `month` int,
  `day` int
)
STORED AS PARQUET
LOCATION '${lake}/raw_ibov/'
TBLPROPERTIES (
  'classification'='parquet',
  'parquet.compression'='SNAPPY'
);
