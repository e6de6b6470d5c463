/// The small HTML pages of the double opt-in link, in the unsubscribe pages' style.
enum ConfirmationPage {
    /// Asks to confirm with a button (a GET alone never subscribes).
    static func ask(action: String) -> String {
        UnsubscribePage.document(
            title: "Confirm your subscription",
            body: """
                <form method="post" action="\(UnsubscribePage.escaped(action))">
                <button type="submit">Yes, subscribe me</button>
                </form>
                """)
    }

    /// After confirming (or confirming again).
    static func done(address: String) -> String {
        UnsubscribePage.document(title: "Subscribed", body: "<p><strong>\(UnsubscribePage.escaped(address))</strong> is subscribed. Thank you.</p>")
    }

    /// For a link that is not one we signed, or whose member is gone.
    static let invalid = UnsubscribePage.document(title: "Link not valid", body: "<p>This confirmation link is not valid.</p>")

    /// For a link past its lifetime.
    static let expired = UnsubscribePage.document(title: "Link expired", body: "<p>This confirmation link has expired. Please sign up again to get a new one.</p>")

    /// For a member who left the list since the link was sent.
    static let left = UnsubscribePage.document(title: "Not subscribed", body: "<p>This address left the list after the link was sent, so it stays unsubscribed.</p>")

    /// When the confirmation could not be stored.
    static let unavailable = UnsubscribePage.document(title: "Try again", body: "<p>We could not confirm just now. Please try again in a minute.</p>")
}
