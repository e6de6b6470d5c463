#ifndef MAILFLEET_CPOSTGRES_SHIM_H
#define MAILFLEET_CPOSTGRES_SHIM_H
#include <libpq-fe.h>
#include <errno.h>
#include <poll.h>

/// True when a result finished a command successfully (tuples, command or COPY states).
static inline int mf_pq_result_ok(const PGresult *result) {
    if (result == NULL) return 0;
    ExecStatusType s = PQresultStatus(result);
    return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK || s == PGRES_COPY_IN ||
           s == PGRES_COPY_OUT || s == PGRES_SINGLE_TUPLE || s == PGRES_PIPELINE_SYNC;
}

/// The five-character SQLSTATE of a failed result, or NULL.
static inline const char *mf_pq_result_sqlstate(const PGresult *result) {
    return result == NULL ? NULL : PQresultErrorField(result, PG_DIAG_SQLSTATE);
}

/// Discards a server notice (NOTICE/WARNING), so that libpq does not print it to stderr.
static inline void mf_pq_discard_notice(void *arg, const char *message) {
    (void)arg;
    (void)message;
}

/// Installs the notice processor that discards notices on a connection.
static inline void mf_pq_silence_notices(PGconn *conn) {
    PQsetNoticeProcessor(conn, mf_pq_discard_notice, NULL);
}

/// The primary human-readable message of a failed result, or NULL (Swift does not import the
/// character-literal PG_DIAG_* macros).
static inline const char *mf_pq_result_primary_message(const PGresult *result) {
    return result == NULL ? NULL : PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
}

/// True when an idle connection is known to be dead. Reads whatever the server sent while we were
/// idle (a FATAL message when the backend was terminated, then EOF) without blocking, so that a pool
/// reconnects instead of failing the next query. Asynchronous notices or parameter changes are
/// consumed harmlessly and leave the connection healthy.
static inline int mf_pq_idle_connection_broken(PGconn *conn) {
    if (conn == NULL || PQstatus(conn) != CONNECTION_OK) return 1;
    for (int i = 0; i < 16; i++) {
        struct pollfd p = { PQsocket(conn), POLLIN, 0 };
        int n = poll(&p, 1, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return 1;
        }
        if (n == 0) return 0;
        if (!PQconsumeInput(conn)) return 1;
        if (PQstatus(conn) != CONNECTION_OK) return 1;
    }
    return 0;
}

#endif
