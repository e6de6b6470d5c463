import MailfleetStore

extension AdminError {
    /// The sysexits(3) status the CLI ends with: 65 (EX_DATAERR) for data the database refused
    /// or a thing that does not exist, 69 (EX_UNAVAILABLE) when Postgres or Redis cannot serve.
    /// Wrong usage is ArgumentParser's 64 (EX_USAGE).
    var exitStatus: Int32 {
        switch kind {
        case .invalid, .notFound, .conflict: 65
        case .unavailable: 69
        }
    }
}
