-- C, date arithmetic and daily ratios: the refined table.
--
-- dia_semana is ISO (Monday = 1 .. Sunday = 7); dias_desde_inicio_ano is 0 on 1 January;
-- dias_ate_fim_ano is 0 on 31 December; eh_inicio_mes marks the first five days of a month;
-- dias_ate_vencimento is NULL without an expiry. Money stays DECIMAL; the two ratios are
-- DOUBLE. volatilidade_relativa compares the day's range with the average price in the same
-- unit as the quotes (per fator_cotacao shares).
SELECT
    data_pregao,
    codigo_negociacao,
    symbol,
    nome_empresa,
    fator_cotacao,
    preco_abertura,
    preco_fechamento,
    preco_maximo,
    preco_minimo,
    preco_medio_ponderado,
    vol_financeiro_total,
    qtd_acoes_negociadas,
    numero_negocios,
    registros_agregados,
    CAST((date_part('dow', data_pregao) + 6) % 7 + 1 AS INT) AS dia_semana,
    CAST(date_part('quarter', data_pregao) AS INT) AS trimestre,
    CAST(date_part('doy', data_pregao) - 1 AS INT) AS dias_desde_inicio_ano,
    CAST(date_part('doy', make_date(date_part('year', data_pregao), 12, 31)) - date_part('doy', data_pregao) AS INT)
        AS dias_ate_fim_ano,
    date_part('day', data_pregao) <= 5 AS eh_inicio_mes,
    data_vencimento,
    CAST(date_diff('day', data_pregao, data_vencimento) AS INT) AS dias_ate_vencimento,
    CAST(preco_fechamento - preco_abertura AS DOUBLE) / CAST(nullif(preco_abertura, 0) AS DOUBLE) * 100
        AS variacao_percentual_dia,
    CAST(preco_maximo - preco_minimo AS DOUBLE) / nullif(CAST(preco_medio_ponderado AS DOUBLE) * fator_cotacao, 0)
        AS volatilidade_relativa
FROM renomeado
