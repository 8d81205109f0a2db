-- Traded value per ticker and month of a year, with the ticker's rank in the month; the
-- ${n} largest of each month.
-- b3lake sql -f queries/valor_mensal_por_ticker.sql --var year=2024 --var n=10
-- @set year = 2024
-- @set n = 10
WITH mensal AS (
    SELECT year AS ano, month AS mes, symbol,
           count(*) AS pregoes,
           sum(numero_negocios) AS negocios,
           sum(vol_financeiro_total) AS valor_negociado
    FROM cotacoes_b3_refined
    WHERE year = ${year}
    GROUP BY year, month, symbol
)
SELECT ano, mes, posicao, symbol, pregoes, negocios, valor_negociado
FROM (SELECT *, row_number() OVER (PARTITION BY ano, mes ORDER BY valor_negociado DESC, symbol) AS posicao FROM mensal) m
WHERE posicao <= ${n}
ORDER BY ano, mes, posicao;
