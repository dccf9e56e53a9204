-- API tokens end: `expires_at` (milliseconds) is set for every token made from now on; tokens
-- made before it stay valid until revoked (NULL: no end), as their holders were promised.
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
CREATE INDEX api_tokens_user ON api_tokens (user_id);
