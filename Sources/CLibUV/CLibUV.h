// CLibUV: the libuv headers, plus shims for what Swift cannot express directly.
// Every shim is prefixed `clibuv_` and says why it exists.
#ifndef CLIBUV_H
#define CLIBUV_H

#include <uv.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <signal.h>

// libuv "subclasses" handles by struct prefix; Swift cannot cast between the
// imported struct types, so these casts live here.
static inline uv_handle_t *clibuv_handle(void *h) { return (uv_handle_t *)h; }
static inline uv_stream_t *clibuv_stream(void *h) { return (uv_stream_t *)h; }

#include <errno.h>

// SO_PEERCRED fills a `struct ucred`, which glibc declares only under _GNU_SOURCE
// (not visible through Swift's Glibc module); this mirrors its layout.
struct clibuv_ucred { pid_t pid; uid_t uid; gid_t gid; };

/// The credentials of the process at the other end of a connected Unix socket.
/// Returns 0 and fills pid/uid/gid, or -errno.
static inline int clibuv_peer_credentials(int fd, pid_t *pid, uid_t *uid, gid_t *gid) {
    struct clibuv_ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return -errno;
    *pid = cred.pid; *uid = cred.uid; *gid = cred.gid;
    return 0;
}

#endif
