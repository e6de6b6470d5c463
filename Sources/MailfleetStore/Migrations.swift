import Foundation
import MailfleetCore
import MailfleetPostgres

/// The schema, as an ordered list of migrations. Append only: never edit a released one.
public enum Migrations {
    /// One schema change.
    public struct Migration: Sendable {
        /// Applied in ascending order; recorded in `schema_migrations`.
        public let version: Int
        /// A short name for logs.
        public let name: String
        /// The SQL, run in one transaction.
        public let sql: String
        /// Indexes built after `sql` with `CREATE INDEX CONCURRENTLY`, one at a time outside any
        /// transaction, so the live fleet keeps reading and writing a large table meanwhile (not
        /// on a partitioned table, `messages` or `events`: Postgres builds those only in one
        /// go; build each partition's concurrently and then the parent's instead). The
        /// version is recorded only after the last one, so a migration that has some must have
        /// `sql` that is safe to run again (`IF NOT EXISTS`): an interrupted run repeats it.
        public let indexes: [Index]

        /// A migration; `indexes` are built concurrently after `sql`.
        public init(version: Int, name: String, sql: String, indexes: [Index] = []) {
            self.version = version
            self.name = name
            self.sql = sql
            self.indexes = indexes
        }
    }

    /// An index a migration builds concurrently.
    public struct Index: Sendable {
        /// Its name (unqualified; the schema is the search path's).
        public let name: String
        /// Whether it is a unique index.
        public let unique: Bool
        /// What follows the name: `ON table (columns) [WHERE ...]`.
        public let definition: String

        /// An index `name` `definition`.
        public init(_ name: String, unique: Bool = false, _ definition: String) {
            self.name = name
            self.unique = unique
            self.definition = definition
        }
    }

