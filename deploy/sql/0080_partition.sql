-- The partition function of common/partition.h, in SQL, for the queries of
-- a partitioned risk instance (its daily rescoring selects only its own
-- debtors) and for operators and billing integrators checking a routing:
--     SELECT creance_partition('acme', 'D-0001', 2);   -- 0
-- FNV-1a, 32 bits, over the UTF-8 bytes of tenant, 0x1F, key; then mod n.
-- The product of a value below 2^32 and the prime (below 2^24) stays below
-- 2^56, so bigint arithmetic masked to 32 bits is exact.

CREATE FUNCTION creance_partition_hash(tenant text, key text) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    b bytea := convert_to(tenant, 'UTF8') || '\x1f'::bytea || convert_to(key, 'UTF8');
    h bigint := 2166136261;
BEGIN
    FOR i IN 0 .. length(b) - 1 LOOP
        h := ((h # get_byte(b, i)) * 16777619) & 4294967295;
    END LOOP;
    RETURN h;
END
$$;

CREATE FUNCTION creance_partition(tenant text, key text, n integer) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN n <= 1 THEN 0 ELSE (creance_partition_hash(tenant, key) % n)::integer END
$$;

-- Functions are executable by PUBLIC by default; said for the services'
-- role all the same, in case a deployment revokes PUBLIC's default.
GRANT EXECUTE ON FUNCTION creance_partition_hash(text, text) TO creance_app;
GRANT EXECUTE ON FUNCTION creance_partition(text, text, integer) TO creance_app;
