import Foundation
import MailfleetCore
import MailfleetRedis

/// The fleet-wide circuit breakers: one `CircuitBreaker` state per provider account, kept in a
/// Redis hash and changed only by one Lua script doing `CircuitBreaker`'s arithmetic atomically,
/// so the failure that trips an account on one worker opens it for every replica at once.
/// The time is an argument (milliseconds), never Redis's clock, so the script and the pure
/// machine can be checked against each other.
public struct CircuitBreakerStore: Sendable {
    let redis: RedisClient
    private let prefix: String

    /// Creates a store whose keys start with `prefix` (`mf` by default).
    public init(redis: RedisClient, prefix: String = "mf") {
        self.redis = redis
        self.prefix = prefix
    }

    /// The hash holding `account`'s breaker; hash-tagged so the account's keys share one slot.
    public func key(_ account: UUID) -> String {
        "\(prefix):{cb:\(account.uuidString.lowercased())}:breaker"
    }

    /// `CircuitBreaker.mayCall` on the fleet's state of `account`.
    public func mayCall(account: UUID, configuration: CircuitBreaker.Configuration, nowMs: Int) async throws -> CircuitBreaker.Permission {
        let reply = try await run("call", account: account, configuration: configuration, nowMs: nowMs)
        return CircuitBreaker.Permission(decision: try reply.decision(), transition: reply.transition)
    }

    /// `CircuitBreaker.record` on the fleet's state of `account`; returns the transition it caused.
    @discardableResult
    public func record(
        account: UUID, outcome: CircuitBreaker.Outcome, durationMs: Int, configuration: CircuitBreaker.Configuration, nowMs: Int
    ) async throws -> CircuitBreaker.Transition? {
        try await run("record", account: account, outcome: outcome, durationMs: durationMs, configuration: configuration, nowMs: nowMs)
            .transition
    }

    /// The fleet's state of `account` (closed and empty if none is stored).
    public func state(account: UUID) async throws -> CircuitBreaker.State {
        try await run("state", account: account, configuration: CircuitBreaker.Configuration(), nowMs: 0).state
    }

    private func run(
        _ operation: String, account: UUID, outcome: CircuitBreaker.Outcome = .success, durationMs: Int = 0,
        configuration c: CircuitBreaker.Configuration, nowMs: Int
    ) async throws -> Reply {
        let arguments = [
            operation, "\(nowMs)", outcome == .failure ? "1" : "0", "\(durationMs)", "\(c.windowSize)", "\(c.minimumCalls)",
            "\(c.failureRatePercent)", "\(c.slowCallMs)", "\(c.openBaseMs)", "\(c.openMaxMs)", "\(c.halfOpenProbes)",
            "\(c.probeTimeoutMs)",
        ]
        let reply = try await redis.evaluate(CircuitBreakerStore.script, keys: [key(account)], arguments: arguments)
        guard let parsed = Reply(reply) else { throw RedisError(message: "unexpected circuit breaker reply \(reply)") }
        return parsed
    }

    /// The script's answer: {decision, retry_at, from, to, phase, window, trips, open_until,
    /// probes, successes, last_probe_at, changed_at}.
    private struct Reply {
        let decisionCode: Int
        let retryAtMs: Int
        let transition: CircuitBreaker.Transition?
        let state: CircuitBreaker.State

        init?(_ value: RedisValue) {
            guard let fields = value.array, fields.count == 12, let window = fields[5].string else { return nil }
            let numbers = fields.enumerated().filter { $0.offset != 5 }.compactMap { $0.element.int }
            guard numbers.count == 11, let phase = CircuitBreaker.Phase(rawValue: numbers[4]) else { return nil }
            decisionCode = numbers[0]
            retryAtMs = numbers[1]
            state = CircuitBreaker.State(
                phase: phase, window: window.map { $0 == "1" }, trips: numbers[5], openUntilMs: numbers[6],
                probesGranted: numbers[7], probeSuccesses: numbers[8], lastProbeAtMs: numbers[9], changedAtMs: numbers[10])
            if let from = CircuitBreaker.Phase(rawValue: numbers[2]), let to = CircuitBreaker.Phase(rawValue: numbers[3]) {
                transition = CircuitBreaker.Transition(from: from, to: to, atMs: state.changedAtMs)
            } else {
                transition = nil
            }
        }

