-- A ticker's daily history between two dates, with each day's VWAP (volume-weighted average
-- price) and the VWAP of the period so far.
-- b3lake sql -f queries/historico_ticker.sql --var symbol=PETR4 --var from=2024-01-01 --var to=2024-01-31
-- Defaults fit the lake `b3lake demo` builds; on B3 data pass e.g. --var symbol=PETR4.
-- @set symbol = RCBY3
-- @set from = 2024-01-01
-- @set to = 2024-01-31
SELECT data_pregao,
       preco_abertura,
       preco_maximo,
       preco_minimo,
       preco_fechamento,
       round(preco_medio_ponderado, 4) AS vwap_dia,
       -- Athena divides decimals at the larger scale of the two (here 2): widen the dividend.
       round(CAST(sum(vol_financeiro_total) OVER (ORDER BY data_pregao) AS DECIMAL(38, 8))
             / sum(qtd_acoes_negociadas) OVER (ORDER BY data_pregao), 4) AS vwap_periodo,
       qtd_acoes_negociadas,
       vol_financeiro_total
FROM cotacoes_b3_refined
WHERE symbol = '${symbol}'
  AND year * 10000 + month * 100 + day BETWEEN CAST(date_format(DATE '${from}', '%Y%m%d') AS INTEGER)
                                           AND CAST(date_format(DATE '${to}', '%Y%m%d') AS INTEGER)
ORDER BY data_pregao;
