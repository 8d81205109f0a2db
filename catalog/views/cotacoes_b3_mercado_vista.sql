-- The daily spot market in standard lots (TPMERC 010, CODBDI 02): what most analyses of
-- shares start from. A filter on year, month and day still prunes the raw table's partitions.
CREATE OR REPLACE VIEW cotacoes_b3_mercado_vista AS
SELECT
  data_pregao,
  codigo_negociacao,
  nome_empresa,
  especificacao_papel,
  preco_abertura,
  preco_maximo,
  preco_minimo,
  preco_medio,
  preco_ultimo_negocio AS preco_fechamento,
  numero_negocios,
  quantidade_papeis_negociados,
  volume_total_negociado,
  fator_cotacao,
  codigo_isin,
  year,
  month,
  day
FROM cotacoes_b3_raw
WHERE tipo_mercado = 10 AND codigo_bdi = '02'