    /// Every migration in order.
    public static let all: [Migration] = [
        Migration(version: 1, name: "initial schema", sql: """
            CREATE TABLE tenants (
                id uuid PRIMARY KEY,
                name text NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE TABLE api_keys (
                id text PRIMARY KEY,
                tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                key_hash text NOT NULL,
                scopes text[] NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                revoked_at timestamptz,
                last_used_at timestamptz
            );
            CREATE INDEX api_keys_tenant ON api_keys (tenant_id);
            CREATE TABLE provider_accounts (
                id uuid PRIMARY KEY,
                tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                name text NOT NULL,
                kind text NOT NULL,
                endpoint text,
                priority int NOT NULL DEFAULT 100,
                secret text,
                created_at timestamptz NOT NULL DEFAULT now(),
                UNIQUE (tenant_id, name)
            );
            CREATE TABLE messages (
                id uuid PRIMARY KEY,
                tenant_id uuid NOT NULL REFERENCES tenants(id),
                status text NOT NULL,
                priority text NOT NULL,
                content json NOT NULL,
                attempts int NOT NULL DEFAULT 0,
                send_at timestamptz,
                next_attempt_at timestamptz NOT NULL DEFAULT now(),
                enqueued_at timestamptz NOT NULL DEFAULT now(),
                lease_until timestamptz,
                provider_account_id uuid,
                provider_message_id text,
                last_error text,
                created_at timestamptz NOT NULL DEFAULT now(),
                updated_at timestamptz NOT NULL DEFAULT now(),
                sent_at timestamptz
            );
            CREATE INDEX messages_tenant_created ON messages (tenant_id, created_at DESC);
            CREATE INDEX messages_unfinished ON messages (enqueued_at) WHERE status IN ('queued', 'sending');
            CREATE TABLE events (
                id bigserial PRIMARY KEY,
                tenant_id uuid NOT NULL,
                message_id uuid NOT NULL,
                type text NOT NULL,
                detail jsonb NOT NULL DEFAULT '{}',
                occurred_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX events_message ON events (message_id, occurred_at);
            CREATE TABLE idempotency_keys (
                tenant_id uuid NOT NULL,
                key text NOT NULL,
                request_hash text NOT NULL,
                status int NOT NULL,
                response text NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (tenant_id, key)
            );
            """),
        // Version 2: API hardening. A key's `revoked_at` may lie in the future (a rotation's
        // grace period); the key works until then. `tenants.api_rate_limit` is requests per
        // minute for the API, NULL meaning the configured default.
        Migration(version: 2, name: "api keys, audit log, rate limits, templates, suppressions, row-level security", sql: """
            ALTER TABLE tenants ADD COLUMN api_rate_limit int CHECK (api_rate_limit > 0);
            CREATE TABLE audit_log (
                id bigserial PRIMARY KEY,
                tenant_id uuid,
                actor text NOT NULL,
                action text NOT NULL,
                target text,
                detail jsonb NOT NULL DEFAULT '{}',
                occurred_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX audit_log_tenant ON audit_log (tenant_id, occurred_at);
            CREATE TABLE templates (
                id uuid PRIMARY KEY,
                tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                name text NOT NULL,
                latest_version int NOT NULL DEFAULT 1,
                created_at timestamptz NOT NULL DEFAULT now(),
                updated_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX templates_tenant ON templates (tenant_id, created_at);
            CREATE TABLE template_versions (
                template_id uuid NOT NULL REFERENCES templates(id) ON DELETE CASCADE,
                tenant_id uuid NOT NULL,
                version int NOT NULL,
                subject text NOT NULL,
                text_body text,
                html_body text,
                created_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (template_id, version)
            );
            CREATE TABLE suppressions (
                tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                email text NOT NULL,
                reason text NOT NULL DEFAULT 'manual',
                created_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (tenant_id, email)
            );

            -- Row-level security, the second wall behind the tenant filter in every query.
            -- Tenant-scoped API statements run as mailfleet_tenant (SET LOCAL ROLE inside their
            -- transaction) with mailfleet.tenant_id set; table owners and superusers bypass RLS,
            -- which is what the worker, scheduler, tracker and group commit rely on.
            DO $$
            BEGIN
                IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mailfleet_tenant') THEN
                    CREATE ROLE mailfleet_tenant NOLOGIN NOBYPASSRLS;
                END IF;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL; -- another database of this cluster created it at the same moment
            END $$;
            DO $$
            BEGIN
                IF NOT pg_has_role(current_user, 'mailfleet_tenant', 'MEMBER') THEN
                    EXECUTE format('GRANT mailfleet_tenant TO %I', current_user);
                END IF;
            END $$;
            GRANT SELECT, INSERT, UPDATE, DELETE ON messages, events, templates, template_versions, suppressions, api_keys
                TO mailfleet_tenant;
            ALTER TABLE messages ENABLE ROW LEVEL SECURITY;
            ALTER TABLE events ENABLE ROW LEVEL SECURITY;
            ALTER TABLE templates ENABLE ROW LEVEL SECURITY;
            ALTER TABLE template_versions ENABLE ROW LEVEL SECURITY;
            ALTER TABLE suppressions ENABLE ROW LEVEL SECURITY;
            ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
            CREATE POLICY tenant_rows ON messages TO mailfleet_tenant
                USING (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid)
                WITH CHECK (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid);
            CREATE POLICY tenant_rows ON events TO mailfleet_tenant
                USING (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid)
                WITH CHECK (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid);
            CREATE POLICY tenant_rows ON templates TO mailfleet_tenant
                USING (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid)
                WITH CHECK (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid);
            CREATE POLICY tenant_rows ON template_versions TO mailfleet_tenant
                USING (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid)
                WITH CHECK (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid);
            CREATE POLICY tenant_rows ON suppressions TO mailfleet_tenant
                USING (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid)
                WITH CHECK (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid);
            CREATE POLICY tenant_rows ON api_keys TO mailfleet_tenant
                USING (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid)
                WITH CHECK (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid);
            """),
        // Version 3: provider account settings (Mailgun domain, SES region, SMTP options).
        Migration(version: 3, name: "provider account config", sql: """
            ALTER TABLE provider_accounts ADD COLUMN config jsonb NOT NULL DEFAULT '{}';
            """),
        // Version 4: bodies stored once. A message row keeps its envelope in `content` and the
        // key of its body (text, HTML, attachments) in `body_key`; the body itself is a row of
        // `message_bodies`, shared by every message of the tenant with the same body. Rows
        // written before (body_key NULL) keep the whole content and are read as before.
        Migration(version: 4, name: "message bodies stored once per tenant", sql: """
            CREATE TABLE message_bodies (
                tenant_id uuid NOT NULL,
                key text NOT NULL,
                content json NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (tenant_id, key)
            );
            ALTER TABLE messages ADD COLUMN body_key text;
            GRANT SELECT, INSERT ON message_bodies TO mailfleet_tenant;
            ALTER TABLE message_bodies ENABLE ROW LEVEL SECURITY;
            CREATE POLICY tenant_rows ON message_bodies TO mailfleet_tenant
                USING (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid)
                WITH CHECK (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid);
            """),
        // Version 5: Postgres is the dead-letter record. A failed row is not updated again
        // until it is re-driven, so `updated_at` is when it failed: one partial index serves
        // the CLI's listing by failure time, the retention purge and the dead-letter count; one
        // serves a tenant's `GET /v1/messages?status=failed`. Both hold failed rows only, so
        // the hot path's inserts never touch them. A re-drive through the API runs under row-level
        // security and writes its event and audit entry there: the tenant role may insert both
        // (the sequences too), and sees only its own tenant's audit entries.
        Migration(version: 5, name: "dead letters: failed-row indexes, tenant-scoped redrive", sql: """
            CREATE INDEX messages_failed ON messages (updated_at) WHERE status = 'failed';
            CREATE INDEX messages_tenant_failed ON messages (tenant_id, created_at DESC, id DESC) WHERE status = 'failed';
            GRANT INSERT ON audit_log TO mailfleet_tenant;
            GRANT USAGE ON SEQUENCE events_id_seq, audit_log_id_seq TO mailfleet_tenant;
            ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
            CREATE POLICY tenant_rows ON audit_log TO mailfleet_tenant
                USING (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid)
                WITH CHECK (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid);
            """),
        // A re-driven message's maximum age counts from its re-drive (`Message.retryAgeOrigin`).
        // Nullable with no default: adding it rewrites no row.
        Migration(version: 6, name: "re-drive time, where a re-driven message's retry age starts", sql: """
            ALTER TABLE messages ADD COLUMN redriven_at timestamptz;
            """),
        // Version 7: provider webhooks (docs/TRACKING.md). Each account's webhook secret (SendGrid's
        // verification key, Mailgun's signing key, Postmark's basic-auth password). A provider
        // event is stored once: its account and the provider's event id are unique together.
        // Messages are found by the provider's id when an event lacks ours; a tenant's events
        // are listed newest first (GET /v1/events). A suppression names the event that caused it.
        // The columns are metadata-only changes; the indexes on events and messages, the two
        // largest tables, are built concurrently so sending goes on while they build.
        Migration(version: 7, name: "provider webhooks: secrets, event dedup, event listing, suppression causes", sql: """
            ALTER TABLE provider_accounts ADD COLUMN IF NOT EXISTS webhook_secret text;
            ALTER TABLE events ADD COLUMN IF NOT EXISTS provider_account_id uuid, ADD COLUMN IF NOT EXISTS provider_event_id text;
            ALTER TABLE suppressions ADD COLUMN IF NOT EXISTS event_id bigint;
            """, indexes: [
                Index("events_provider_event", unique: true, "ON events (provider_account_id, provider_event_id) WHERE provider_event_id IS NOT NULL"),
                Index("events_tenant_time", "ON events (tenant_id, occurred_at DESC, id DESC)"),
                Index("messages_provider_message", "ON messages (tenant_id, provider_message_id) WHERE provider_message_id IS NOT NULL"),
            ]),
        // Version 8: a tenant's tracking host and one-click unsubscribe settings (docs/UNSUBSCRIBE.md).
        // Nullable or defaulted columns: adding them rewrites no row.
        Migration(version: 8, name: "tenant tracking host and one-click unsubscribe settings", sql: """
            ALTER TABLE tenants ADD COLUMN tracking_host text;
            ALTER TABLE tenants ADD COLUMN unsubscribe_mailto text;
            ALTER TABLE tenants ADD COLUMN unsubscribe_transactional boolean NOT NULL DEFAULT false;
            """),
        // Version 9: sender health (docs/TRACKING.md). Per-minute counters per tenant and From
        // domain, written with the outcomes and events they count; `slot` spreads concurrent
        // writers of one minute over a few rows so they do not queue on one row lock. Pauses of
        // bulk mail stay as rows after a resume: the resume time restarts the evaluation.
        Migration(version: 9, name: "sender health counters and bulk pauses", sql: """
            CREATE TABLE sender_health (
                tenant_id uuid NOT NULL,
                domain text NOT NULL,
                minute int NOT NULL,
                slot smallint NOT NULL,
                sent int NOT NULL DEFAULT 0,
                delivered int NOT NULL DEFAULT 0,
                hard_bounced int NOT NULL DEFAULT 0,
                soft_bounced int NOT NULL DEFAULT 0,
                complained int NOT NULL DEFAULT 0,
                PRIMARY KEY (tenant_id, domain, minute, slot)
            );
            CREATE INDEX sender_health_minute ON sender_health (minute);
            CREATE TABLE bulk_pauses (
                tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                domain text NOT NULL,
                reason text NOT NULL,
                paused_at timestamptz NOT NULL DEFAULT now(),
                resumed_at timestamptz,
                resumed_by text,
                PRIMARY KEY (tenant_id, domain)
            );
            GRANT SELECT ON sender_health TO mailfleet_tenant;
            GRANT SELECT, UPDATE ON bulk_pauses TO mailfleet_tenant;
            ALTER TABLE sender_health ENABLE ROW LEVEL SECURITY;
            ALTER TABLE bulk_pauses ENABLE ROW LEVEL SECURITY;
            CREATE POLICY tenant_rows ON sender_health TO mailfleet_tenant
                USING (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid)
                WITH CHECK (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid);
            CREATE POLICY tenant_rows ON bulk_pauses TO mailfleet_tenant
                USING (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid)
                WITH CHECK (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid);
            """),
        // Version 10: time held (waiting for an account, a pause or a limit, no attempt made)
        // does not count toward the retry policy's maximum age (`Message.retryAge(at:)`).
        // A constant default and a nullable column: adding them rewrites no row.
        Migration(version: 10, name: "time held apart from retry age", sql: """
            ALTER TABLE messages ADD COLUMN held_seconds double precision NOT NULL DEFAULT 0;
            ALTER TABLE messages ADD COLUMN held_since timestamptz;
            """),
        // Version 11: quotas and cancellation (docs/FLOW.md). A tenant's daily and monthly
        // message quotas (NULL: unlimited); `tenant_usage` counts accepted messages per UTC
        // period, written in the accept statement: a limited tenant's in slot 0 under its row
        // lock, an unlimited tenant's spread over slots 1-7 so its concurrent commits do not
        // queue on one row. A message's tenant-chosen `batch_id`, found per tenant by a batch
        // cancel; the index holds only rows that have one and is built concurrently.
        Migration(version: 11, name: "tenant quotas and usage, message batch ids", sql: """
            ALTER TABLE tenants ADD COLUMN IF NOT EXISTS daily_quota bigint CHECK (daily_quota > 0);
            ALTER TABLE tenants ADD COLUMN IF NOT EXISTS monthly_quota bigint CHECK (monthly_quota > 0);
            CREATE TABLE IF NOT EXISTS tenant_usage (
                tenant_id uuid NOT NULL,
                period text NOT NULL,
                period_start date NOT NULL,
                slot smallint NOT NULL,
                count bigint NOT NULL DEFAULT 0,
                PRIMARY KEY (tenant_id, period, period_start, slot)
            );
            ALTER TABLE messages ADD COLUMN IF NOT EXISTS batch_id text;
            """, indexes: [
                Index("messages_tenant_batch", "ON messages (tenant_id, batch_id) WHERE batch_id IS NOT NULL"),
            ]),
        // Version 12: a tenant's weight in the fair share of each queue lane (docs/FLOW.md).
        // 1 is everyone's default; the scheduler publishes the others to Redis.
        Migration(version: 12, name: "fair-share weight per tenant", sql: """
            ALTER TABLE tenants ADD COLUMN send_weight int NOT NULL DEFAULT 1 CHECK (send_weight BETWEEN 1 AND 1000);
            """),
        // Version 13: send limits and warm-up (docs/FLOW.md). A tenant's messages per second and
        // its caps per mailbox provider (nullable or defaulted columns: no row rewritten); the
        // sending domains warming up, with their start day and schedule (NULL: the default ramp).
        // The day counts live in Redis.
        Migration(version: 13, name: "tenant send limits and sending-domain warm-up", sql: """
            ALTER TABLE tenants ADD COLUMN send_messages_per_second int CHECK (send_messages_per_second >= 1);
            ALTER TABLE tenants ADD COLUMN mailbox_rates jsonb NOT NULL DEFAULT '{}';
            CREATE TABLE warmup_domains (
                tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                domain text NOT NULL,
                started_on date NOT NULL,
                schedule text,
                created_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (tenant_id, domain)
            );
            GRANT SELECT ON warmup_domains TO mailfleet_tenant;
            ALTER TABLE warmup_domains ENABLE ROW LEVEL SECURITY;
            CREATE POLICY tenant_rows ON warmup_domains TO mailfleet_tenant
                USING (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid);
            """),
        // Version 14: webhooks out to tenants (docs/WEBHOOKS.md). An endpoint's deliveries are made durable
        // in the transaction that stores the event: a statement-level trigger on `events` inserts
        // one delivery per matching enabled endpoint, whichever process wrote the events (one
        // join per statement). Dispatchers claim due deliveries with `FOR UPDATE SKIP LOCKED`,
        // moving `next_attempt_at` to the end of their lease, so a dead replica's claims fall due
        // again; `held` deliveries wait for a disabled endpoint's re-enabling.
        // The tenant role reads and writes its own endpoints, deliveries and attempts (the API),
        // and its event inserts fire the trigger under row-level security like the rest.
        Migration(version: 14, name: "webhook endpoints, deliveries and attempts", sql: """
            CREATE TABLE webhook_endpoints (
                id uuid PRIMARY KEY,
                tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                url text NOT NULL,
                event_types text[] NOT NULL DEFAULT '{}',
                enabled boolean NOT NULL DEFAULT true,
                batch boolean NOT NULL DEFAULT false,
                secret text NOT NULL,
                previous_secret text,
                previous_secret_expires_at timestamptz,
                failing_since timestamptz,
                disabled_reason text,
                disabled_at timestamptz,
                created_at timestamptz NOT NULL DEFAULT now(),
                updated_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX webhook_endpoints_tenant ON webhook_endpoints (tenant_id, created_at, id);
            CREATE TABLE webhook_deliveries (
                id bigserial PRIMARY KEY,
                endpoint_id uuid NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
                tenant_id uuid NOT NULL,
                event_id bigint NOT NULL,
                state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'held', 'delivered', 'failed')),
                attempts int NOT NULL DEFAULT 0,
                next_attempt_at timestamptz NOT NULL DEFAULT now(),
                first_failed_at timestamptz,
                last_error text,
                created_at timestamptz NOT NULL DEFAULT now(),
                finished_at timestamptz
            );
            CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
            CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, state);
            CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (finished_at) WHERE finished_at IS NOT NULL;
            CREATE TABLE webhook_attempts (
                id bigserial PRIMARY KEY,
                endpoint_id uuid NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
                tenant_id uuid NOT NULL,
                webhook_id text NOT NULL,
                delivery_ids bigint[] NOT NULL,
                status int,
                latency_ms int NOT NULL,
                error text,
                outcome text NOT NULL,
                attempted_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, id DESC);
            CREATE INDEX webhook_attempts_time ON webhook_attempts (attempted_at);
            CREATE FUNCTION mailfleet_webhook_deliveries() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO webhook_deliveries (endpoint_id, tenant_id, event_id, next_attempt_at)
                SELECT w.id, n.tenant_id, n.id, now()
                FROM new_events n JOIN webhook_endpoints w ON w.tenant_id = n.tenant_id AND w.enabled
                WHERE cardinality(w.event_types) = 0 OR ('email.' || n.type) = ANY (w.event_types);
                RETURN NULL;
            END $$;
            CREATE TRIGGER events_webhook_deliveries AFTER INSERT ON events
                REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION mailfleet_webhook_deliveries();
            GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_endpoints, webhook_deliveries, webhook_attempts TO mailfleet_tenant;
            GRANT USAGE ON SEQUENCE webhook_deliveries_id_seq TO mailfleet_tenant;
            ALTER TABLE webhook_endpoints ENABLE ROW LEVEL SECURITY;
            ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
            ALTER TABLE webhook_attempts ENABLE ROW LEVEL SECURITY;
            CREATE POLICY tenant_rows ON webhook_endpoints TO mailfleet_tenant
                USING (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid)
                WITH CHECK (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid);
            CREATE POLICY tenant_rows ON webhook_deliveries TO mailfleet_tenant
                USING (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid)
                WITH CHECK (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid);
            CREATE POLICY tenant_rows ON webhook_attempts TO mailfleet_tenant
                USING (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid)
                WITH CHECK (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid);
            """),
        // Version 15: lists and contacts, the ground campaigns stand on (docs/CAMPAIGNS.md).
        // A contact is one address per tenant (stored lowercased, like suppressions) with JSON
        // attributes; its subscription status is per list. `messages.contact_id` and
        // `campaign_id` tie a campaign's messages to their recipients (NULL for API sends; added
        // without a default, so no row is rewritten). Campaign sends are unique per campaign and
        // contact, which makes a resumed campaign skip whom it already sent to. Safe to run again
        // (its indexes on `messages` are built concurrently after it).
        Migration(version: 15, name: "contact lists, contacts and list memberships", sql: """
            CREATE TABLE IF NOT EXISTS contact_lists (
                id uuid PRIMARY KEY,
                tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                name text NOT NULL,
                double_opt_in boolean NOT NULL DEFAULT false,
                created_at timestamptz NOT NULL DEFAULT now(),
                updated_at timestamptz NOT NULL DEFAULT now(),
                UNIQUE (tenant_id, name)
            );
            CREATE TABLE IF NOT EXISTS contacts (
                id uuid PRIMARY KEY,
                tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                email text NOT NULL,
                attributes jsonb NOT NULL DEFAULT '{}',
                time_zone text,
                created_at timestamptz NOT NULL DEFAULT now(),
                updated_at timestamptz NOT NULL DEFAULT now(),
                UNIQUE (tenant_id, email)
            );
            CREATE TABLE IF NOT EXISTS list_members (
                list_id uuid NOT NULL REFERENCES contact_lists(id) ON DELETE CASCADE,
                contact_id uuid NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
                tenant_id uuid NOT NULL,
                status text NOT NULL CHECK (status IN ('pending', 'subscribed', 'unsubscribed')),
                subscribed_at timestamptz,
                unsubscribed_at timestamptz,
                created_at timestamptz NOT NULL DEFAULT now(),
                updated_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (list_id, contact_id)
            );
            CREATE INDEX IF NOT EXISTS list_members_contact ON list_members (contact_id);
            ALTER TABLE messages ADD COLUMN IF NOT EXISTS contact_id uuid;
            ALTER TABLE messages ADD COLUMN IF NOT EXISTS campaign_id uuid;
            GRANT SELECT, INSERT, UPDATE, DELETE ON contact_lists, contacts, list_members TO mailfleet_tenant;
            ALTER TABLE contact_lists ENABLE ROW LEVEL SECURITY;
            ALTER TABLE contacts ENABLE ROW LEVEL SECURITY;
            ALTER TABLE list_members ENABLE ROW LEVEL SECURITY;
            DROP POLICY IF EXISTS tenant_rows ON contact_lists;
            CREATE POLICY tenant_rows ON contact_lists TO mailfleet_tenant
                USING (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid)
                WITH CHECK (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid);
            DROP POLICY IF EXISTS tenant_rows ON contacts;
            CREATE POLICY tenant_rows ON contacts TO mailfleet_tenant
                USING (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid)
                WITH CHECK (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid);
            DROP POLICY IF EXISTS tenant_rows ON list_members;
            CREATE POLICY tenant_rows ON list_members TO mailfleet_tenant
                USING (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid)
                WITH CHECK (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid);
            """, indexes: [
                Index("messages_campaign_contact", unique: true, "ON messages (campaign_id, contact_id) WHERE campaign_id IS NOT NULL"),
                Index("messages_contact", "ON messages (contact_id) WHERE contact_id IS NOT NULL"),
            ]),
        // Version 16: a cancel that reaches a message a worker holds (docs/FLOW.md). The request is
        // recorded on the row (when, and the `cancelled` event's detail: who, the batch) and
        // honoured by the worker's next write that does not send, or by the next claim. Nullable
        // columns without a default: adding them rewrites no row.
        Migration(version: 16, name: "cancel requests on messages a worker holds", sql: """
            ALTER TABLE messages ADD COLUMN IF NOT EXISTS cancel_requested_at timestamptz;
            ALTER TABLE messages ADD COLUMN IF NOT EXISTS cancel_request jsonb;
            """),
        // Version 17: campaigns (docs/CAMPAIGNS.md). A campaign copies its template's parts, so
        // editing the template never changes a campaign under way. `cursor` is the last contact
        // expanded, moved in the transaction that inserts that chunk's messages. `list_id` has no
        // foreign key: a list deleted under a campaign leaves it with no recipients (it ends), and
        // its history stays. `campaign_stats` counts what recipients did per campaign and event
        // type (each message once per type), kept by a statement trigger on `events`, so the stats
        // of a million-message campaign are a read of a few rows; the messages' own statuses are
        // counted through `messages_campaign_status`. Safe to run again (its index is built
        // concurrently after it).
        Migration(version: 17, name: "campaigns", sql: """
            CREATE TABLE IF NOT EXISTS campaigns (
                id uuid PRIMARY KEY,
                tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                name text NOT NULL,
                list_id uuid NOT NULL,
                segment_id uuid,
                template_id uuid,
                template_version int,
                subject text NOT NULL,
                text_body text,
                html_body text,
                from_email text NOT NULL,
                from_name text,
                reply_to_email text,
                reply_to_name text,
                track_opens boolean NOT NULL DEFAULT false,
                track_clicks boolean NOT NULL DEFAULT false,
                state text NOT NULL CHECK (state IN ('draft', 'scheduled', 'running', 'paused', 'cancelled', 'done')),
                send_at timestamptz,
                local_send_at text,
                time_zone text,
                recipient_local_time boolean NOT NULL DEFAULT false,
                per_hour int CHECK (per_hour > 0),
                pacing jsonb NOT NULL DEFAULT '[]',
                cursor uuid,
                recipients_total int,
                expanded int NOT NULL DEFAULT 0,
                skipped int NOT NULL DEFAULT 0,
                last_error text,
                next_run_at timestamptz,
                created_at timestamptz NOT NULL DEFAULT now(),
                updated_at timestamptz NOT NULL DEFAULT now(),
                started_at timestamptz,
                finished_at timestamptz
            );
            CREATE INDEX IF NOT EXISTS campaigns_tenant ON campaigns (tenant_id, created_at DESC, id DESC);
            CREATE INDEX IF NOT EXISTS campaigns_due ON campaigns (next_run_at) WHERE state IN ('scheduled', 'running');
            CREATE TABLE IF NOT EXISTS campaign_stats (
                campaign_id uuid NOT NULL,
                tenant_id uuid NOT NULL,
                type text NOT NULL,
                count bigint NOT NULL,
                PRIMARY KEY (campaign_id, type)
            );
            CREATE OR REPLACE FUNCTION mailfleet_campaign_stats() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                -- Most events are of tenants that never ran a campaign: one probe per tenant and
                -- batch, not a message lookup per event.
                IF NOT EXISTS (
                    SELECT 1 FROM (SELECT DISTINCT tenant_id FROM new_events) t
                    WHERE EXISTS (SELECT 1 FROM campaigns c WHERE c.tenant_id = t.tenant_id)
                ) THEN
                    RETURN NULL;
                END IF;
                INSERT INTO campaign_stats (campaign_id, tenant_id, type, count)
                SELECT m.campaign_id, n.tenant_id, n.type, count(DISTINCT n.message_id)
                FROM new_events n JOIN messages m ON m.id = n.message_id
                WHERE m.campaign_id IS NOT NULL
                  AND n.type IN ('delivered', 'bounced', 'opened', 'clicked', 'unsubscribed', 'complained')
                  AND NOT EXISTS (
                      SELECT 1 FROM events e WHERE e.message_id = n.message_id AND e.type = n.type
                        AND e.id NOT IN (SELECT id FROM new_events))
                GROUP BY m.campaign_id, n.tenant_id, n.type
                ORDER BY m.campaign_id, n.type
                ON CONFLICT (campaign_id, type) DO UPDATE SET count = campaign_stats.count + excluded.count;
                RETURN NULL;
            END $$;
            DROP TRIGGER IF EXISTS events_campaign_stats ON events;
            CREATE TRIGGER events_campaign_stats AFTER INSERT ON events
                REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION mailfleet_campaign_stats();
            GRANT SELECT, INSERT, UPDATE ON campaigns, campaign_stats TO mailfleet_tenant;
            ALTER TABLE campaigns ENABLE ROW LEVEL SECURITY;
            ALTER TABLE campaign_stats ENABLE ROW LEVEL SECURITY;
            DROP POLICY IF EXISTS tenant_rows ON campaigns;
            CREATE POLICY tenant_rows ON campaigns TO mailfleet_tenant
                USING (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid)
                WITH CHECK (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid);
            DROP POLICY IF EXISTS tenant_rows ON campaign_stats;
            CREATE POLICY tenant_rows ON campaign_stats TO mailfleet_tenant
                USING (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid)
                WITH CHECK (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid);
            """, indexes: [
                Index("messages_campaign_status", "ON messages (campaign_id, status) WHERE campaign_id IS NOT NULL"),
            ]),
        // Version 18: segments (docs/CAMPAIGNS.md, "Segments"). Events belong to messages, so
        // what segment event conditions need is kept per contact in `contact_activity`: the
        // latest time of each event type per contact and campaign, plus a row under the nil
        // campaign id for "any message". A statement-level trigger on `events` keeps it, whoever
        // wrote the events; it looks at messages only when a tenant of the batch has contacts, so
        // API sends of tenants without any pay one probe per tenant and batch, not per event.
        // No foreign key to contacts: an event for a contact deleted meanwhile must not fail the
        // event insert; a trigger on contacts deletes their activity instead. The GIN index
        // serves attribute equality (`@>`); `contact_activity_recent` finds who did what since.
        Migration(version: 18, name: "segments and contact activity", sql: """
            CREATE TABLE segments (
                id uuid PRIMARY KEY,
                tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                name text NOT NULL,
                filter jsonb NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                updated_at timestamptz NOT NULL DEFAULT now(),
                UNIQUE (tenant_id, name)
            );
            CREATE TABLE contact_activity (
                contact_id uuid NOT NULL,
                type text NOT NULL,
                campaign_id uuid NOT NULL,
                tenant_id uuid NOT NULL,
                last_at timestamptz NOT NULL,
                PRIMARY KEY (contact_id, type, campaign_id)
            );
            CREATE INDEX contact_activity_recent ON contact_activity (tenant_id, type, campaign_id, last_at) INCLUDE (contact_id);
            CREATE INDEX contacts_attributes ON contacts USING gin (attributes jsonb_path_ops);
            CREATE FUNCTION mailfleet_contact_activity() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NOT EXISTS (
                    SELECT 1 FROM (SELECT DISTINCT tenant_id FROM new_events WHERE type IN ('delivered', 'bounced', 'opened', 'clicked', 'unsubscribed', 'complained')) t
                    WHERE EXISTS (SELECT 1 FROM contacts c WHERE c.tenant_id = t.tenant_id)
                ) THEN
                    RETURN NULL;
                END IF;
                -- Only the events of tenants with contacts look up their messages; the rows are
                -- sorted so that concurrent batches lock shared rows in one order.
                WITH tenants_with_contacts AS MATERIALIZED (
                    SELECT t.tenant_id FROM (SELECT DISTINCT tenant_id FROM new_events) t
                    WHERE EXISTS (SELECT 1 FROM contacts c WHERE c.tenant_id = t.tenant_id)
                )
                INSERT INTO contact_activity (contact_id, type, campaign_id, tenant_id, last_at)
                SELECT m.contact_id, n.type, k.campaign_id, m.tenant_id, max(n.occurred_at)
                FROM new_events n
                JOIN messages m ON m.id = n.message_id AND m.contact_id IS NOT NULL
                CROSS JOIN LATERAL (VALUES ('00000000-0000-0000-0000-000000000000'::uuid), (m.campaign_id)) k (campaign_id)
                WHERE n.type IN ('delivered', 'bounced', 'opened', 'clicked', 'unsubscribed', 'complained') AND k.campaign_id IS NOT NULL
                  AND n.tenant_id IN (SELECT tenant_id FROM tenants_with_contacts)
                GROUP BY m.contact_id, n.type, k.campaign_id, m.tenant_id
                ORDER BY m.contact_id, n.type, k.campaign_id
                ON CONFLICT (contact_id, type, campaign_id) DO UPDATE SET last_at = excluded.last_at
                    WHERE contact_activity.last_at < excluded.last_at;
                RETURN NULL;
            END $$;
            CREATE TRIGGER events_contact_activity AFTER INSERT ON events
                REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION mailfleet_contact_activity();
            CREATE FUNCTION mailfleet_forget_contact_activity() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                DELETE FROM contact_activity a USING old_contacts o WHERE a.contact_id = o.id;
                RETURN NULL;
            END $$;
            CREATE TRIGGER contacts_forget_activity AFTER DELETE ON contacts
                REFERENCING OLD TABLE AS old_contacts FOR EACH STATEMENT EXECUTE FUNCTION mailfleet_forget_contact_activity();
            INSERT INTO contact_activity (contact_id, type, campaign_id, tenant_id, last_at)
            SELECT m.contact_id, e.type, k.campaign_id, m.tenant_id, max(e.occurred_at)
            FROM messages m
            JOIN events e ON e.message_id = m.id
            JOIN contacts c ON c.id = m.contact_id
            CROSS JOIN LATERAL (VALUES ('00000000-0000-0000-0000-000000000000'::uuid), (m.campaign_id)) k (campaign_id)
            WHERE m.contact_id IS NOT NULL AND e.type IN ('delivered', 'bounced', 'opened', 'clicked', 'unsubscribed', 'complained') AND k.campaign_id IS NOT NULL
            GROUP BY m.contact_id, e.type, k.campaign_id, m.tenant_id;
            GRANT SELECT, INSERT, UPDATE, DELETE ON segments, contact_activity TO mailfleet_tenant;
            ALTER TABLE segments ENABLE ROW LEVEL SECURITY;
            ALTER TABLE contact_activity ENABLE ROW LEVEL SECURITY;
            CREATE POLICY tenant_rows ON segments TO mailfleet_tenant
                USING (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid)
                WITH CHECK (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid);
            CREATE POLICY tenant_rows ON contact_activity TO mailfleet_tenant
                USING (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid)
                WITH CHECK (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid);
            """),
        // Version 19: imports of contact files (docs/CAMPAIGNS.md "Import and export"). An
        // import's counts move with each batch it writes, in that batch's transaction; every
        // refused row is kept with its line number. `contacts.last_import_id` marks the import
        // that last wrote a contact, which is how a later row of the same file with the same
        // address is told apart (a duplicate) from a contact that existed before (an update).
        Migration(version: 19, name: "contact imports and their refused rows", sql: """
            CREATE TABLE contact_imports (
                id uuid PRIMARY KEY,
                tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                list_id uuid NOT NULL REFERENCES contact_lists(id) ON DELETE CASCADE,
                format text NOT NULL CHECK (format IN ('csv', 'ndjson')),
                state text NOT NULL CHECK (state IN ('running', 'completed', 'interrupted')),
                actor text NOT NULL,
                rows_read bigint NOT NULL DEFAULT 0,
                imported bigint NOT NULL DEFAULT 0,
                updated bigint NOT NULL DEFAULT 0,
                rejected bigint NOT NULL DEFAULT 0,
                suppressed bigint NOT NULL DEFAULT 0,
                duplicates bigint NOT NULL DEFAULT 0,
                created_at timestamptz NOT NULL DEFAULT now(),
                updated_at timestamptz NOT NULL DEFAULT now(),
                finished_at timestamptz
            );
            CREATE INDEX contact_imports_list ON contact_imports (list_id, created_at);
            CREATE TABLE contact_import_errors (
                import_id uuid NOT NULL REFERENCES contact_imports(id) ON DELETE CASCADE,
                tenant_id uuid NOT NULL,
                line bigint NOT NULL,
                reason text NOT NULL,
                PRIMARY KEY (import_id, line)
            );
            ALTER TABLE contacts ADD COLUMN last_import_id uuid;
            GRANT SELECT, INSERT, UPDATE, DELETE ON contact_imports, contact_import_errors TO mailfleet_tenant;
            ALTER TABLE contact_imports ENABLE ROW LEVEL SECURITY;
            ALTER TABLE contact_import_errors ENABLE ROW LEVEL SECURITY;
            CREATE POLICY tenant_rows ON contact_imports TO mailfleet_tenant
                USING (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid)
                WITH CHECK (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid);
            CREATE POLICY tenant_rows ON contact_import_errors TO mailfleet_tenant
                USING (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid)
                WITH CHECK (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid);
            """),
        // Version 20: a campaign's failed expansions in a row (docs/CAMPAIGNS.md, "When a chunk
        // fails"), which set how long the runner leaves it before trying again; a chunk that
        // works sets it back to 0. A default on a new column rewrites no row.
        Migration(version: 20, name: "campaign expansion failures", sql: """
            ALTER TABLE campaigns ADD COLUMN IF NOT EXISTS failures int NOT NULL DEFAULT 0;
            """),
        // Version 21: A/B tests of campaigns (docs/CAMPAIGNS.md "A/B tests"). The variants, the
        // test's settings and its decision are jsonb on the campaign: the decision is written in
        // the transaction that lets the rest be made, so a crash cannot change the winner.
        // `messages.variant` marks the test cohort's messages only (nullable, no default: adding
        // it rewrites no row). `campaign_variant_stats` counts per campaign, variant and type:
        // `made` by the runner in each chunk's transaction, event types by a statement trigger
        // on `events` like `campaign_stats`, so a report is a read of a few rows. Its first
        // probe looks only at campaigns with variants, so other tenants' events pay one probe.
        Migration(version: 21, name: "A/B tests of campaigns", sql: """
            ALTER TABLE campaigns ADD COLUMN variants jsonb, ADD COLUMN ab_test jsonb, ADD COLUMN ab_test_ends_at timestamptz,
                ADD COLUMN ab_decision jsonb;
            ALTER TABLE campaigns DROP CONSTRAINT campaigns_state_check;
            ALTER TABLE campaigns ADD CONSTRAINT campaigns_state_check
                CHECK (state IN ('draft', 'scheduled', 'running', 'testing', 'paused', 'cancelled', 'done'));
            DROP INDEX campaigns_due;
            CREATE INDEX campaigns_due ON campaigns (next_run_at) WHERE state IN ('scheduled', 'running', 'testing');
            CREATE INDEX campaigns_ab_tenant ON campaigns (tenant_id) WHERE variants IS NOT NULL;
            ALTER TABLE messages ADD COLUMN variant smallint;
            CREATE TABLE campaign_variant_stats (
                campaign_id uuid NOT NULL,
                variant smallint NOT NULL,
                tenant_id uuid NOT NULL,
                type text NOT NULL,
                count bigint NOT NULL,
                PRIMARY KEY (campaign_id, variant, type)
            );
            CREATE FUNCTION mailfleet_campaign_variant_stats() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NOT EXISTS (
                    SELECT 1 FROM (
                        SELECT DISTINCT tenant_id FROM new_events
                        WHERE type IN ('delivered', 'bounced', 'opened', 'clicked', 'unsubscribed', 'complained')) t
                    WHERE EXISTS (SELECT 1 FROM campaigns c WHERE c.tenant_id = t.tenant_id AND c.variants IS NOT NULL)
                ) THEN
                    RETURN NULL;
                END IF;
                INSERT INTO campaign_variant_stats (campaign_id, variant, tenant_id, type, count)
                SELECT m.campaign_id, m.variant, m.tenant_id, n.type, count(DISTINCT n.message_id)
                FROM new_events n JOIN messages m ON m.id = n.message_id AND m.tenant_id = n.tenant_id
                WHERE m.variant IS NOT NULL
                  AND n.type IN ('delivered', 'bounced', 'opened', 'clicked', 'unsubscribed', 'complained')
                  AND NOT EXISTS (
                      SELECT 1 FROM events e WHERE e.message_id = n.message_id AND e.type = n.type
                        AND e.id NOT IN (SELECT id FROM new_events))
                GROUP BY m.campaign_id, m.variant, m.tenant_id, n.type
                ORDER BY m.campaign_id, m.variant, n.type
                ON CONFLICT (campaign_id, variant, type) DO UPDATE SET count = campaign_variant_stats.count + excluded.count;
                RETURN NULL;
            END $$;
            CREATE TRIGGER events_campaign_variant_stats AFTER INSERT ON events
                REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION mailfleet_campaign_variant_stats();
            GRANT SELECT, INSERT, UPDATE ON campaign_variant_stats TO mailfleet_tenant;
            ALTER TABLE campaign_variant_stats ENABLE ROW LEVEL SECURITY;
            CREATE POLICY tenant_rows ON campaign_variant_stats TO mailfleet_tenant
                USING (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid)
                WITH CHECK (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid);
            """),
        // Version 22: drip sequences (docs/CAMPAIGNS.md "Drip sequences"). A sequence keeps its
        // steps as jsonb (templates copied in). An enrollment is one contact's way through one
        // sequence, at most one per pair. `sequence_messages` links each step done to its message
        // (NULL when the step was skipped); its primary key (enrollment, step) and the
        // enrollment's row lock are why no step is ever made twice. Entry by list subscription is
        // two statement triggers on `list_members`, so every writer (API, import, double opt-in
        // confirmation) enrols in the transaction that subscribes, and nobody is missed or
        // enrolled twice; they look at sequences only when a list of the statement is a trigger
        // list (one index probe per statement otherwise, after the transition tables are
        // filled). Deleting a trigger list sets `trigger_list_id` NULL, which ends its list
        // entrants' enrollments (`left_list`). `failures` and `last_error` are a sequence's failed
        // passes in a row, which push its due enrollments back (docs/CAMPAIGNS.md "The runner").
        Migration(version: 22, name: "drip sequences and their enrollments", sql: """
            CREATE TABLE sequences (
                id uuid PRIMARY KEY,
                tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                name text NOT NULL,
                trigger_list_id uuid REFERENCES contact_lists(id) ON DELETE SET NULL,
                from_email text NOT NULL,
                from_name text,
                reply_to_email text,
                reply_to_name text,
                track_opens boolean NOT NULL DEFAULT false,
                track_clicks boolean NOT NULL DEFAULT false,
                goal_event text,
                steps jsonb NOT NULL,
                failures int NOT NULL DEFAULT 0,
                last_error text,
                created_at timestamptz NOT NULL DEFAULT now(),
                updated_at timestamptz NOT NULL DEFAULT now(),
                UNIQUE (tenant_id, name)
            );
            CREATE INDEX sequences_trigger_list ON sequences (trigger_list_id) WHERE trigger_list_id IS NOT NULL;
            CREATE TABLE sequence_enrollments (
                id uuid PRIMARY KEY,
                tenant_id uuid NOT NULL,
                sequence_id uuid NOT NULL REFERENCES sequences(id) ON DELETE CASCADE,
                contact_id uuid NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
                state text NOT NULL CHECK (state IN ('active', 'completed', 'exited')),
                exit_reason text CHECK (exit_reason IN ('unsubscribed', 'left_list', 'goal')),
                current_step int NOT NULL DEFAULT 0,
                next_run_at timestamptz,
                entry text NOT NULL CHECK (entry IN ('list', 'api')),
                entered_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now(),
                finished_at timestamptz,
                UNIQUE (sequence_id, contact_id)
            );
            CREATE INDEX sequence_enrollments_due ON sequence_enrollments (next_run_at) WHERE state = 'active';
            CREATE INDEX sequence_enrollments_contact ON sequence_enrollments (contact_id);
            CREATE TABLE sequence_messages (
                enrollment_id uuid NOT NULL REFERENCES sequence_enrollments(id) ON DELETE CASCADE,
                step int NOT NULL,
                tenant_id uuid NOT NULL,
                message_id uuid,
                done_at timestamptz NOT NULL,
                PRIMARY KEY (enrollment_id, step)
            );
            CREATE FUNCTION mailfleet_sequence_entry() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NOT EXISTS (
                    SELECT 1 FROM sequences s WHERE s.trigger_list_id IN (SELECT DISTINCT list_id FROM new_members WHERE status = 'subscribed')
                ) THEN
                    RETURN NULL;
                END IF;
                -- A member enters when it becomes subscribed: inserted so, or updated from another
                -- status. Each statement is planned only when reached: `old_members` exists only
                -- for an UPDATE.
                IF TG_OP = 'INSERT' THEN
                    INSERT INTO sequence_enrollments (id, tenant_id, sequence_id, contact_id, state, current_step, next_run_at, entry, entered_at)
                    SELECT gen_random_uuid(), n.tenant_id, s.id, n.contact_id, 'active', 0,
                        now() + make_interval(secs => COALESCE((s.steps->0->>'delay_seconds')::int, 0)), 'list', now()
                    FROM new_members n JOIN sequences s ON s.trigger_list_id = n.list_id AND s.tenant_id = n.tenant_id
                    WHERE n.status = 'subscribed'
                    ORDER BY s.id, n.contact_id
                    ON CONFLICT (sequence_id, contact_id) DO NOTHING;
                ELSE
                    INSERT INTO sequence_enrollments (id, tenant_id, sequence_id, contact_id, state, current_step, next_run_at, entry, entered_at)
                    SELECT gen_random_uuid(), n.tenant_id, s.id, n.contact_id, 'active', 0,
                        now() + make_interval(secs => COALESCE((s.steps->0->>'delay_seconds')::int, 0)), 'list', now()
                    FROM new_members n JOIN sequences s ON s.trigger_list_id = n.list_id AND s.tenant_id = n.tenant_id
                    WHERE n.status = 'subscribed'
                      AND NOT EXISTS (
                          SELECT 1 FROM old_members o WHERE o.list_id = n.list_id AND o.contact_id = n.contact_id AND o.status = 'subscribed')
                    ORDER BY s.id, n.contact_id
                    ON CONFLICT (sequence_id, contact_id) DO NOTHING;
                END IF;
                RETURN NULL;
            END $$;
            CREATE TRIGGER list_members_sequence_entry_insert AFTER INSERT ON list_members
                REFERENCING NEW TABLE AS new_members FOR EACH STATEMENT EXECUTE FUNCTION mailfleet_sequence_entry();
            CREATE TRIGGER list_members_sequence_entry_update AFTER UPDATE ON list_members
                REFERENCING OLD TABLE AS old_members NEW TABLE AS new_members FOR EACH STATEMENT EXECUTE FUNCTION mailfleet_sequence_entry();
            GRANT SELECT, INSERT, UPDATE, DELETE ON sequences, sequence_enrollments, sequence_messages TO mailfleet_tenant;
            ALTER TABLE sequences ENABLE ROW LEVEL SECURITY;
            ALTER TABLE sequence_enrollments ENABLE ROW LEVEL SECURITY;
            ALTER TABLE sequence_messages ENABLE ROW LEVEL SECURITY;
            CREATE POLICY tenant_rows ON sequences TO mailfleet_tenant
                USING (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid)
                WITH CHECK (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid);
            CREATE POLICY tenant_rows ON sequence_enrollments TO mailfleet_tenant
                USING (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid)
                WITH CHECK (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid);
            CREATE POLICY tenant_rows ON sequence_messages TO mailfleet_tenant
                USING (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid)
                WITH CHECK (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid);
            """),
        // Writes per message (docs/ARCHITECTURE.md): a claim no longer stores `sending`. It writes
        // only the lease, which no index holds, so Postgres makes it a HOT update: a new row
        // version on the same page and no index entries. That needs room on the page, so new
        // pages are filled to half on insert (the claim's version fits beside each row; pages
        // already full keep their rows, and their claims are ordinary updates). Rows a worker
        // of an older version stored as `sending` become `queued` with their lease; rows an old
        // worker stores as `sending` during a rolling upgrade are claimed when their lease lapses.
        Migration(version: 23, name: "claims as HOT updates", sql: """
            ALTER TABLE messages SET (fillfactor = 50);
            UPDATE messages SET status = 'queued' WHERE status = 'sending';
            """),
        // Partitions and retention (docs/ARCHITECTURE.md): messages, and events by their message's
        // id, are partitioned by UTC day of the UUIDv7 id, so retention drops a day's tables instead
        // of deleting rows, and today's indexes hold today's rows only. Rows stored before this
        // migration go to `_before` (ids below today's) or, for random (v4) ids above every
        // UUIDv7 until 2039, to `_legacy`; the few v4 ids in between go to `_default`, from which
        // each day's partition takes its rows when it is made. The tables are copied: the
        // migration takes time in proportion to the rows stored, with the fleet stopped.
        // `(campaign_id, contact_id)` can no longer be unique (a unique index must hold the
        // partition key): campaign expansion skips a contact with a message under its campaign's
        // row lock instead. The provider event key holds the message id for the same reason; an
        // event id always resolves to the one message.
        Migration(version: 24, name: "messages and events partitioned by day; retention", sql: """
            -- A webhook delivery names its event's message too: events are partitioned by message id, and
            -- a lookup by event id alone would search every partition.
            ALTER TABLE webhook_deliveries ADD COLUMN message_id uuid;
            UPDATE webhook_deliveries d SET message_id = e.message_id FROM events e WHERE e.id = d.event_id;
            CREATE OR REPLACE FUNCTION mailfleet_webhook_deliveries() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO webhook_deliveries (endpoint_id, tenant_id, event_id, message_id, next_attempt_at)
                SELECT w.id, n.tenant_id, n.id, n.message_id, now()
                FROM new_events n JOIN webhook_endpoints w ON w.tenant_id = n.tenant_id AND w.enabled
                WHERE cardinality(w.event_types) = 0 OR ('email.' || n.type) = ANY (w.event_types);
                RETURN NULL;
            END $$;

            -- The first UUIDv7 of a UTC day: its 48-bit millisecond time, the rest zero.
            CREATE FUNCTION mailfleet_day_bound(day date) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
                SELECT (substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-0000-0000-000000000000')::uuid
                FROM (SELECT lpad(to_hex((extract(epoch FROM day) * 1000)::bigint), 12, '0') AS h) AS t
            $$;
            -- Storage settings of every partition of messages and events (docs/ARCHITECTURE.md, "Partitions
            -- and retention").
            CREATE FUNCTION mailfleet_partition_settings(tab text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
                SELECT CASE tab
                    WHEN 'messages' THEN 'fillfactor = 50, autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_insert_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02, autovacuum_vacuum_cost_limit = 2000'
                    ELSE 'autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_insert_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02, autovacuum_vacuum_cost_limit = 2000'
                END
            $$;
            -- The partitions of messages and of events holding one UTC day's message ids, unless they exist.
            -- Rows the catch-all partitions hold in that range move into them; the copies go straight into
            -- the new partitions, so the statement triggers on events do not count them again. Both tables
            -- are locked first (in the order every drop takes), so no row lands in the catch-all between
            -- the move and the new partition.
            CREATE FUNCTION mailfleet_day_partition(day date) RETURNS boolean LANGUAGE plpgsql AS $$
            DECLARE
                low uuid := mailfleet_day_bound(day);
                high uuid := mailfleet_day_bound(day + 1);
                tab text;
                key text;
                part text;
                made boolean := false;
            BEGIN
                IF to_regclass('messages_' || to_char(day, 'YYYYMMDD')) IS NOT NULL
                   AND to_regclass('events_' || to_char(day, 'YYYYMMDD')) IS NOT NULL THEN
                    RETURN false;
                END IF;
                LOCK TABLE messages, events IN ACCESS EXCLUSIVE MODE;
                FOREACH tab IN ARRAY ARRAY['messages', 'events'] LOOP
                    part := tab || '_' || to_char(day, 'YYYYMMDD');
                    CONTINUE WHEN to_regclass(part) IS NOT NULL;
                    key := CASE tab WHEN 'messages' THEN 'id' ELSE 'message_id' END;
                    EXECUTE format('CREATE TEMP TABLE mailfleet_moved (LIKE %I) ON COMMIT DROP', tab);
                    EXECUTE format('WITH gone AS (DELETE FROM %I WHERE %I >= $1 AND %I < $2 RETURNING *) INSERT INTO mailfleet_moved SELECT * FROM gone',
                        tab || '_default', key, key) USING low, high;
                    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L) WITH (%s)',
                        part, tab, low, high, mailfleet_partition_settings(tab));
                    EXECUTE format('INSERT INTO %I SELECT * FROM mailfleet_moved', part);
                    DROP TABLE mailfleet_moved;
                    made := true;
                END LOOP;
                RETURN made;
            END $$;

            -- The unpartitioned tables step aside with their indexes (whose names the new ones take).
            ALTER TABLE messages RENAME TO messages_unpartitioned;
            ALTER TABLE events RENAME TO events_unpartitioned;
            ALTER TABLE messages_unpartitioned DROP CONSTRAINT messages_pkey;
            ALTER TABLE events_unpartitioned DROP CONSTRAINT events_pkey;
            DROP INDEX messages_campaign_contact, messages_campaign_status, messages_contact, messages_failed,
                messages_provider_message, messages_tenant_batch, messages_tenant_created, messages_tenant_failed,
                messages_unfinished, events_message, events_provider_event, events_tenant_time;
            ALTER SEQUENCE events_id_seq OWNED BY NONE;

            CREATE TABLE messages (LIKE messages_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
                PARTITION BY RANGE (id);
            CREATE TABLE events (LIKE events_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
                PARTITION BY RANGE (message_id);
            ALTER SEQUENCE events_id_seq OWNED BY events.id;
            DO $$
            DECLARE
                today date := (now() AT TIME ZONE 'UTC')::date;
                tab text;
            BEGIN
                FOREACH tab IN ARRAY ARRAY['messages', 'events'] LOOP
                    -- Ids older than today's: the rows stored so far, from UUIDv7 ids, and random (v4)
                    -- ids below them.
                    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (MINVALUE) TO (%L) WITH (%s)',
                        tab || '_before', tab, mailfleet_day_bound(today), mailfleet_partition_settings(tab));
                    -- Random (v4) ids above any UUIDv7 of this century's first 39 years: nearly all of them.
                    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (MAXVALUE) WITH (%s)',
                        tab || '_legacy', tab, '02000000-0000-0000-0000-000000000000', mailfleet_partition_settings(tab));
                    -- Everything else: the few random ids among future days, and a time with no day
                    -- partition yet (a clock far ahead). A day made later takes its rows from here.
                    EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT WITH (%s)',
                        tab || '_default', tab, mailfleet_partition_settings(tab));
                END LOOP;
                FOR d IN 0..3 LOOP
                    PERFORM mailfleet_day_partition(today + d);
                END LOOP;
            END $$;

            INSERT INTO messages SELECT * FROM messages_unpartitioned;
            INSERT INTO events SELECT * FROM events_unpartitioned;
            DROP TABLE messages_unpartitioned, events_unpartitioned;

            ALTER TABLE messages ADD PRIMARY KEY (id), ADD FOREIGN KEY (tenant_id) REFERENCES tenants(id);
            ALTER TABLE events ADD PRIMARY KEY (id, message_id);
            CREATE INDEX messages_campaign_contact ON messages (campaign_id, contact_id) WHERE campaign_id IS NOT NULL;
            CREATE INDEX messages_campaign_status ON messages (campaign_id, status) WHERE campaign_id IS NOT NULL;
            CREATE INDEX messages_contact ON messages (contact_id) WHERE contact_id IS NOT NULL;
            CREATE INDEX messages_failed ON messages (updated_at) WHERE status = 'failed';
            CREATE INDEX messages_provider_message ON messages (tenant_id, provider_message_id) WHERE provider_message_id IS NOT NULL;
            CREATE INDEX messages_tenant_batch ON messages (tenant_id, batch_id) WHERE batch_id IS NOT NULL;
            CREATE INDEX messages_tenant_created ON messages (tenant_id, created_at DESC);
            CREATE INDEX messages_tenant_failed ON messages (tenant_id, created_at DESC, id DESC) WHERE status = 'failed';
            CREATE INDEX messages_unfinished ON messages (enqueued_at) WHERE status IN ('queued', 'sending');
            CREATE INDEX events_message ON events (message_id, occurred_at);
            CREATE UNIQUE INDEX events_provider_event ON events (provider_account_id, provider_event_id, message_id) WHERE provider_event_id IS NOT NULL;
            CREATE INDEX events_tenant_time ON events (tenant_id, occurred_at DESC, id DESC);
            -- Retention keeps a message an active drip-sequence enrollment still reads.
            CREATE INDEX sequence_messages_message ON sequence_messages (message_id) WHERE message_id IS NOT NULL;

            GRANT SELECT, INSERT, UPDATE, DELETE ON messages, events TO mailfleet_tenant;
            ALTER TABLE messages ENABLE ROW LEVEL SECURITY;
            ALTER TABLE events ENABLE ROW LEVEL SECURITY;
            CREATE POLICY tenant_rows ON messages TO mailfleet_tenant
                USING (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid)
                WITH CHECK (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid);
            CREATE POLICY tenant_rows ON events TO mailfleet_tenant
                USING (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid)
                WITH CHECK (tenant_id = NULLIF(current_setting('mailfleet.tenant_id', true), '')::uuid);
            CREATE TRIGGER events_webhook_deliveries AFTER INSERT ON events
                REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION mailfleet_webhook_deliveries();
            CREATE TRIGGER events_campaign_stats AFTER INSERT ON events
                REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION mailfleet_campaign_stats();
            CREATE TRIGGER events_contact_activity AFTER INSERT ON events
                REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION mailfleet_contact_activity();
            CREATE TRIGGER events_campaign_variant_stats AFTER INSERT ON events
                REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION mailfleet_campaign_variant_stats();

            -- Retention (docs/ARCHITECTURE.md): a tenant may keep its messages fewer days than the fleet.
            ALTER TABLE tenants ADD COLUMN retention_days int CHECK (retention_days >= 1);
            """),
    ]
}

