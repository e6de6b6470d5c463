import MailfleetCore
import MailfleetRedis

extension MessageQueue {
    /// The Lua scripts that make queue moves atomic. Keys a script builds (a tenant's list, a
    /// lane's ring) start with the partition's tag, so they stay in its Redis Cluster slot.
    enum Scripts {
        /// The time in milliseconds: the one given (tests set it), or else Redis's own, so that
        /// times written by one host and compared by another (the linger, holds) are on one clock.
        static let clock = """
            local function clock(given)
              local ms = tonumber(given)
              if ms then return ms end
              local t = redis.call('TIME')
              return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            end

            """

        /// Pushing ready entries of one tenant at `now` (ms): the tenant joins the ring when its
        /// list was empty (the ring holds exactly the tenants with ready entries), the counts
        /// follow, and bulk notes when its entries arrived, for the linger. Entries coming back
        /// (promoted after a wait or retry, reclaimed) were gathered once already: a list they
        /// start is ripe at once (its first arrival set to 0), or waits and holds by send limits
        /// would each add a linger.
        static let push = clock + """
            local function push(prefix, lane, tenant, entries, front, now, back)
              local len = redis.call(front and 'LPUSH' or 'RPUSH', prefix .. 'ready:' .. lane .. ':' .. tenant, unpack(entries))
              if len == #entries then
                -- A held tenant waits parked, not in the ring.
                local held = tonumber(redis.call('ZSCORE', prefix .. 'held:' .. lane, tenant) or '')
                if held and held > tonumber(now) then
                  redis.call('ZADD', prefix .. 'parked:' .. lane, held, tenant)
                else
                  redis.call('RPUSH', prefix .. 'ring:' .. lane, tenant)
                end
              end
              if lane == 'b' then
                if len == #entries then redis.call('HSET', prefix .. 'first:b', tenant, back and 0 or now) end
                redis.call('HSET', prefix .. 'last:b', tenant, now)
              end
              redis.call('ZINCRBY', prefix .. 'backlog:' .. lane, #entries, tenant)
              redis.call('HINCRBY', prefix .. 'count', lane, #entries)
            end
            -- Entries taken from a sorted set, to the front of their tenants' lists: reclaimed
            -- ones as LPUSH leaves them, promoted ones (`ahead`) in due order, so a message back
            -- from a wait, a retry or its send_at goes before its tenant's newer mail. An entry
            -- whose tenant is not known (one of the layout before fair share) goes to its lane's old list.
            local function pushAll(prefix, owners, entries, front, now, ahead)
              local tenants = redis.call('HMGET', owners, unpack(entries))
              local groups, order = {}, {}
              for i, e in ipairs(entries) do
                local lane = string.sub(e, 1, 1)
                local tenant = tenants[i]
                local key = tenant and (lane .. ':' .. tenant) or lane
                local g = groups[key]
                if not g then
                  g = { lane = lane, tenant = tenant, entries = {} }
                  groups[key] = g
                  order[#order + 1] = key
                end
                g.entries[#g.entries + 1] = e
              end
              for _, key in ipairs(order) do
                local g = groups[key]
                if g.tenant then
                  local list = g.entries
                  if ahead then
                    list = {}
                    for i = #g.entries, 1, -1 do list[#list + 1] = g.entries[i] end
                  end
                  push(prefix, g.lane, g.tenant, list, front or ahead, now, true)
                else
                  redis.call(front and 'LPUSH' or 'RPUSH', prefix .. 'ready:' .. g.lane, unpack(g.entries))
                end
              end
            end

            """

        // KEYS: delayed, tenant. ARGV: prefix, now (ms, or empty for Redis's clock), n, then n
        // values in threes (tenant, due ms, entry), then groups of ready entries: lane, tenant,
        // count, entries...
        static let enqueue = RedisScript(push + """
            local prefix = ARGV[1]
            local now = clock(ARGV[2])
            local n = tonumber(ARGV[3])
            for i = 4, 3 + n, 3 do
              redis.call('HSET', KEYS[2], ARGV[i + 2], ARGV[i])
              redis.call('ZADD', KEYS[1], ARGV[i + 1], ARGV[i + 2])
            end
            local i = 4 + n
            while i <= #ARGV do
              local lane, tenant, count = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
              local entries = {}
              for j = i + 3, i + 2 + count do
                entries[#entries + 1] = ARGV[j]
                redis.call('HSET', KEYS[2], ARGV[j], tenant)
              end
              push(prefix, lane, tenant, entries, false, now, false)
              i = i + 3 + count
            end
            return 1
            """)

