-- @set day = 2022-02-04
SELECT 1; SELECT 'a;b' /* ; */ FROM t WHERE d = DATE '${day}'
