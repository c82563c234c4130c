-- name: RateLimitTake :one
INSERT INTO rate_limit_counters (key, window_start, count)
VALUES (@key, @window_start, 1)
ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limit_counters.count + 1
RETURNING count;

-- name: RateLimitPurge :execrows
DELETE FROM rate_limit_counters WHERE window_start < @before;

-- RateLimitTakeMany counts one request against several keys of one window in one statement.
-- Callers pass the keys sorted, so that concurrent statements lock shared rows in one order.
-- name: RateLimitTakeMany :many
INSERT INTO rate_limit_counters (key, window_start, count)
SELECT k, @window_start, 1 FROM unnest(@keys::text[]) WITH ORDINALITY AS t(k, ord)
ORDER BY ord
ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limit_counters.count + 1
RETURNING key, count;
