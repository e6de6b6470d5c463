extension Message {
    /// The suppression rule, the same at accept and at send: suppressed recipients leave to, cc
    /// and bcc; when every `to` recipient is suppressed the message is not sent at all and keeps
    /// its recipients (so its history says whom it was for). Returns the suppressed addresses
    /// (as `normalised` spells them) and whether the whole message is held back.
    public mutating func removeSuppressed(
        where isSuppressed: (EmailAddress) -> Bool, normalised: (EmailAddress) -> String
    ) -> (recipients: [String], wholeMessage: Bool) {
        let hits = content.allRecipients.filter(isSuppressed)
        guard !hits.isEmpty else { return ([], false) }
        if content.to.allSatisfy(isSuppressed) { return (hits.map(normalised), true) }
        content.to.removeAll(where: isSuppressed)
        content.cc.removeAll(where: isSuppressed)
        content.bcc.removeAll(where: isSuppressed)
        return (hits.map(normalised), false)
    }
}
