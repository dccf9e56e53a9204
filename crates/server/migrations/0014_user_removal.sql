-- A user removed by their company's admins: kept, so that their orders, decisions and history
-- still name them, but no longer able to log in or act (their roles, sessions and API tokens
-- are deleted when they are removed), and no longer in the directory that approval routing
-- reads.
ALTER TABLE users ADD COLUMN removed_at BIGINT;
