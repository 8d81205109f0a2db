-- A ticker's closing price with its 20-session moving average, from the 20th session on.
-- The window starts 45 calendar days before `from`, so the first rows have a full average.
-- b3lake sql -f queries/media_movel_20.sql --var symbol=PETR4 --var from=2024-01-29 --var to=2024-01-31
-- Defaults fit the lake `b3lake demo` builds; on B3 data pass e.g. --var symbol=PETR4.
-- @set symbol = RCBY3
-- @set from = 2024-01-29
-- @set to = 2024-01-31
WITH fechamentos AS (
    SELECT data_pregao, preco_fechamento,
           -- Athena's avg of a decimal keeps its scale (cents): widen it for a 4-decimal mean.
           avg(CAST(preco_fechamento AS DECIMAL(18, 6))) OVER w AS media_20,
           count(*) OVER w AS sessoes
    FROM cotacoes_b3_refined
    WHERE symbol = '${symbol}'
      AND year * 10000 + month * 100 + day
          BETWEEN CAST(date_format(date_add('day', -45, DATE '${from}'), '%Y%m%d') AS INTEGER)
              AND CAST(date_format(DATE '${to}', '%Y%m%d') AS INTEGER)
    WINDOW w AS (ORDER BY data_pregao ROWS BETWEEN 19 PRECEDING AND CURRENT ROW)
)
SELECT data_pregao, preco_fechamento, round(media_20, 4) AS media_movel_20,
       round(CAST((preco_fechamento - media_20) * 100 / media_20 AS DOUBLE), 2) AS distancia_pct
FROM fechamentos
WHERE sessoes = 20 AND data_pregao BETWEEN DATE '${from}' AND DATE '${to}'
ORDER BY data_pregao;
