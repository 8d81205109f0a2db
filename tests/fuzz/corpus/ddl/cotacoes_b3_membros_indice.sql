-- The index members' quotes: one row per index, trading day and member, joining the day's
-- portfolio (carteira_b3_raw) with the refined quotes, written by the transform
-- (queries/transform/05_membros_indice.sql). ${lake} is the lake's URL.
CREATE EXTERNAL TABLE `cotacoes_b3_membros_indice` (
  `data_pregao` date,
  `indice` string COMMENT 'index code: IBOV, IBXX, SMLL, ...',
  `codigo_negociacao` string,
  `acao` string,
  `tipo` string,
  `segmento` string,
  `qtd_teorica` decimal(20,0) COMMENT 'theoretical quantity, shares',
  `participacao_pct` decimal(9,3) COMMENT 'weight in the index, percent (B3)',
  `preco_abertura` decimal(13,2),
  `preco_fechamento` decimal(13,2),
  `preco_medio_ponderado` decimal(28,8) COMMENT 'volume-weighted average price per share',
  `vol_financeiro_total` decimal(28,2) COMMENT 'traded value, BRL',
  `qtd_acoes_negociadas` bigint,
  `numero_negocios` bigint,
  `variacao_percentual_dia` double COMMENT 'close over open, percent',
  `valor_teorico` decimal(38,2) COMMENT 'theoretical quantity at the close, BRL',
  `participacao_volume_pct` double COMMENT 'share of the traded value of the index members, percent',
  `participacao_teorica_fechamento_pct` double COMMENT 'share of the theoretical value of the index at the close, percent',
  `negociado` boolean COMMENT 'the member traded that day'
)
PARTITIONED BY (
  `year` int,
  `month` int,
  `day` int
)
STORED AS PARQUET
LOCATION '${lake}/index_members/'
TBLPROPERTIES (
  'classification'='parquet',
  'parquet.compression'='SNAPPY'
);
