-- Shared fixed-window request counters for the rate limiter when several server processes share
-- one database. UNLOGGED: losing counts on a crash only resets windows early.
CREATE UNLOGGED TABLE rate_limit_counters (
    key          text        NOT NULL,
    window_start timestamptz NOT NULL,
    count        bigint      NOT NULL DEFAULT 0,
    PRIMARY KEY (key, window_start)
);
CREATE INDEX rate_limit_counters_window_idx ON rate_limit_counters (window_start);
