-- A business unit removed by its company's admins: kept, so that the orders placed in it still
-- name it, but no longer in the directory that approval routing reads, nor offered for people
-- or new units. Only a unit without people, units under it and mention in the approval policy
-- is removed.
ALTER TABLE business_units ADD COLUMN removed_at BIGINT;
