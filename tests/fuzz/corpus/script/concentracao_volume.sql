-- How concentrated a day's spot trading is: the share of traded value of the top 1, 5, 10
-- and 20 tickers, and the Herfindahl-Hirschman index (10,000 = one ticker trades it all).
-- b3lake sql -f queries/concentracao_volume.sql --var day=2022-02-04
-- @set day = 2022-02-04
WITH dia AS (
    SELECT symbol, vol_financeiro_total AS valor,
           sum(vol_financeiro_total) OVER () AS valor_total,
           row_number() OVER (ORDER BY vol_financeiro_total DESC, symbol) AS posicao
    FROM cotacoes_b3_refined
    WHERE year = year(DATE '${day}') AND month = month(DATE '${day}') AND day = day(DATE '${day}')
      AND vol_financeiro_total > 0
)
SELECT count(*) AS tickers,
       max(valor_total) AS valor_total,
       round(CAST(sum(if(posicao <= 1, valor, 0)) * 100 / max(valor_total) AS DOUBLE), 2) AS top1_pct,
       round(CAST(sum(if(posicao <= 5, valor, 0)) * 100 / max(valor_total) AS DOUBLE), 2) AS top5_pct,
       round(CAST(sum(if(posicao <= 10, valor, 0)) * 100 / max(valor_total) AS DOUBLE), 2) AS top10_pct,
       round(CAST(sum(if(posicao <= 20, valor, 0)) * 100 / max(valor_total) AS DOUBLE), 2) AS top20_pct,
       round(sum(power(CAST(valor AS DOUBLE) * 100 / CAST(valor_total AS DOUBLE), 2)), 1) AS hhi
FROM dia;
