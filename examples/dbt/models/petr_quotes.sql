-- Petrobras' tickers, every day of the raw table.
{{ config(materialized='view') }}
select codigo_negociacao, data_pregao, preco_ultimo_negocio, volume_total_negociado
from {{ source('b3', 'cotacoes_b3_raw') }}
where codigo_negociacao like 'PETR%'
