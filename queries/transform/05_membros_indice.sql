-- The index members' quotes: one row per index, trading day and member, written by the
-- transform for each day that has a portfolio in carteira_b3_raw (ingest-ibov).
--
-- Reads `carteira_dia`, the day's portfolios (every index ingested for that day), and
-- `refinado`. A member that did not trade that day keeps its row, with NULL quotes and
-- negociado = false. valor_teorico is the member's theoretical quantity at the close, in R$
-- (prices are quoted per fator_cotacao shares); the two shares are DOUBLE percentages of
-- the index: of its members' traded value, and of its theoretical value at the close.
SELECT
    c.data_carteira AS data_pregao,
    c.indice,
    c.codigo AS codigo_negociacao,
    c.acao,
    c.tipo,
    c.segmento,
    c.qtd_teorica,
    c.participacao_pct,
    r.preco_abertura,
    r.preco_fechamento,
    r.preco_medio_ponderado,
    r.vol_financeiro_total,
    r.qtd_acoes_negociadas,
    r.numero_negocios,
    r.variacao_percentual_dia,
    CAST(c.qtd_teorica * r.preco_fechamento / r.fator_cotacao AS DECIMAL(38, 2)) AS valor_teorico,
    CAST(r.vol_financeiro_total AS DOUBLE) * 100
        / sum(CAST(r.vol_financeiro_total AS DOUBLE)) OVER (PARTITION BY c.indice) AS participacao_volume_pct,
    CAST(c.qtd_teorica * r.preco_fechamento / r.fator_cotacao AS DOUBLE) * 100
        / sum(CAST(c.qtd_teorica * r.preco_fechamento / r.fator_cotacao AS DOUBLE)) OVER (PARTITION BY c.indice)
        AS participacao_teorica_fechamento_pct,
    r.codigo_negociacao IS NOT NULL AS negociado
FROM carteira_dia c
LEFT JOIN refinado r ON r.codigo_negociacao = c.codigo AND r.data_pregao = c.data_carteira