/// Applies pending migrations. Safe when several processes run it at once: they queue on a
/// Postgres advisory lock, and each migration is applied in its own transaction exactly once.
public struct Migrator: Sendable {
    private let pool: PostgresPool
    /// An arbitrary constant naming Mailfleet's migration lock.
    static let lockID = 7_242_001

    /// Creates a migrator over a pool.
    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// Applies every migration not yet recorded (up to version `through`, when given: a test
    /// can build an older schema to upgrade); returns the versions it applied. `progress` hears
    /// how many are pending once they are known, then after each one applied.
    @discardableResult
    public func migrate(through last: Int? = nil, progress: @escaping @Sendable (WorkProgress) -> Void = { _ in }) async throws -> [Int] {
        try await pool.withConnection { connection in
            // Waiting in a loop of short tries, not in one blocking pg_advisory_lock: a waiting
            // statement holds a snapshot, and CREATE INDEX CONCURRENTLY in the holder's migration
            // waits for every older snapshot to end, which would never happen.
            while try connection.query("SELECT pg_try_advisory_lock($1) AS locked", [Migrator.lockID]).first?.bool("locked") != true {
                Thread.sleep(forTimeInterval: 0.1)
            }
            defer { _ = try? connection.query("SELECT pg_advisory_unlock($1)", [Migrator.lockID]) }
            try connection.execute("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version int PRIMARY KEY,
                    name text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """)
            let done = Set(try connection.query("SELECT version FROM schema_migrations").map { try $0.int("version") })
            let pending = Migrations.all.filter { !done.contains($0.version) && $0.version <= (last ?? Int.max) }
            var step = WorkProgress(total: pending.count, step: "migration", verb: "applied")
            progress(step)
            var applied: [Int] = []
            for migration in pending {
                if migration.indexes.isEmpty {
                    try connection.transaction {
                        try connection.execute(migration.sql)
                        try connection.query(
                            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [migration.version, migration.name])
                    }
                } else {
                    try connection.transaction { try connection.execute(migration.sql) }
                    for index in migration.indexes { try Self.build(index, on: connection) }
                    try connection.query(
                        "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [migration.version, migration.name])
                }
                applied.append(migration.version)
                step.advance(by: 1)
                progress(step)
            }
            return applied
        }
    }

    /// Builds `index` concurrently unless a valid one of that name exists. An interrupted
    /// concurrent build leaves an invalid index behind, which is dropped and built again.
    static func build(_ index: Migrations.Index, on connection: PostgresConnection) throws {
        let found = try connection.query(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = $1 AND pg_table_is_visible(c.oid)",
            [index.name])
        if let row = found.first {
            if try row.bool("indisvalid") { return }
            try connection.execute("DROP INDEX CONCURRENTLY IF EXISTS \(index.name)")
        }
        try connection.execute("CREATE \(index.unique ? "UNIQUE " : "")INDEX CONCURRENTLY \(index.name) \(index.definition)")
    }
}
