-- bench/growth/run: what the loading statements (load.sql) read. Templates are a row each of
-- the empty run's bulk and single-send tenants, so content, body and priority are the API's own.
CREATE FUNCTION growth_uuid7(ms bigint) RETURNS uuid LANGUAGE sql VOLATILE AS $$
    -- UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, version 7, 12 random bits, variant 10,
    -- 62 random bits; time-ordered like the ids the API makes.
    SELECT (lpad(to_hex(ms), 12, '0') || '7' || lpad(to_hex((random() * 4095)::int), 3, '0')
            || to_hex(8 + (random() * 3)::int) || lpad(to_hex((random() * 4095)::int), 3, '0')
            || lpad(to_hex((random() * 281474976710655)::bigint), 12, '0'))::uuid
$$;

-- The ids must sort by time and carry the version and variant: checked before any row is written.
DO $$
DECLARE disorder bigint; malformed bigint;
BEGIN
    SELECT count(*) FILTER (WHERE prev > ms), count(*) FILTER (WHERE substr(id::text, 15, 1) <> '7' OR substr(id::text, 20, 1) NOT IN ('8', '9', 'a', 'b'))
    INTO disorder, malformed
    FROM (SELECT ms, id, lag(ms) OVER (ORDER BY id) AS prev
          FROM (SELECT 1700000000000 + k * 3 AS ms, growth_uuid7(1700000000000 + k * 3) AS id FROM generate_series(0, 99999) k) s) o;
    IF disorder > 0 OR malformed > 0 THEN
        RAISE EXCEPTION 'growth_uuid7: % ids out of time order, % without version 7 and variant 10', disorder, malformed;
    END IF;
END $$;

CREATE TABLE growth_tenants (n int PRIMARY KEY, tenant_id uuid NOT NULL, provider_account_id uuid);

CREATE TABLE growth_templates AS
    (SELECT 'bulk' AS kind, tenant_id, priority, content, body_key FROM messages
     WHERE tenant_id = :'bulk_tenant' AND status = 'sent' LIMIT 1)
    UNION ALL
    (SELECT 'single', tenant_id, priority, content, body_key FROM messages
     WHERE tenant_id = :'single_tenant' AND status = 'sent' LIMIT 1);

DO $$
BEGIN
    IF (SELECT count(*) FROM growth_templates) <> 2 THEN
        RAISE EXCEPTION 'growth_templates: the empty run left no sent bulk and single-send rows to copy';
    END IF;
END $$;
