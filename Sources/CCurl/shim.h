#ifndef MAILFLEET_CCURL_SHIM_H
#define MAILFLEET_CCURL_SHIM_H
#include <curl/curl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

// curl_easy_setopt, curl_easy_getinfo and curl_multi_setopt are variadic, which Swift cannot
// call: each typed wrapper below passes exactly one argument of the type the option expects.

typedef size_t (*mf_curl_data_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);
typedef int (*mf_curl_debug_callback)(CURL *handle, curl_infotype type, char *data, size_t size, void *userdata);

static inline CURLcode mf_curl_easy_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode mf_curl_easy_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode mf_curl_easy_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode mf_curl_easy_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode mf_curl_easy_setopt_off_t(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode mf_curl_easy_setopt_callback(CURL *h, CURLoption o, mf_curl_data_callback v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode mf_curl_easy_setopt_debug_callback(CURL *h, mf_curl_debug_callback v) { return curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, v); }

/// Lets an SMTP transaction go on when some RCPT TO are refused (libcurl >= 7.69). The option
/// was spelled CURLOPT_MAIL_RCPT_ALLLOWFAILS until 8.2. CURLE_UNKNOWN_OPTION when the headers
/// or the libcurl loaded at run time predate it.
static inline CURLcode mf_curl_easy_setopt_mail_rcpt_allowfails(CURL *h, long on) {
#if LIBCURL_VERSION_NUM >= 0x080200
    return curl_easy_setopt(h, CURLOPT_MAIL_RCPT_ALLOWFAILS, on);
#elif LIBCURL_VERSION_NUM >= 0x074500
    return curl_easy_setopt(h, CURLOPT_MAIL_RCPT_ALLLOWFAILS, on);
#else
    (void)h;
    (void)on;
    return CURLE_UNKNOWN_OPTION;
#endif
}

static inline CURLcode mf_curl_easy_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode mf_curl_easy_getinfo_double(CURL *h, CURLINFO i, double *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode mf_curl_easy_getinfo_pointer(CURL *h, CURLINFO i, void **v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode mf_curl_easy_getinfo_string(CURL *h, CURLINFO i, char **v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode mf_curl_easy_getinfo_off_t(CURL *h, CURLINFO i, curl_off_t *v) { return curl_easy_getinfo(h, i, v); }

static inline CURLMcode mf_curl_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }

// CURL_GLOBAL_DEFAULT is a macro built from other macros, which Swift does not import reliably.
static inline CURLcode mf_curl_global_init_default(void) { return curl_global_init(CURL_GLOBAL_DEFAULT); }

/// The version of the libcurl loaded at run time (not the headers built against), e.g. 0x075801.
static inline unsigned int mf_curl_runtime_version_num(void) {
    curl_version_info_data *info = curl_version_info(CURLVERSION_NOW);
    return info ? info->version_num : 0;
}

/// Whether the libcurl loaded at run time was built with HTTP/2 (nghttp2).
static inline int mf_curl_runtime_has_http2(void) {
    curl_version_info_data *info = curl_version_info(CURLVERSION_NOW);
    return info != NULL && (info->features & CURL_VERSION_HTTP2) != 0;
}

/// The easy handle and result of a finished transfer, or 0 when the message is not CURLMSG_DONE.
static inline int mf_curl_msg_done(CURLMsg *msg, CURL **easy, CURLcode *result) {
    if (msg == NULL || msg->msg != CURLMSG_DONE) return 0;
    *easy = msg->easy_handle;
    *result = msg->data.result;
    return 1;
}

// MARK: Egress guard (CURLOPT_OPENSOCKETFUNCTION)

typedef curl_socket_t (*mf_curl_opensocket_callback)(void *clientp, curlsocktype purpose, struct curl_sockaddr *address);

static inline CURLcode mf_curl_easy_setopt_opensocket_callback(CURL *h, mf_curl_opensocket_callback v) {
    return curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, v);
}

/// What an open-socket callback returns to refuse a connection; libcurl then tries the next
/// address, or fails the transfer with CURLE_COULDNT_CONNECT.
static const curl_socket_t mf_curl_socket_bad = CURL_SOCKET_BAD;

/// Copies the IP address libcurl is about to connect to into `bytes` in network order and
/// returns its length: 4 for IPv4, 16 for IPv6, 0 for any other family (e.g. a Unix socket).
static inline int mf_curl_sockaddr_ip(const struct curl_sockaddr *a, unsigned char bytes[16]) {
    // libcurl's storage behind `addr` is large enough for the family's whole sockaddr.
    if (a->family == AF_INET && a->addrlen >= sizeof(struct sockaddr_in)) {
        memcpy(bytes, &((const struct sockaddr_in *)(const void *)&a->addr)->sin_addr, 4);
        return 4;
    }
    if (a->family == AF_INET6 && a->addrlen >= sizeof(struct sockaddr_in6)) {
        memcpy(bytes, &((const struct sockaddr_in6 *)(const void *)&a->addr)->sin6_addr, 16);
        return 16;
    }
    return 0;
}

/// Opens the socket libcurl asked for, as libcurl itself would, but close-on-exec so child
/// processes do not inherit connections.
static inline curl_socket_t mf_curl_open_socket(const struct curl_sockaddr *a) {
#ifdef SOCK_CLOEXEC
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
#else
    return socket(a->family, a->socktype, a->protocol);
#endif
}

#endif
