/// The RFC 8058 one-click unsubscribe of one message: the signed https link (and a mailbox,
/// when the tenant has one) that the `List-Unsubscribe` headers carry. Every provider format
/// writes `headers` as they are, so this is the one place that decides them.
public struct ListUnsubscribe: Sendable, Hashable {
    /// The signed one-click URL (`https://host/u/TOKEN`).
    public var url: String
    /// The tenant's unsubscribe mailbox, if any.
    public var mailto: String?

    /// Creates the value.
    public init(url: String, mailto: String? = nil) {
        self.url = url
        self.mailto = mailto
    }

    /// The header naming where to unsubscribe.
    public static let headerName = "List-Unsubscribe"
    /// The header that asks for the one-click POST (RFC 8058 §3.1).
    public static let postHeaderName = "List-Unsubscribe-Post"
    /// `List-Unsubscribe-Post`'s only value, and the body a one-click POST carries.
    public static let postValue = "List-Unsubscribe=One-Click"

    /// `List-Unsubscribe` then `List-Unsubscribe-Post`, in that order. The https URL comes
    /// first: mailbox providers use the first one they support.
    public var headers: [(name: String, value: String)] {
        var value = "<\(url)>"
        if let mailto { value += ", <mailto:\(mailto)?subject=unsubscribe>" }
        return [(Self.headerName, value), (Self.postHeaderName, Self.postValue)]
    }
}
