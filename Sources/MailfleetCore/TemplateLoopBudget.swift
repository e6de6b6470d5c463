import Mustache

/// Counts the list items one render iterates over, shared by every list in its variables, and
/// ends every loop once the count is spent (the render is then refused).
final class LoopBudget {
    var remaining: Int
    var exhausted = false

    init(remaining: Int) {
        self.remaining = remaining
    }

    /// The variables as template context, with every list drawing on this budget.
    func context(for value: JSONValue) -> Any {
        switch value {
        case .array(let values): return BudgetedList(items: values.map { context(for: $0) }, budget: self)
        case .object(let values): return values.mapValues { context(for: $0) }
        default: return value.plain
        }
    }
}

/// A list in template variables whose iteration stops when its `LoopBudget` runs out.
struct BudgetedList: MustacheSequence {
    let items: [Any]
    let budget: LoopBudget

    func makeIterator() -> Iterator { Iterator(items: items, budget: budget) }

    /// Yields items while the shared budget lasts.
    struct Iterator: IteratorProtocol {
        let items: [Any]
        let budget: LoopBudget
        var index = 0

        mutating func next() -> Any? {
            guard index < items.count else { return nil }
            guard budget.remaining > 0 else {
                budget.exhausted = true
                return nil
            }
            budget.remaining -= 1
            defer { index += 1 }
            return items[index]
        }
    }
}
