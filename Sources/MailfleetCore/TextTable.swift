import Foundation

/// A table for people at a terminal: a header row, then one row per item, columns padded to
/// the widest cell by display width (a CJK character or an emoji takes two cells, a combining
/// mark none), numbers aligned on the right, two spaces between columns, no trailing spaces.
public struct TextTable: Sendable, Equatable {
    /// Which side of its column a cell keeps to.
    public enum Alignment: Sendable, Equatable {
        case left, right
    }

    /// A column: its title in the header row and its alignment.
    public struct Column: Sendable, Equatable {
        /// The header text.
        public var title: String
        /// Right for counts and other numbers, left for the rest.
        public var alignment: Alignment

        /// A column whose cells keep to the left.
        public static func left(_ title: String) -> Column { Column(title: title, alignment: .left) }
        /// A column whose cells keep to the right (numbers).
        public static func right(_ title: String) -> Column { Column(title: title, alignment: .right) }
    }

    /// The columns, in order.
    public let columns: [Column]
    /// The rows added so far, each as many cells as there are columns.
    public private(set) var rows: [[String]] = []

    /// An empty table with these columns.
    public init(_ columns: [Column]) {
        self.columns = columns
    }

    /// Adds a row. Missing cells are empty and extra ones are dropped, so every row has one cell
    /// per column; tabs and line breaks become spaces so a row stays on one line.
    public mutating func append(_ cells: [String]) {
        rows.append(columns.indices.map { $0 < cells.count ? Self.oneLine(cells[$0]) : "" })
    }

    /// The header row and the rows, each line ending in a line break.
    public var text: String {
        let lines = [columns.map(\.title)] + rows
        let widths = columns.indices.map { column in lines.map { Self.displayWidth($0[column]) }.max() ?? 0 }
        var out = ""
        for line in lines {
            var rendered = ""
            for (column, cell) in line.enumerated() {
                let padding = String(repeating: " ", count: widths[column] - Self.displayWidth(cell))
                if column > 0 { rendered += "  " }
                rendered += columns[column].alignment == .right ? padding + cell : cell + padding
            }
            while rendered.last == " " { rendered.removeLast() }
            out += rendered + "\n"
        }
        return out
    }

    /// How many terminal cells `text` takes.
    public static func displayWidth(_ text: String) -> Int {
        text.reduce(0) { $0 + width(of: $1) }
    }

    /// A time as the tables show it: UTC to the second, e.g. `2026-01-31 09:00:00 UTC`.
    public static func time(_ date: Date) -> String {
        let c = utcCalendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ value: Int?) -> String { value.map { $0 < 10 ? "0\($0)" : "\($0)" } ?? "00" }
        return "\(c.year ?? 0)-\(two(c.month))-\(two(c.day)) \(two(c.hour)):\(two(c.minute)):\(two(c.second)) UTC"
    }

    private static let utcCalendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0) ?? .current
        return calendar
    }()

    /// A character's width: none for marks and format characters on their own, two for wide
    /// East Asian characters and emoji, one otherwise.
    private static func width(of character: Character) -> Int {
        guard let first = character.unicodeScalars.first else { return 0 }
        switch first.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format, .control: return 0
        default: break
        }
        if first.properties.isEmojiPresentation || character.unicodeScalars.contains(where: { $0.value == 0xFE0F }) { return 2 }
        return wideRanges.contains { $0.contains(first.value) } ? 2 : 1
    }

    /// Unicode's East Asian Wide and Fullwidth blocks (the common ones).
    private static let wideRanges: [ClosedRange<UInt32>] = [
        0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
        0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x20000...0x3FFFD,
    ]

    private static func oneLine(_ text: String) -> String {
        String(text.map { $0 == "\t" || $0.isNewline ? " " : $0 })
    }
}
