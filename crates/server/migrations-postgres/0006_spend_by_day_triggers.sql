-- Keeps spend_by_day (see migrations/0005) as orders are placed, change state or total, or go.
CREATE FUNCTION spend_by_day_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        IF OLD.state <> 'rejected' THEN
            UPDATE spend_by_day SET total_minor = total_minor - OLD.total_minor
            WHERE buyer_id = OLD.buyer_id AND currency = OLD.currency
              AND day = OLD.created_at / 86400000;
        END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        IF NEW.state <> 'rejected' THEN
            INSERT INTO spend_by_day (buyer_id, currency, day, total_minor)
            VALUES (NEW.buyer_id, NEW.currency, NEW.created_at / 86400000, NEW.total_minor)
            ON CONFLICT (buyer_id, currency, day)
            DO UPDATE SET total_minor = spend_by_day.total_minor + EXCLUDED.total_minor;
        END IF;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER spend_by_day_keep
AFTER INSERT OR DELETE OR UPDATE OF buyer_id, state, currency, total_minor, created_at ON orders
FOR EACH ROW EXECUTE FUNCTION spend_by_day_keep();
