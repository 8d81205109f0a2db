-- An index's members on a trading day, most traded first: B3's weight beside each member's
-- traded value and its share of the members' traded value. Needs the day's portfolio
-- (b3lake ingest-ibov) and quotes (b3lake ingest, then transform). Runs unchanged in Athena.
-- b3lake sql -f queries/membros_indice_por_valor.sql --var day=2022-12-08 --var indice=IBOV
-- @set day = 2022-12-08
-- @set indice = IBOV
SELECT row_number() OVER (ORDER BY vol_financeiro_total DESC NULLS LAST, codigo_negociacao) AS posicao,
       codigo_negociacao,
       acao,
       participacao_pct,
       vol_financeiro_total,
       round(participacao_volume_pct, 3) AS participacao_volume_pct,
       numero_negocios,
       preco_fechamento
FROM cotacoes_b3_membros_indice
WHERE year = year(DATE '${day}') AND month = month(DATE '${day}') AND day = day(DATE '${day}')
  AND indice = '${indice}'
ORDER BY posicao;
