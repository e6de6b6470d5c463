/// The small HTML pages of the unsubscribe link. Addresses are escaped: they come from a
/// signed token, but a valid address may still hold `&` or `'`.
enum UnsubscribePage {
    /// Asks to confirm; the form posts the RFC 8058 body, so both ways in end the same.
    static func confirmation(address: String, action: String) -> String {
        document(
            title: "Unsubscribe",
            body: """
                <p>Stop sending mail to <strong>\(escaped(address))</strong>?</p>
                <form method="post" action="\(escaped(action))">
                <input type="hidden" name="List-Unsubscribe" value="One-Click">
                <button type="submit">Unsubscribe</button>
                </form>
                """)
    }

    /// After the unsubscribe.
    static func done(address: String) -> String {
        document(title: "Unsubscribed", body: "<p><strong>\(escaped(address))</strong> will get no more of this mail.</p>")
    }

    /// For a link that is not one we signed.
    static let invalid = document(title: "Link not valid", body: "<p>This unsubscribe link is not valid.</p>")

    /// When the unsubscribe could not be stored.
    static let unavailable = document(title: "Try again", body: "<p>We could not unsubscribe you just now. Please try again in a minute.</p>")

    /// One page of the tracker's links (unsubscribe, double opt-in): `body` is HTML, escaped by the caller.
    static func document(title: String, body: String) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="robots" content="noindex"><title>\(title)</title></head>
        <body><h1>\(title)</h1>
        \(body)
        </body></html>

        """
    }

    static func escaped(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
