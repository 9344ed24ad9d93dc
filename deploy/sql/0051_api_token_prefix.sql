-- Tokens made by the operator API (POST /admin/v1/tenants/{id}/tokens on
-- reporting, `creance admin token create`) keep their first characters,
-- "ct_" and 8 of the random part, so that an operator can tell tokens apart
-- and revoke one without the token itself: 48 random bits of a 256-bit
-- token, not enough to guess the rest. Tokens made before keep ''.
ALTER TABLE api_tokens ADD COLUMN prefix text NOT NULL DEFAULT '';

-- Listing and revoking read the tokens of one tenant.
CREATE INDEX api_tokens_by_tenant ON api_tokens (tenant, created_at);
