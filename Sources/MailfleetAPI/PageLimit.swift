/// The `limit` query parameter of a listing route: 1 to 1,000.
enum PageLimit {
    /// The most a page holds.
    static let maximum = 1000

    /// `text` as a page size, `fallback` when absent; 422 when it is not 1 to 1,000.
    static func read(_ text: String?, default fallback: Int) throws -> Int {
        guard let text else { return fallback }
        guard let number = Int(text), (1...maximum).contains(number) else {
            throw APIError.invalidParameter("limit", "limit must be 1 to \(maximum)")
        }
        return number
    }
}
