-- The latest trading session of every ticker: one row each, as the refined table has it.
-- Runs unchanged in Athena (CREATE OR REPLACE VIEW) and in b3lake.
CREATE OR REPLACE VIEW cotacoes_b3_ultima_sessao AS
SELECT r.*
FROM cotacoes_b3_refined r
JOIN (
  SELECT codigo_negociacao, max(data_pregao) AS ultima_data
  FROM cotacoes_b3_refined
  GROUP BY codigo_negociacao
) u
  ON r.codigo_negociacao = u.codigo_negociacao AND r.data_pregao = u.ultima_data
