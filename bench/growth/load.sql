-- bench/growth/run: one statement writing messages :lo..:hi of :total as finished mail of
-- :tenants tenants spread evenly over the 30 days from :start_ms (Unix ms), and their events.
-- One in five is a single send, the rest bulk in batches of about 1,000 per tenant; 2 % failed,
-- 1 % bounced, 5 % delivered, the rest sent. Events: `delivered` for half of those that went
-- out, `opened` for a tenth, `bounced` for each bounce.
WITH g AS (
    SELECT i, gt.tenant_id, gt.provider_account_id,
           :start_ms::bigint + i * 2592000000 / :total AS ms,
           random() AS r, i % 5 = 0 AS single
    FROM generate_series(:lo::bigint, :hi::bigint) i JOIN growth_tenants gt ON gt.n = i % :tenants
), m AS (
    INSERT INTO messages (id, tenant_id, status, priority, content, attempts, next_attempt_at, enqueued_at,
                          provider_account_id, provider_message_id, last_error, created_at, updated_at, sent_at,
                          body_key, batch_id)
    SELECT growth_uuid7(g.ms), g.tenant_id, s.status, t.priority, t.content, 1, c.at, c.at,
           CASE WHEN s.status <> 'failed' THEN g.provider_account_id END,
           CASE WHEN s.status <> 'failed' THEN md5(g.i::text) END,
           CASE WHEN s.status = 'failed' THEN 'provider rejected the message: 550 5.1.1 mailbox unavailable' END,
           c.at,
           c.at + CASE s.status WHEN 'sent' THEN interval '2 seconds' WHEN 'failed' THEN interval '40 minutes' ELSE interval '5 minutes' END,
           CASE WHEN s.status <> 'failed' THEN c.at + interval '2 seconds' END,
           t.body_key,
           CASE WHEN NOT g.single THEN md5(g.tenant_id::text || (g.i / (1000 * :tenants))) END
    FROM g
    CROSS JOIN LATERAL (SELECT to_timestamp(g.ms / 1000.0) AS at) c
    CROSS JOIN LATERAL (SELECT CASE WHEN g.r < 0.02 THEN 'failed' WHEN g.r < 0.03 THEN 'bounced'
                                    WHEN g.r < 0.08 THEN 'delivered' ELSE 'sent' END AS status) s
    JOIN growth_templates t ON t.kind = CASE WHEN g.single THEN 'single' ELSE 'bulk' END
    RETURNING id, tenant_id, status, sent_at
)
INSERT INTO events (tenant_id, message_id, type, detail, occurred_at)
SELECT m.tenant_id, m.id, e.type, '{}'::jsonb, m.sent_at + e.after
FROM m CROSS JOIN (VALUES ('delivered', interval '3 seconds', 0.5), ('opened', interval '20 minutes', 0.1),
                          ('bounced', interval '5 minutes', 1.0)) e (type, after, share)
WHERE m.sent_at IS NOT NULL
  AND CASE WHEN e.type = 'bounced' THEN m.status = 'bounced' ELSE m.status <> 'bounced' AND random() < e.share END;
