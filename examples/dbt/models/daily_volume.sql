-- The spot market's traded value a day.
{{ config(materialized='table') }}
select data_pregao, count(*) as papeis, sum(volume_total_negociado) as volume
from {{ source('b3', 'cotacoes_b3_raw') }}
where tipo_mercado = 10
group by data_pregao