        // KEYS: leased. ARGV: prefix, max, lease deadline (ms), bulk reserve, quantum, now (ms,
        // or empty for Redis's clock), linger (ms), full, longest turn, "1" for transactional
        // entries only. Must take exactly what
        // `FairShare.fetch` takes (a test holds them to it).
        static let fetch = RedisScript(clock + """
            local prefix = ARGV[1]
            local want = tonumber(ARGV[2])
            local reserve = tonumber(ARGV[4])
            local quantum = tonumber(ARGV[5])
            local now = clock(ARGV[6])
            local linger = tonumber(ARGV[7])
            local full = tonumber(ARGV[8])
            -- The unit of a turn shrinks so that the heaviest weight's turn stays within the longest turn.
            local heaviest = tonumber(redis.call('HGET', prefix .. 'weights', '*') or '1') or 1
            local unit = math.min(quantum, math.max(1, math.floor(tonumber(ARGV[9]) / math.max(1, heaviest))))
            local out = {}
            -- Bulk waits for more of its kind until quiet for `linger`, or 4 x linger old, or full.
            local function ripe(lane, tenant, count)
              if lane ~= 'b' or linger <= 0 or count >= full then return true end
              local last = tonumber(redis.call('HGET', prefix .. 'last:b', tenant) or '')
              if not last then return true end
              local first = tonumber(redis.call('HGET', prefix .. 'first:b', tenant) or '') or last
              return now - last >= linger or now - first >= 4 * linger
            end
            local function take(lane, limit)
              if #out >= limit then return end
              local old = redis.call('LPOP', prefix .. 'ready:' .. lane, limit - #out)
              if old then for _, v in ipairs(old) do out[#out + 1] = v end end
              local ring = prefix .. 'ring:' .. lane
              local deficits = prefix .. 'deficit:' .. lane
              local backlog = prefix .. 'backlog:' .. lane
              local held = prefix .. 'held:' .. lane
              local parked = prefix .. 'parked:' .. lane
              local allowances = prefix .. 'allow:' .. lane
              -- Holds that have passed hold nothing; parked tenants now due go back to the ring.
              redis.call('ZREMRANGEBYSCORE', held, '-inf', now)
              local due = redis.call('ZRANGEBYSCORE', parked, '-inf', now, 'LIMIT', 0, \(FairShare.maxReleases))
              for _, tenant in ipairs(due) do
                redis.call('ZREM', parked, tenant)
                if redis.call('LLEN', prefix .. 'ready:' .. lane .. ':' .. tenant) > 0 then redis.call('RPUSH', ring, tenant) end
              end
              local popped = 0
              local passes = 0
              -- Tenants whose turn an allowance cut short in this take: passed over until the next.
              local capped = {}
              while #out < limit do
                local tenant = redis.call('LINDEX', ring, 0)
                if not tenant then break end
                local list = prefix .. 'ready:' .. lane .. ':' .. tenant
                local len = redis.call('LLEN', list)
                local heldUntil = len > 0 and redis.call('ZSCORE', held, tenant)
                if heldUntil then
                  -- Held by a send limit: out of the ring until due, its turn starting afresh then.
                  redis.call('LPOP', ring)
                  redis.call('HDEL', deficits, tenant)
                  redis.call('ZADD', parked, heldUntil, tenant)
                elseif capped[tenant] or (len > 0 and not ripe(lane, tenant, len)) then
                  if passes >= math.min(\(FairShare.maxPasses), redis.call('LLEN', ring)) then break end
                  passes = passes + 1
                  redis.call('LMOVE', ring, ring, 'LEFT', 'RIGHT')
                else
                  passes = 0
                  local deficit = tonumber(redis.call('HGET', deficits, tenant) or '0') or 0
                  if deficit <= 0 then
                    local weight = tonumber(redis.call('HGET', prefix .. 'weights', tenant) or '1') or 1
                    deficit = unit * math.max(1, math.floor(weight))
                    -- After a hold the turn is what the limit last admitted, doubling each turn.
                    local allowance = tonumber(redis.call('HGET', allowances, tenant) or '')
                    if allowance then
                      if allowance < deficit then
                        deficit = allowance
                        redis.call('HSET', allowances, tenant, allowance * 2)
                        capped[tenant] = true
                      else
                        redis.call('HDEL', allowances, tenant)
                      end
                    end
                  end
                  local items = redis.call('LPOP', list, math.min(deficit, limit - #out))
                  local n = 0
                  if items then
                    n = #items
                    for _, v in ipairs(items) do out[#out + 1] = v end
                    popped = popped + n
                  end
                  deficit = deficit - n
                  if redis.call('LLEN', list) == 0 then
                    redis.call('LPOP', ring)
                    redis.call('HDEL', deficits, tenant)
                    redis.call('HDEL', allowances, tenant)
                    redis.call('ZREM', backlog, tenant)
                    if lane == 'b' then
                      redis.call('HDEL', prefix .. 'first:b', tenant)
                      redis.call('HDEL', prefix .. 'last:b', tenant)
                    end
                  else
                    if n > 0 then redis.call('ZINCRBY', backlog, -n, tenant) end
                    -- Once ripe, the rest stays ripe until the list empties.
                    if lane == 'b' and linger > 0 then redis.call('HSET', prefix .. 'first:b', tenant, now - 4 * linger) end
                    if deficit <= 0 then
                      redis.call('LMOVE', ring, ring, 'LEFT', 'RIGHT')
                      redis.call('HDEL', deficits, tenant)
                    else
                      redis.call('HSET', deficits, tenant, deficit)
                    end
                  end
                end
              end
              if popped > 0 then redis.call('HINCRBY', prefix .. 'count', lane, -popped) end
            end
            if ARGV[10] == '1' then
              -- A transactional lane's fetch: transactional entries only, bulk left as it is.
              take('t', want)
            else
              take('t', want - reserve)
              take('b', want)
              take('t', want)
            end
            if #out > 0 then
              local args = {}
              for _, v in ipairs(out) do args[#args + 1] = ARGV[3]; args[#args + 1] = v end
              redis.call('ZADD', KEYS[1], unpack(args))
            end
            return out
            """)

