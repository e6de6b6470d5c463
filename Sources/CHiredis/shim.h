#ifndef MAILFLEET_CHIREDIS_SHIM_H
#define MAILFLEET_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>

/// Runs one command given as an argument vector (binary safe) and returns its reply.
static inline redisReply *mf_redis_command_argv(redisContext *c, int argc, const char **argv, const size_t *argvlen) {
    return (redisReply *)redisCommandArgv(c, argc, argv, argvlen);
}

/// Appends one command to the output buffer without waiting for its reply (pipelining).
static inline int mf_redis_append_argv(redisContext *c, int argc, const char **argv, const size_t *argvlen) {
    return redisAppendCommandArgv(c, argc, argv, argvlen);
}

/// Reads the next pending reply; returns NULL on a connection error.
static inline redisReply *mf_redis_get_reply(redisContext *c) {
    void *reply = NULL;
    if (redisGetReply(c, &reply) != REDIS_OK) return NULL;
    return (redisReply *)reply;
}

/// Connects with a timeout in milliseconds.
static inline redisContext *mf_redis_connect(const char *host, int port, long timeout_ms) {
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    return redisConnectWithTimeout(host, port, tv);
}

/// Sets the read/write timeout of a connected context in milliseconds.
static inline int mf_redis_set_timeout(redisContext *c, long timeout_ms) {
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    return redisSetTimeout(c, tv);
}

/// The element at an index of an array reply.
static inline redisReply *mf_redis_reply_element(redisReply *r, size_t i) {
    return r->element[i];
}

/// The error text of a context (a fixed char array that Swift imports as a tuple).
static inline const char *mf_redis_errstr(const redisContext *c) {
    return c->errstr;
}

/// Non-zero when the context has recorded an error and must not be used any more.
static inline int mf_redis_has_error(const redisContext *c) {
    return c->err != 0;
}

/// True when an idle connection has something to read: with RESP2 and no pub/sub that can only be
/// the server closing it (EOF, reset), so the caller reconnects instead of failing the next command.
static inline int mf_redis_idle_connection_broken(const redisContext *c) {
    struct pollfd p = { c->fd, POLLIN, 0 };
    int n = poll(&p, 1, 0);
    if (n < 0) return 1;
    return n > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

/// Blocks SIGPIPE on the calling thread: hiredis writes with write(2), which would otherwise kill
/// the process when the server has closed the socket. The write then fails with EPIPE instead.
static inline void mf_redis_block_sigpipe_on_this_thread(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/// Reply type codes that only newer hiredis (1.x, RESP3) defines; fixed values so Swift can match them
/// whatever hiredis version the machine has.
#define MF_REDIS_REPLY_DOUBLE 7
#define MF_REDIS_REPLY_BOOL 8
#define MF_REDIS_REPLY_MAP 9
#define MF_REDIS_REPLY_SET 10
#define MF_REDIS_REPLY_ATTR 11
#define MF_REDIS_REPLY_PUSH 12
#define MF_REDIS_REPLY_BIGNUM 13
#define MF_REDIS_REPLY_VERB 14

#endif
