import CCurl

/// Process-wide libcurl initialisation.
enum CurlGlobal {
    /// Whether `curl_global_init` succeeded; evaluated exactly once per process.
    ///
    /// A `static let` is initialised lazily under `swift_once`, so the first clients created
    /// concurrently still call `curl_global_init` only once, which libcurl requires because it
    /// is not safe to run while other threads use libcurl.
    static let initialized: Bool = mf_curl_global_init_default() == CURLE_OK
}
