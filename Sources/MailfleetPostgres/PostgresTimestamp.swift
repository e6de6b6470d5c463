import Foundation

/// Formats and parses timestamps in the ISO text form the server uses with `DateStyle = ISO`.
///
/// Hand-written rather than a DateFormatter: exact to the microsecond, no locale, cheap, thread-safe.
enum PostgresTimestamp {
    /// Seconds from 1970-01-01 to 2001-01-01, Foundation's reference date.
    private static let referenceOffsetMicros: Int64 = 978_307_200 * 1_000_000

    /// `YYYY-MM-DD HH:MM:SS.ffffff+00` in UTC (with ` BC` for years before 1).
    static func format(_ date: Date) -> String {
        let interval = date.timeIntervalSinceReferenceDate
        guard interval.isFinite else { return interval < 0 ? "-infinity" : "infinity" }
        // Microseconds measured from 2001 keep more precision than from 1970.
        let micros = Int64((interval * 1_000_000).rounded()) + referenceOffsetMicros
        let seconds = floorDiv(micros, 1_000_000)
        let fraction = micros - seconds * 1_000_000
        let days = floorDiv(seconds, 86_400)
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civil(fromDays: days)
        let bc = year <= 0
        var out = pad(bc ? 1 - year : year, 4)
        out += "-" + pad(month, 2) + "-" + pad(day, 2) + " "
        out += pad(secondOfDay / 3600, 2) + ":" + pad(secondOfDay / 60 % 60, 2) + ":" + pad(secondOfDay % 60, 2)
        out += "." + pad(fraction, 6) + "+00"
        if bc { out += " BC" }
        return out
    }

    /// Parses `YYYY-MM-DD[ HH:MM:SS[.f...]][+HH[:MM[:SS]]][ BC]`, `infinity` and `-infinity`.
    /// A value without an offset (timestamp, date) is taken as UTC.
    static func parse(_ text: String) -> Date? {
        if text == "infinity" { return .distantFuture }
        if text == "-infinity" { return .distantPast }
        var p = Array(text.utf8)[...]
        var bc = false
        if p.count >= 3, p.suffix(3).elementsEqual(" BC".utf8) {
            bc = true
            p = p.dropLast(3)
        }
        guard var year = number(&p, minDigits: 4), take(&p, "-"),
              let month = number(&p, exactDigits: 2), take(&p, "-"),
              let day = number(&p, exactDigits: 2),
              (1...12).contains(month), (1...31).contains(day) else { return nil }
        if bc { year = 1 - year }
        var hour: Int64 = 0, minute: Int64 = 0, second: Int64 = 0, fraction: Int64 = 0
        if take(&p, " ") || take(&p, "T") {
            guard let h = number(&p, exactDigits: 2), take(&p, ":"),
                  let m = number(&p, exactDigits: 2), take(&p, ":"),
                  let s = number(&p, exactDigits: 2) else { return nil }
            hour = h; minute = m; second = s
            if take(&p, ".") {
                var digits = 0
                while let c = p.first, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") {
                    if digits < 6 { fraction = fraction * 10 + Int64(c - UInt8(ascii: "0")) }
                    digits += 1
                    p = p.dropFirst()
                }
                guard digits > 0 else { return nil }
                for _ in digits..<max(digits, 6) { fraction *= 10 }
            }
        }
        var offsetSeconds: Int64 = 0
        if let sign = p.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            p = p.dropFirst()
            guard let oh = number(&p, exactDigits: 2) else { return nil }
            var total = oh * 3600
            if take(&p, ":") {
                guard let om = number(&p, exactDigits: 2) else { return nil }
                total += om * 60
                if take(&p, ":") {
                    guard let os = number(&p, exactDigits: 2) else { return nil }
                    total += os
                }
            }
            offsetSeconds = sign == UInt8(ascii: "-") ? -total : total
        } else if take(&p, "Z") {
            offsetSeconds = 0
        }
        guard p.isEmpty else { return nil }
        let days = self.days(fromCivil: year, month, day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        let micros = seconds * 1_000_000 + fraction - referenceOffsetMicros
        return Date(timeIntervalSinceReferenceDate: Double(micros) / 1_000_000)
    }

    private static func take(_ p: inout ArraySlice<UInt8>, _ c: Unicode.Scalar) -> Bool {
        guard p.first == UInt8(ascii: c) else { return false }
        p = p.dropFirst()
        return true
    }

    private static func number(_ p: inout ArraySlice<UInt8>, minDigits: Int = 1, exactDigits: Int? = nil) -> Int64? {
        var value: Int64 = 0
        var digits = 0
        while let c = p.first, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") {
            if let exactDigits, digits == exactDigits { break }
            guard digits < 12 else { return nil }
            value = value * 10 + Int64(c - UInt8(ascii: "0"))
            digits += 1
            p = p.dropFirst()
        }
        guard digits >= (exactDigits ?? minDigits) else { return nil }
        return value
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let s = String(value)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    private static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The proleptic Gregorian date of a day number since 1970-01-01 (year 0 is 1 BC).
    private static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
