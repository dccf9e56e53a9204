-- What each buyer spent per day (UTC) and currency, rejected orders aside. A spending limit
-- sums at most a year of days, however many orders the buyer placed. Triggers on `orders`
-- keep it, whichever code changes an order (they differ by database: see
-- migrations-sqlite/ and migrations-postgres/).
CREATE TABLE spend_by_day (
    buyer_id TEXT NOT NULL REFERENCES users (id),
    currency TEXT NOT NULL,
    -- Days since 1970-01-01 (UTC).
    day BIGINT NOT NULL,
    total_minor BIGINT NOT NULL,
    PRIMARY KEY (buyer_id, currency, day)
);

INSERT INTO spend_by_day (buyer_id, currency, day, total_minor)
SELECT buyer_id, currency, created_at / 86400000, SUM(total_minor)
FROM orders
WHERE state <> 'rejected'
GROUP BY buyer_id, currency, created_at / 86400000;
