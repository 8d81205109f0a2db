-- The day's top gainers and losers among liquid spot tickers: close against the previous
-- trading day's close. Liquid: at least ${min_negocios} trades on the day.
-- b3lake sql -f queries/maiores_altas_baixas.sql --var day=2024-01-31 --var n=5
-- @set day = 2024-01-31
-- @set n = 5
-- @set min_negocios = 100
WITH dias AS (
    SELECT symbol, data_pregao, preco_fechamento, numero_negocios,
           lag(preco_fechamento) OVER (PARTITION BY symbol ORDER BY data_pregao) AS fechamento_anterior
    FROM cotacoes_b3_refined
    -- Ten calendar days back find the previous session across weekends and holidays.
    WHERE year * 10000 + month * 100 + day
          BETWEEN CAST(date_format(date_add('day', -10, DATE '${day}'), '%Y%m%d') AS INTEGER)
              AND CAST(date_format(DATE '${day}', '%Y%m%d') AS INTEGER)
),
variacao AS (
    SELECT symbol, fechamento_anterior, preco_fechamento,
           round(CAST((preco_fechamento - fechamento_anterior) * 100 / fechamento_anterior AS DOUBLE), 2) AS variacao_pct
    FROM dias
    WHERE data_pregao = DATE '${day}' AND fechamento_anterior > 0 AND numero_negocios >= ${min_negocios}
),
ranked AS (
    SELECT *, row_number() OVER (ORDER BY variacao_pct DESC, symbol) AS alta,
              row_number() OVER (ORDER BY variacao_pct ASC, symbol) AS baixa
    FROM variacao
)
SELECT if(alta <= ${n}, 'alta', 'baixa') AS lado, symbol, fechamento_anterior, preco_fechamento, variacao_pct
FROM ranked
WHERE alta <= ${n} OR baixa <= ${n}
ORDER BY variacao_pct DESC, symbol;
