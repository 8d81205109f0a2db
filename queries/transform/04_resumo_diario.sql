-- The daily summary: one row per trading day of the refined table.
--
-- Advancers and decliners compare each ticker's close with its open (COTAHIST carries no
-- previous close). Ties for the top gainer or loser go to the first symbol in order.
SELECT
    data_pregao,
    count(*) AS numero_tickers,
    CAST(sum(vol_financeiro_total) AS DECIMAL(28, 2)) AS vol_financeiro_total,
    sum(qtd_acoes_negociadas) AS qtd_acoes_negociadas,
    sum(numero_negocios) AS numero_negocios,
    sum(CASE WHEN preco_fechamento > preco_abertura THEN 1 ELSE 0 END) AS altas,
    sum(CASE WHEN preco_fechamento < preco_abertura THEN 1 ELSE 0 END) AS baixas,
    sum(CASE WHEN preco_fechamento = preco_abertura THEN 1 ELSE 0 END) AS estaveis,
    first_value(symbol ORDER BY variacao_percentual_dia DESC NULLS LAST, symbol) AS maior_alta,
    max(variacao_percentual_dia) AS maior_alta_pct,
    first_value(symbol ORDER BY variacao_percentual_dia ASC NULLS LAST, symbol) AS maior_baixa,
    min(variacao_percentual_dia) AS maior_baixa_pct
FROM refinado
GROUP BY data_pregao
