-- Keeps spend_by_day (see migrations/0005) as orders are placed, change state or total, or go.
CREATE TRIGGER spend_by_day_insert AFTER INSERT ON orders
WHEN NEW.state <> 'rejected'
BEGIN
    INSERT INTO spend_by_day (buyer_id, currency, day, total_minor)
    VALUES (NEW.buyer_id, NEW.currency, NEW.created_at / 86400000, NEW.total_minor)
    ON CONFLICT (buyer_id, currency, day)
    DO UPDATE SET total_minor = spend_by_day.total_minor + excluded.total_minor;
END;

CREATE TRIGGER spend_by_day_update
AFTER UPDATE OF buyer_id, state, currency, total_minor, created_at ON orders
BEGIN
    UPDATE spend_by_day SET total_minor = total_minor - OLD.total_minor
    WHERE OLD.state <> 'rejected'
      AND buyer_id = OLD.buyer_id AND currency = OLD.currency
      AND day = OLD.created_at / 86400000;
    INSERT INTO spend_by_day (buyer_id, currency, day, total_minor)
    SELECT NEW.buyer_id, NEW.currency, NEW.created_at / 86400000, NEW.total_minor
    WHERE NEW.state <> 'rejected'
    ON CONFLICT (buyer_id, currency, day)
    DO UPDATE SET total_minor = spend_by_day.total_minor + excluded.total_minor;
END;

CREATE TRIGGER spend_by_day_delete AFTER DELETE ON orders
WHEN OLD.state <> 'rejected'
BEGIN
    UPDATE spend_by_day SET total_minor = total_minor - OLD.total_minor
    WHERE buyer_id = OLD.buyer_id AND currency = OLD.currency
      AND day = OLD.created_at / 86400000;
END;
