-- B, renames: the refined table's names, as analysts read them.
--
--   volume_total_agregado   -> vol_financeiro_total   (R$, exact)
--   quantidade_total_papeis -> qtd_acoes_negociadas   (shares)
--   numero_negocios_total   -> numero_negocios        (trades)
--   codigo_negociacao       -> symbol as well, the partition key of the refined table
SELECT
    data_pregao,
    codigo_negociacao,
    codigo_negociacao AS symbol,
    nome_empresa,
    fator_cotacao,
    data_vencimento,
    preco_abertura,
    preco_fechamento,
    preco_maximo,
    preco_minimo,
    preco_medio_ponderado,
    volume_total_agregado AS vol_financeiro_total,
    quantidade_total_papeis AS qtd_acoes_negociadas,
    numero_negocios_total AS numero_negocios,
    registros_agregados
FROM agregado