        // KEYS: delayed, tenant. ARGV: prefix, now (ms), limit. Due entries go to the front of
        // their tenants' lists, in due order.
        static let promote = RedisScript(push + """
            local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
            if #due == 0 then return 0 end
            pushAll(ARGV[1], KEYS[2], due, false, ARGV[2], true)
            redis.call('ZREM', KEYS[1], unpack(due))
            return #due
            """)

        // KEYS: leased, tenant. ARGV: prefix, now (ms), limit. Reclaimed work goes to the front
        // of its tenant's list.
        static let reclaim = RedisScript(push + """
            local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
            if #expired == 0 then return 0 end
            pushAll(ARGV[1], KEYS[2], expired, true, ARGV[2], false)
            redis.call('ZREM', KEYS[1], unpack(expired))
            return #expired
            """)

        // KEYS: leased, delayed. ARGV: due1, entry1, due2, entry2, ...
        static let reschedule = RedisScript("""
            local entries = {}
            for i = 2, #ARGV, 2 do entries[#entries + 1] = ARGV[i] end
            redis.call('ZREM', KEYS[1], unpack(entries))
            redis.call('ZADD', KEYS[2], unpack(ARGV))
            return #entries
            """)

        // KEYS: weights. ARGV: tenant1, weight1, ... Replaces the table at once; field `*` holds
        // the heaviest weight, which sizes the unit of a turn.
        static let weights = RedisScript("""
            redis.call('DEL', KEYS[1])
            if #ARGV > 0 then
              local heaviest = 1
              for i = 2, #ARGV, 2 do heaviest = math.max(heaviest, tonumber(ARGV[i]) or 1) end
              redis.call('HSET', KEYS[1], '*', heaviest, unpack(ARGV))
            end
            return #ARGV / 2
            """)

        // ARGV: prefix, now (ms, or empty for Redis's clock), then in fours: lane, tenant, wait
        // (ms), allowance. Holds each tenant until now + wait: `FairShare.hold`.
        static let hold = RedisScript(clock + """
            local prefix = ARGV[1]
            local now = clock(ARGV[2])
            for i = 3, #ARGV, 4 do
              local lane, tenant = ARGV[i], ARGV[i + 1]
              local heldUntil = now + tonumber(ARGV[i + 2])
              redis.call('ZADD', prefix .. 'held:' .. lane, heldUntil, tenant)
              redis.call('ZADD', prefix .. 'parked:' .. lane, 'XX', heldUntil, tenant)
              redis.call('HSET', prefix .. 'allow:' .. lane, tenant, math.max(1, tonumber(ARGV[i + 3])))
            end
            return 1
            """)

        // ARGV: prefix, tenants per lane. The heads of the old lists, and of the lists of the
        // first tenants of each ring and of the tenants with the largest backlogs.
        static let heads = RedisScript("""
            local prefix = ARGV[1]
            local k = tonumber(ARGV[2])
            local out = {}
            for _, lane in ipairs({'t', 'b'}) do
              local head = redis.call('LINDEX', prefix .. 'ready:' .. lane, 0)
              if head then out[#out + 1] = head end
              local seen = {}
              local tenants = redis.call('LRANGE', prefix .. 'ring:' .. lane, 0, k - 1)
              for _, t in ipairs(redis.call('ZREVRANGE', prefix .. 'backlog:' .. lane, 0, k - 1)) do tenants[#tenants + 1] = t end
              for _, t in ipairs(tenants) do
                if not seen[t] then
                  seen[t] = true
                  head = redis.call('LINDEX', prefix .. 'ready:' .. lane .. ':' .. t, 0)
                  if head then out[#out + 1] = head end
                end
              end
            end
            return out
            """)

        // KEYS: generation. ARGV: expected value, new value. Compare-and-set.
        static let markReady = RedisScript("""
            if redis.call('GET', KEYS[1]) == ARGV[1] then
              redis.call('SET', KEYS[1], ARGV[2])
              return 1
            end
            return 0
            """)
    }
}
