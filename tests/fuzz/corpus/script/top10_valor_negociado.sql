-- The ten most traded spot tickers of a trading day, by traded value (BRL).
-- The partition filters (year, month, day) make it read one day's files.
-- Runs unchanged in Athena. b3lake sql -f queries/top10_valor_negociado.sql --var day=2022-02-04
-- @set day = 2022-02-04
SELECT symbol,
       nome_empresa,
       preco_abertura,
       preco_fechamento,
       preco_medio_ponderado,
       numero_negocios,
       vol_financeiro_total,
       round(variacao_percentual_dia, 2) AS variacao_pct
FROM cotacoes_b3_refined
WHERE year = year(DATE '${day}') AND month = month(DATE '${day}') AND day = day(DATE '${day}')
ORDER BY vol_financeiro_total DESC
LIMIT 10;
