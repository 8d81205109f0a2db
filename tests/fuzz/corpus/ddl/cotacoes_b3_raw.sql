-- COTAHIST quote records (type 01) as B3 publishes them, one Parquet file per trading day.
-- Comments give B3's field names (see the COTAHIST layout). ${lake} is the lake's URL.
CREATE EXTERNAL TABLE `cotacoes_b3_raw` (
  `data_pregao` date COMMENT 'DATPRE trading day',
  `codigo_bdi` string COMMENT 'CODBDI BDI code',
  `codigo_negociacao` string COMMENT 'CODNEG ticker',
  `tipo_mercado` int COMMENT 'TPMERC market type (10 = spot)',
  `nome_empresa` string COMMENT 'NOMRES issuer short name',
  `especificacao_papel` string COMMENT 'ESPECI share class',
  `prazo_dias_termo` string COMMENT 'PRAZOT forward term in days',
  `moeda` string COMMENT 'MODREF currency',
  `preco_abertura` decimal(13,2) COMMENT 'PREABE open',
  `preco_maximo` decimal(13,2) COMMENT 'PREMAX high',
  `preco_minimo` decimal(13,2) COMMENT 'PREMIN low',
  `preco_medio` decimal(13,2) COMMENT 'PREMED average',
  `preco_ultimo_negocio` decimal(13,2) COMMENT 'PREULT close',
  `preco_melhor_oferta_compra` decimal(13,2) COMMENT 'PREOFC best bid',
  `preco_melhor_oferta_venda` decimal(13,2) COMMENT 'PREOFV best ask',
  `numero_negocios` int COMMENT 'TOTNEG trades',
  `quantidade_papeis_negociados` bigint COMMENT 'QUATOT shares traded',
  `volume_total_negociado` decimal(18,2) COMMENT 'VOLTOT traded value, BRL',
  `preco_exercicio` decimal(13,2) COMMENT 'PREEXE strike',
  `indicador_correcao` int COMMENT 'INDOPC strike correction',
  `data_vencimento` date COMMENT 'DATVEN expiry',
  `fator_cotacao` int COMMENT 'FATCOT quotation factor',
  `preco_exercicio_pontos` decimal(13,6) COMMENT 'PTOEXE strike in points',
  `codigo_isin` string COMMENT 'CODISI ISIN',
  `numero_distribuicao` int COMMENT 'DISMES distribution number'
)
PARTITIONED BY (
  `year` int,
  `month` int,
  `day` int
)
STORED AS PARQUET
LOCATION '${lake}/raw/'
TBLPROPERTIES (
  'classification'='parquet',
  'parquet.compression'='SNAPPY'
);
