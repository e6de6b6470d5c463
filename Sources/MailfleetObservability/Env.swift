import MailfleetConfiguration

/// The defaults `APIConfiguration` still reads, forwarded from the settings catalogue (where every
/// `MAILFLEET_*` setting lives). Goes away with the API's last reference to it.
public enum Env {
    /// Defaults for local runs.
    public enum Defaults {
        /// `MAILFLEET_DATABASE_URL`'s default.
        public static var databaseURL: String { Settings.catalogue.databaseURL.defaultValue }
        /// `MAILFLEET_REDIS_URL`'s default.
        public static var redisURL: String { Settings.catalogue.redisURL.defaultValue }
        /// `MAILFLEET_PARTITIONS`'s default.
        public static var partitions: Int { Settings.catalogue.partitions.defaultValue }
    }
}
