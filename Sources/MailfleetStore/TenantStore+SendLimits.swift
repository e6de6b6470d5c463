import Foundation
import MailfleetCore
import MailfleetPostgres

/// A sending domain of a tenant warming up (`warmup_domains`).
public struct Warmup: Sendable, Equatable {
    /// The tenant.
    public var tenantID: UUID
    /// The From domain, lowercased ASCII.
    public var domain: String
    /// The first day (UTC midnight).
    public var startedOn: Date
    /// The daily caps.
    public var schedule: WarmupSchedule

    /// Creates a warm-up.
    public init(tenantID: UUID, domain: String, startedOn: Date, schedule: WarmupSchedule) {
        self.tenantID = tenantID
        self.domain = domain
        self.startedOn = startedOn
        self.schedule = schedule
    }
}

extension TenantStore {
    /// The send limits of several tenants in one query; a tenant not found is left out.
    public func sendLimits(tenantIDs: [UUID]) async throws -> [UUID: TenantSendLimits] {
        let rows = try await pool.query(
            "SELECT id, send_messages_per_second, mailbox_rates::text AS mailbox_rates FROM tenants WHERE id = ANY($1::uuid[])", [tenantIDs])
        var limits: [UUID: TenantSendLimits] = [:]
        for row in rows {
            limits[try row.uuid("id")] = TenantSendLimits(
                messagesPerSecond: row.optionalString("send_messages_per_second").flatMap { Int($0) },
                mailboxRates: Self.mailboxRates(row.optionalString("mailbox_rates")))
        }
        return limits
    }

    /// Replaces a tenant's send limits, audited; false when there is no such tenant.
    @discardableResult
    public func setSendLimits(tenantID: UUID, _ limits: TenantSendLimits, actor: String = "system") async throws -> Bool {
        let rates = Dictionary(uniqueKeysWithValues: limits.mailboxRates.map { ($0.key.rawValue, String($0.value)) })
        let json = ProviderConfigJSON.encode(rates)
        return try await pool.transaction { connection in
            let rows = try connection.query(
                "UPDATE tenants SET send_messages_per_second = $2, mailbox_rates = $3::jsonb WHERE id = $1 RETURNING id",
                [tenantID, limits.messagesPerSecond, json])
            guard !rows.isEmpty else { return false }
            let detail: [String: String] = ["messages_per_second": limits.messagesPerSecond.map(String.init) ?? "unlimited", "mailbox_rates": json]
            try AuditLog.record(
                AuditEntry(tenantID: tenantID, actor: actor, action: "tenant.limits_set", target: tenantID.lowercasedString, detail: detail),
                on: connection)
            return true
        }
    }

    /// Starts (or restarts, replacing the schedule) the warm-up of a tenant's sending domain,
    /// audited; false when there is no such tenant.
    @discardableResult
    public func startWarmup(_ warmup: Warmup, defaultSchedule: Bool, actor: String = "system") async throws -> Bool {
        let schedule = defaultSchedule ? nil : warmup.schedule.dailyCaps.map(String.init).joined(separator: ",")
        let startedOn = WarmupSchedule.dateText(warmup.startedOn)
        return try await pool.transaction { connection in
            guard try !connection.query("SELECT 1 FROM tenants WHERE id = $1", [warmup.tenantID]).isEmpty else { return false }
            try connection.query(
                """
                INSERT INTO warmup_domains (tenant_id, domain, started_on, schedule) VALUES ($1, $2, $3::date, $4)
                ON CONFLICT (tenant_id, domain) DO UPDATE SET started_on = EXCLUDED.started_on, schedule = EXCLUDED.schedule
                """, [warmup.tenantID, warmup.domain, startedOn, schedule])
            try AuditLog.record(
                AuditEntry(
                    tenantID: warmup.tenantID, actor: actor, action: "warmup.started", target: warmup.domain,
                    detail: ["started_on": startedOn, "schedule": schedule ?? "default"]),
                on: connection)
            return true
        }
    }

    /// Ends a sending domain's warm-up (no cap any more), audited; false when it had none.
    @discardableResult
    public func stopWarmup(tenantID: UUID, domain: String, actor: String = "system") async throws -> Bool {
        try await pool.transaction { connection in
            let rows = try connection.query("DELETE FROM warmup_domains WHERE tenant_id = $1 AND domain = $2 RETURNING domain", [tenantID, domain])
            guard !rows.isEmpty else { return false }
            try AuditLog.record(AuditEntry(tenantID: tenantID, actor: actor, action: "warmup.stopped", target: domain), on: connection)
            return true
        }
    }

    /// The warm-ups of several tenants in one query, per tenant by domain (the worker's read).
    public func warmups(tenantIDs: [UUID]) async throws -> [UUID: [String: Warmup]] {
        let rows = try await pool.query(
            "SELECT tenant_id, domain, started_on, schedule FROM warmup_domains WHERE tenant_id = ANY($1::uuid[])", [tenantIDs])
        var out: [UUID: [String: Warmup]] = [:]
        for row in rows {
            let warmup = try Self.warmup(row)
            out[warmup.tenantID, default: [:]][warmup.domain] = warmup
        }
        return out
    }

    /// One tenant's warm-ups by domain, read under its row-level security (the API's read).
    public func warmups(tenantID: UUID) async throws -> [Warmup] {
        try await pool.tenantTransaction(tenantID) { connection in
            try connection.query(
                "SELECT tenant_id, domain, started_on, schedule FROM warmup_domains WHERE tenant_id = $1 ORDER BY domain", [tenantID]
            ).map(Self.warmup)
        }
    }

    private static func warmup(_ row: PostgresRow) throws -> Warmup {
        Warmup(
            tenantID: try row.uuid("tenant_id"), domain: try row.string("domain"), startedOn: try row.date("started_on"),
            schedule: row.optionalString("schedule").flatMap { WarmupSchedule(text: $0) } ?? WarmupSchedule())
    }

    /// The `mailbox_rates` column: group name to messages per second (0: unlimited); unknown groups are left out.
    static func mailboxRates(_ text: String?) -> [MailboxProvider: Int] {
        var rates: [MailboxProvider: Int] = [:]
        for (name, value) in ProviderConfigJSON.decode(text) {
            if let group = MailboxProvider(rawValue: name), let rate = Int(value), rate >= 0 { rates[group] = rate }
        }
        return rates
    }
}

extension TenantStore {
    /// A tenant's limits and warm-up progress (nil when there is no such tenant); today's counts
    /// come from `counter`, and are absent when Redis cannot be read.
    public func sendLimitsReport(tenantID: UUID, counter: WarmupCounter, now: Date = Date()) async throws -> SendLimitsReport? {
        guard let limits = try await sendLimits(tenantIDs: [tenantID])[tenantID] else { return nil }
        let warmups = try await warmups(tenantID: tenantID)
        let counts = try? await counter.counts(tenantID: tenantID, domains: warmups.map(\.domain), day: WarmupSchedule.dayNumber(now))
        let progress = warmups.map { warmup in
            WarmupProgress(
                domain: warmup.domain, startedOn: warmup.startedOn, schedule: warmup.schedule, sentToday: counts.map { $0[warmup.domain] ?? 0 }, now: now)
        }
        return SendLimitsReport(limits: limits, warmups: progress)
    }
}
