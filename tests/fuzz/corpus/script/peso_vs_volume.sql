-- Weight against traded value: does each index member trade in proportion to its weight?
-- giro_relativo is the member's share of the index members' traded value over its weight in
-- the index (1: in proportion; 2: twice its weight). correlacao, on every row, is the Pearson
-- correlation of the two shares over the members that traded. Runs unchanged in Athena.
-- b3lake sql -f queries/peso_vs_volume.sql --var day=2022-12-08 --var indice=IBOV
-- @set day = 2022-12-08
-- @set indice = IBOV
SELECT codigo_negociacao,
       segmento,
       participacao_pct,
       round(participacao_volume_pct, 3) AS participacao_volume_pct,
       round(participacao_volume_pct / CAST(participacao_pct AS DOUBLE), 2) AS giro_relativo,
       round(corr(CAST(participacao_pct AS DOUBLE), participacao_volume_pct) OVER (), 4) AS correlacao
FROM cotacoes_b3_membros_indice
WHERE year = year(DATE '${day}') AND month = month(DATE '${day}') AND day = day(DATE '${day}')
  AND indice = '${indice}' AND negociado AND participacao_pct > 0
ORDER BY giro_relativo DESC, codigo_negociacao;
