-- One row per trading day and ticker, written by the transform (queries/transform/).
-- Money is exact DECIMAL; preco_medio_ponderado is per share. ${lake} is the lake's URL.
CREATE EXTERNAL TABLE `cotacoes_b3_refined` (
  `data_pregao` date,
  `codigo_negociacao` string,
  `nome_empresa` string,
  `fator_cotacao` int,
  `preco_abertura` decimal(13,2),
  `preco_fechamento` decimal(13,2),
  `preco_maximo` decimal(13,2),
  `preco_minimo` decimal(13,2),
  `preco_medio_ponderado` decimal(28,8) COMMENT 'volume-weighted average price per share',
  `vol_financeiro_total` decimal(28,2) COMMENT 'traded value, BRL',
  `qtd_acoes_negociadas` bigint,
  `numero_negocios` bigint,
  `registros_agregados` bigint COMMENT 'raw records aggregated',
  `dia_semana` int COMMENT 'ISO weekday, Monday = 1',
  `trimestre` int,
  `dias_desde_inicio_ano` int,
  `dias_ate_fim_ano` int,
  `eh_inicio_mes` boolean COMMENT 'first five days of the month',
  `data_vencimento` date,
  `dias_ate_vencimento` int,
  `variacao_percentual_dia` double COMMENT 'close over open, percent',
  `volatilidade_relativa` double COMMENT 'range over average price'
)
PARTITIONED BY (
  `year` int,
  `month` int,
  `day` int,
  `symbol` string
)
STORED AS PARQUET
LOCATION '${lake}/refined/'
TBLPROPERTIES (
  'classification'='parquet',
  'parquet.compression'='SNAPPY'
);
