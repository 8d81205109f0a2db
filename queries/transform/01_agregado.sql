-- A, aggregation: one row per trading day and ticker.
--
-- Reads `raw_dia`, the day's raw records that the job's filter selects (by default the spot
-- market, tipo_mercado = 10). A ticker usually has one record a day; when the filter selects
-- several (other markets, other terms), the sums add them up and the open and close come from
-- the record with the most trades.
--
-- Prices are quoted per `fator_cotacao` shares (1, or 1000 for some old or cheap papers); the
-- volume-weighted average `preco_medio_ponderado` is per share: traded value over shares traded.
SELECT
    data_pregao,
    codigo_negociacao,
    nome_empresa,
    max(fator_cotacao) AS fator_cotacao,
    min(data_vencimento) AS data_vencimento,
    first_value(preco_abertura ORDER BY numero_negocios DESC, quantidade_papeis_negociados DESC) AS preco_abertura,
    first_value(preco_ultimo_negocio ORDER BY numero_negocios DESC, quantidade_papeis_negociados DESC) AS preco_fechamento,
    max(preco_maximo) AS preco_maximo,
    min(preco_minimo) AS preco_minimo,
    -- Ten decimals in the dividend keep fourteen in the quotient, rounded to eight here.
    CAST(CAST(sum(volume_total_negociado) AS DECIMAL(34, 10))
         / CAST(nullif(sum(quantidade_papeis_negociados), 0) AS DECIMAL(20, 0)) AS DECIMAL(28, 8)) AS preco_medio_ponderado,
    CAST(sum(volume_total_negociado) AS DECIMAL(28, 2)) AS volume_total_agregado,
    sum(quantidade_papeis_negociados) AS quantidade_total_papeis,
    sum(CAST(numero_negocios AS BIGINT)) AS numero_negocios_total,
    count(*) AS registros_agregados
FROM raw_dia
GROUP BY data_pregao, codigo_negociacao, nome_empresa