        func decision() throws -> CircuitBreaker.Decision {
            switch decisionCode {
            case 0: return .call
            case 1: return .probe
            case 2: return .refuse(retryAtMs: retryAtMs)
            default: throw RedisError(message: "unexpected circuit breaker decision \(decisionCode)")
            }
        }
    }

    /// The same arithmetic as `CircuitBreaker.mayCall` / `record`, atomically on one account's
    /// hash. ARGV: operation (call, record, state), now, failed (0/1), duration, then the
    /// configuration in `Configuration`'s field order. The window is a string of 0/1, oldest
    /// first. Written only when something changed; kept a day past the last change (far longer
    /// than the longest open period), so idle accounts' hashes go away.
    static let script = RedisScript("""
        local key = KEYS[1]
        local op = ARGV[1]
        local now = tonumber(ARGV[2])
        local failed = tonumber(ARGV[3]) == 1 or tonumber(ARGV[4]) >= tonumber(ARGV[8])
        local window_size = tonumber(ARGV[5])
        local minimum_calls = tonumber(ARGV[6])
        local rate = tonumber(ARGV[7])
        local base = tonumber(ARGV[9])
        local cap = tonumber(ARGV[10])
        local probes = tonumber(ARGV[11])
        local probe_timeout = tonumber(ARGV[12])
        local f = redis.call('HMGET', key, 'phase', 'window', 'trips', 'open_until', 'probes', 'successes', 'last_probe_at', 'changed_at')
        local function num(v) if v then return tonumber(v) end return 0 end
        local s = {phase = num(f[1]), window = f[2] or '', trips = num(f[3]), open_until = num(f[4]),
          granted = num(f[5]), successes = num(f[6]), last_probe = num(f[7]), changed = num(f[8])}
        local dirty = false
        local from, to = -1, -1
        local function enter(phase)
          from, to = s.phase, phase
          s.phase = phase
          s.window = ''
          s.open_until = 0
          s.granted = 0
          s.successes = 0
          s.last_probe = 0
          s.changed = now
          dirty = true
        end
        local function trip()
          s.trips = s.trips + 1
          enter(1)
          local period = base
          local remaining = s.trips - 1
          while remaining > 0 and period < cap do
            period = math.min(cap, period * 2)
            remaining = remaining - 1
          end
          s.open_until = now + math.min(cap, period)
        end
        local decision, retry_at = 3, 0
        if op == 'call' then
          decision = 0
          if s.phase ~= 0 then
            local probing = true
            if s.phase == 1 then
              if now < s.open_until then
                decision, retry_at, probing = 2, s.open_until, false
              else
                enter(2)
              end
            end
            if probing then
              if s.granted >= probes and now >= s.last_probe + probe_timeout then
                s.granted = s.successes
                dirty = true
              end
              if s.granted < probes then
                s.granted = s.granted + 1
                s.last_probe = now
                dirty = true
                decision = 1
              else
                decision, retry_at = 2, math.min(s.last_probe + probe_timeout, now + \(CircuitBreaker.halfOpenRecheckMs))
              end
            end
          end
        elseif op == 'record' then
          if s.phase == 2 then
            if failed then
              trip()
            else
              s.successes = s.successes + 1
              dirty = true
              if s.successes >= probes then
                s.trips = 0
                enter(0)
              end
            end
          elseif s.phase == 0 then
            s.window = s.window .. (failed and '1' or '0')
            if #s.window > window_size then s.window = string.sub(s.window, #s.window - window_size + 1) end
            dirty = true
            local calls = #s.window
            local _, failures = string.gsub(s.window, '1', '')
            if calls >= minimum_calls and failures * 100 >= rate * calls then trip() end
          end
        end
        if dirty then
          redis.call('HSET', key, 'phase', s.phase, 'window', s.window, 'trips', s.trips, 'open_until', s.open_until,
            'probes', s.granted, 'successes', s.successes, 'last_probe_at', s.last_probe, 'changed_at', s.changed)
          redis.call('PEXPIRE', key, 86400000)
        end
        return {decision, retry_at, from, to, s.phase, s.window, s.trips, s.open_until, s.granted, s.successes, s.last_probe, s.changed}
        """)
}
