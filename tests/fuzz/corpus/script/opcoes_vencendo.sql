-- Options traded on a day that expire within ${days} days, with their underlying's close
-- that day. B3 codes an option by its underlying's four-letter root and carries the
-- underlying's share class in especificacao_papel (PETRB35 -> PETR4, "PN N2").
-- b3lake sql -f queries/opcoes_vencendo.sql --var day=2022-02-04 --var days=30
-- @set day = 2022-02-04
-- @set days = 30
-- @set n = 20
WITH pregao AS (
    SELECT *
    FROM cotacoes_b3_raw
    WHERE year = year(DATE '${day}') AND month = month(DATE '${day}') AND day = day(DATE '${day}')
),
opcoes AS (
    SELECT codigo_negociacao AS opcao,
           if(tipo_mercado = 70, 'call', 'put') AS tipo,
           substr(codigo_negociacao, 1, 4) AS raiz,
           trim(especificacao_papel) AS especificacao,
           preco_exercicio, data_vencimento, preco_ultimo_negocio AS premio, volume_total_negociado
    FROM pregao
    WHERE tipo_mercado IN (70, 80)
      AND data_vencimento BETWEEN DATE '${day}' AND date_add('day', ${days}, DATE '${day}')
),
ativos AS (
    SELECT codigo_negociacao AS ativo, substr(codigo_negociacao, 1, 4) AS raiz,
           trim(especificacao_papel) AS especificacao, preco_ultimo_negocio AS preco_ativo,
           row_number() OVER (PARTITION BY substr(codigo_negociacao, 1, 4), trim(especificacao_papel)
                              ORDER BY volume_total_negociado DESC) AS r
    FROM pregao
    WHERE tipo_mercado = 10 AND codigo_bdi = '02'
)
SELECT o.opcao, o.tipo, a.ativo, a.preco_ativo, o.preco_exercicio, o.premio,
       o.data_vencimento, date_diff('day', DATE '${day}', o.data_vencimento) AS dias_ate_vencimento,
       o.volume_total_negociado
FROM opcoes o
LEFT JOIN ativos a ON a.raiz = o.raiz AND a.especificacao = o.especificacao AND a.r = 1
ORDER BY o.volume_total_negociado DESC, o.opcao
LIMIT ${n};
