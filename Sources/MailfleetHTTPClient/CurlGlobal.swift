import CCurl

/// Process-wide libcurl initialisation and facts about the libcurl loaded at run time.
enum CurlGlobal {
    /// Whether `curl_global_init` succeeded; evaluated exactly once per process.
    ///
    /// A `static let` is initialised lazily under `swift_once`, so the first clients created
    /// concurrently still call `curl_global_init` only once, which libcurl requires because it
    /// is not safe to run while other threads use libcurl.
    static let initialized: Bool = mf_curl_global_init_default() == CURLE_OK

    /// The oldest libcurl whose HTTP/2 multiplexing we let requests use.
    ///
    /// libcurl 7.88.1 (Debian bookworm) stalls multiplexed HTTP/2 downloads: when a response
    /// body is larger than the receive buffer (16 KiB) and other streams share the connection,
    /// the last DATA frame can stay buffered inside libcurl and the transfer hangs until its
    /// timeout. Reproduced with a plain C multi loop against nghttpd, so it is not this wrapper.
    /// For an email sender a hang after the provider accepted a message means a timeout, a
    /// retry and a duplicate email, so older libcurls get HTTP/1.1 with keep-alive instead.
    /// 8.7.0 comes after the HTTP/2 receive-path rewrite and a run of HTTP/2 stall and upload
    /// fixes; it is a judgement, not tested here: revisit when the base image's libcurl moves.
    static let minimumHTTP2Version: UInt32 = 0x08_07_00

    /// Whether requests may negotiate HTTP/2 (over TLS, via ALPN).
    static let http2Enabled: Bool =
        mf_curl_runtime_has_http2() != 0 && mf_curl_runtime_version_num() >= minimumHTTP2Version
}
