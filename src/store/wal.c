/* wal.c - the write-ahead log (wal.h, docs/wal.md).
 *
 * Positions: the lsn is the count of record bytes appended since open.
 * Bytes [written, appended) wait in `out`; write() hands them to the page
 * cache at commit points (each request's alerts) and on the timer; the
 * helper process fdatasyncs a segment up to a position and answers, and
 * `durable` follows its answers. A failed write() leaves the file as it was
 * before the attempt (a partial write is truncated away), so a later record
 * never follows a torn one.
 *
 * Which segment an alert lives in: segments are appended in order and each
 * remembers the first sequence number given out while it was current, so
 * an alert's segment is the last one whose first_seq is <= its seq. Each
 * segment counts its alerts still held (live); the oldest segment is
 * deleted when its count is 0, oldest first, so that the DONE records a
 * segment holds about older alerts are never needed once it is gone.
 *
 * Spill (overflow = spill): a receiver that leaves a notification on disk
 * owes its seqs (struct spill, in order) and the seqs it owes are counted
 * in `smap` (receivers owing it, alert objects in memory carrying it); such
 * a seq is freed (FREED, its segment's live count) only when both counts
 * are 0, so an alert whose memory went stays held on disk. Read-back scans
 * the owed seqs' segments forward from a cursor per receiver.
 */
#include "notifyd/wal.h"

#include <dirent.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "notifyd/alert.h"
#include "notifyd/buf.h"
#include "notifyd/config.h"
#include "notifyd/crc32c.h"
#include "notifyd/log.h"
#include "notifyd/notification.h"
#include "notifyd/util.h"

/* ---- little-endian helpers ---- */

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}
static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void add32(struct nd_buf *b, uint32_t v)
{
    unsigned char t[4];
    put32(t, v);
    nd_buf_add(b, t, 4);
}
static void add64(struct nd_buf *b, uint64_t v)
{
    unsigned char t[8];
    put64(t, v);
    nd_buf_add(b, t, 8);
}
static void addstr(struct nd_buf *b, const char *s)
{
    size_t n = strlen(s);
    add32(b, (uint32_t)n);
    nd_buf_add(b, s, n);
}

/* ---- records ---- */

void nd_wal_record_encode(struct nd_buf *out, int type, const void *payload, uint32_t len)
{
    unsigned char h[ND_WAL_HEADER];
    unsigned char t = (unsigned char)type;
    uint32_t crc = nd_crc32c(nd_crc32c(0, &t, 1), payload, len);
    put32(h, len);
    put32(h + 4, crc);
    h[8] = t;
    nd_buf_add(out, h, sizeof h);
    nd_buf_add(out, payload, len);
}

int nd_wal_record_decode(const void *p, size_t n, struct nd_wal_record *rec, size_t *used)
{
    const unsigned char *s = p;
    if (n < ND_WAL_HEADER)
        return ND_EAGAIN;
    uint32_t len = get32(s);
    if (len > ND_WAL_MAX_PAYLOAD)
        return ND_EINVAL;
    int type = s[8];
    if (type < ND_WAL_ALERT || type > ND_WAL_FREED)
        return ND_EINVAL;
    if (n - ND_WAL_HEADER < len)
        return ND_EAGAIN;
    if (nd_crc32c(0, s + 8, (size_t)len + 1) != get32(s + 4))
        return ND_EINVAL;
    rec->type = type;
    rec->payload = s + ND_WAL_HEADER;
    rec->len = len;
    *used = ND_WAL_HEADER + (size_t)len;
    return ND_OK;
}

/* seq u64 | status u8 | starts sec i64, nsec i32, offset i32 | ends (same)
 * | nlabels u16 | nannotations u16 | (u32 len + bytes) per label name,
 * label value, annotation name, annotation value | url (u32 len + bytes) */
void nd_wal_alert_encode(struct nd_buf *out, uint64_t seq, const struct nd_alert *a)
{
    add64(out, seq);
    nd_buf_addc(out, (char)a->status);
    struct nd_time t[2] = {nd_alert_starts_at(a), nd_alert_ends_at(a)};
    for (int i = 0; i < 2; i++) {
        add64(out, (uint64_t)t[i].sec);
        add32(out, (uint32_t)t[i].nsec);
        add32(out, (uint32_t)t[i].offset);
    }
    unsigned char c[4] = {(unsigned char)a->nlabels, (unsigned char)(a->nlabels >> 8),
                          (unsigned char)a->nannotations, (unsigned char)(a->nannotations >> 8)};
    nd_buf_add(out, c, 4);
    for (size_t i = 0; i < a->nlabels; i++) {
        struct nd_kv kv = nd_alert_label_at(a, i);
        addstr(out, kv.name);
        addstr(out, kv.value);
    }
    struct nd_buf scratch;
    nd_buf_init(&scratch, SIZE_MAX / 2);
    for (size_t i = 0; i < a->nannotations; i++) {
        struct nd_kv kv = nd_alert_annotation_at(a, i, &scratch);
        addstr(out, kv.name);
        addstr(out, kv.value);
    }
    nd_buf_deinit(&scratch);
    addstr(out, nd_alert_generator_url(a));
}

struct rd {
    const unsigned char *p;
    size_t n;
};

static int rd_str(struct rd *r, const char **s, size_t *len)
{
    if (r->n < 4)
        return ND_EINVAL;
    uint32_t l = get32(r->p);
    if (r->n - 4 < l)
        return ND_EINVAL;
    *s = (const char *)r->p + 4;
    *len = l;
    r->p += 4 + (size_t)l;
    r->n -= 4 + (size_t)l;
    return ND_OK;
}

struct nd_alert *nd_wal_alert_decode(const unsigned char *p, size_t n, struct nd_alert_builder *b,
                                     const char *cluster, uint64_t *seq, char *err)
{
    const size_t fixed = 8 + 1 + 2 * 16 + 4;
    if (n < fixed) {
        nd_seterr(err, ND_EINVAL, "alert record too short");
        return NULL;
    }
    *seq = get64(p);
    int status = p[8];
    struct nd_time t[2];
    for (int i = 0; i < 2; i++) {
        const unsigned char *q = p + 9 + 16 * i;
        t[i].sec = (int64_t)get64(q);
        t[i].nsec = (int32_t)get32(q + 8);
        t[i].offset = (int32_t)get32(q + 12);
        if (t[i].nsec < 0 || t[i].nsec > 999999999 || t[i].offset < -86400 || t[i].offset > 86400) {
            nd_seterr(err, ND_EINVAL, "alert record: bad time");
            return NULL;
        }
    }
    size_t nl = (size_t)p[41] | (size_t)p[42] << 8;
    size_t na = (size_t)p[43] | (size_t)p[44] << 8;
    struct rd r = {p + fixed, n - fixed};
    nd_alert_builder_reset(b);
    int rc = ND_OK;
    for (size_t i = 0; i < nl + na && rc == ND_OK; i++) {
        const char *k, *v;
        size_t kl, vl;
        rc = rd_str(&r, &k, &kl);
        if (rc == ND_OK)
            rc = rd_str(&r, &v, &vl);
        if (rc == ND_OK && kl == 0)
            rc = ND_EINVAL;
        if (rc == ND_OK)
            rc = i < nl ? nd_alert_builder_add_label(b, k, kl, v, vl)
                        : nd_alert_builder_add_annotation(b, k, kl, v, vl);
    }
    const char *url;
    size_t ul = 0;
    if (rc == ND_OK)
        rc = rd_str(&r, &url, &ul);
    if (rc == ND_OK && ul)
        rc = nd_alert_builder_set_generator_url(b, url, ul);
    if (rc == ND_OK && r.n)
        rc = ND_EINVAL;
    if (rc != ND_OK) {
        nd_alert_builder_reset(b);
        nd_seterr(err, ND_EINVAL, "alert record: malformed strings");
        return NULL;
    }
    nd_alert_builder_set_times(b, &t[0], &t[1]);
    nd_alert_builder_set_status(b, status ? ND_ALERT_RESOLVED : ND_ALERT_FIRING);
    return nd_alert_builder_finish(b, cluster, 0, err);
}

void nd_wal_done_encode(struct nd_buf *out, const char *receiver, const uint64_t *seqs, uint32_t n)
{
    size_t nl = strlen(receiver);
    if (nl > ND_WAL_MAX_NAME)
        nl = ND_WAL_MAX_NAME;
    unsigned char h[2] = {(unsigned char)nl, (unsigned char)(nl >> 8)};
    nd_buf_add(out, h, 2);
    nd_buf_add(out, receiver, nl);
    add32(out, n);
    for (uint32_t i = 0; i < n; i++)
        add64(out, seqs[i]);
}

int nd_wal_done_decode(const unsigned char *p, size_t n, const char **name, size_t *namelen,
                       const unsigned char **seqs, uint32_t *count)
{
    if (n < 2)
        return ND_EINVAL;
    size_t nl = (size_t)p[0] | (size_t)p[1] << 8;
    if (nl == 0 || nl > ND_WAL_MAX_NAME || n - 2 < nl)
        return ND_EINVAL;
    *name = (const char *)p + 2;
    *namelen = nl;
    if (memchr(*name, '\0', nl))
        return ND_EINVAL;
    return nd_wal_freed_decode(p + 2 + nl, n - 2 - nl, seqs, count);
}

int nd_wal_freed_decode(const unsigned char *p, size_t n, const unsigned char **seqs,
                        uint32_t *count)
{
    if (n < 4)
        return ND_EINVAL;
    uint32_t c = get32(p);
    if ((n - 4) / 8 != c || (n - 4) % 8)
        return ND_EINVAL;
    *seqs = p + 4;
    *count = c;
    return ND_OK;
}

uint64_t nd_wal_seq_at(const unsigned char *seqs, uint32_t i)
{
    return get64(seqs + 8 * (size_t)i);
}

/* ---- alert -> seq map (open addressing, pointer keys) ---- */

#define TOMB ((uintptr_t)1)

struct slot {
    uintptr_t key; /* 0 empty, TOMB removed */
    uint64_t seq;
    size_t ridx; /* replay entry + 1, or 0 */
};

struct map {
    struct slot *s;
    size_t cap, used, live; /* used counts tombstones too */
};

static size_t hash_ptr(uintptr_t k)
{
    uint64_t x = (uint64_t)k;
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    return (size_t)x;
}

static void map_put(struct map *m, uintptr_t k, uint64_t seq, size_t ridx);

static void map_grow(struct map *m)
{
    struct map old = *m;
    m->cap = old.cap ? (old.live * 4 > old.cap ? old.cap * 2 : old.cap) : 1024;
    m->s = nd_xcalloc(m->cap, sizeof *m->s);
    m->used = m->live = 0;
    for (size_t i = 0; i < old.cap; i++)
        if (old.s[i].key > TOMB)
            map_put(m, old.s[i].key, old.s[i].seq, old.s[i].ridx);
    free(old.s);
}

static void map_put(struct map *m, uintptr_t k, uint64_t seq, size_t ridx)
{
    if ((m->used + 1) * 2 > m->cap)
        map_grow(m);
    size_t i = hash_ptr(k) & (m->cap - 1);
    while (m->s[i].key > TOMB)
        i = (i + 1) & (m->cap - 1);
    if (m->s[i].key == 0)
        m->used++;
    m->s[i].key = k;
    m->s[i].seq = seq;
    m->s[i].ridx = ridx;
    m->live++;
}

static struct slot *map_get(const struct map *m, uintptr_t k)
{
    if (!m->cap)
        return NULL;
    size_t i = hash_ptr(k) & (m->cap - 1);
    while (m->s[i].key != 0) {
        if (m->s[i].key == k)
            return &m->s[i];
        i = (i + 1) & (m->cap - 1);
    }
    return NULL;
}

/* ---- the log ---- */

struct seg {
    uint64_t id;
    uint64_t first_seq;
    uint64_t live;
};

struct waiter {
    uint64_t lsn;
    nd_wal_durable_cb *cb;
    void *ud;
};

struct replay {
    struct nd_alert *a;
    uint64_t seq;
    char **done; /* receivers done with it before the restart */
    size_t ndone;
    int freed;
};

/* What one receiver owes on disk only (overflow = spill): the sequence
 * numbers in increasing order, seqs[head, head + n), and where reading
 * back stopped (a segment and an offset in it). */
struct spill {
    char *name;
    uint64_t *seqs;
    size_t head, n, cap;
    uint64_t cur_seg, cur_off;
    uint64_t spilled, readback, full, removed, unreadable; /* totals */
    uint64_t log_spilled, log_full;                        /* since the last log line */
    bool unsorted; /* seqs pushed far out of order: spill_sort before use */
};

/* seq -> how many receivers owe it on disk (owed) and how many alert
 * objects in memory carry it (mem), for the seqs some spill owes: such a
 * seq is freed when both are 0, not when one object's memory goes. */
struct sslot {
    uint64_t seq; /* 0 empty, UINT64_MAX removed */
    uint32_t owed, mem;
};

struct smap {
    struct sslot *s;
    size_t cap, used, live;
};

struct sync_req {
    uint64_t seg;
    uint64_t lsn;
};
struct sync_rep {
    uint64_t lsn;
    int32_t err;
    int32_t pad;
};

struct nd_wal {
    struct event_base *base;
    char *dir;
    int policy;
    int64_t interval_ns;
    uint64_t segment_size;
    char *cluster;
    uint64_t max_alert_bytes;
    char *fail_path; /* test hook: writes fail with ENOSPC while this file exists */

    int fd; /* current segment, or -1 after a failed rotation */
    uint64_t seg_off;
    struct seg *segs;
    size_t nsegs, capsegs;
    uint64_t next_seq;

    struct nd_buf out;
    uint64_t appended, written, requested, durable;
    int outstanding;
    int write_errno; /* the last write failed with this; 0 when fine */
    int helper_dead;

    uint64_t *freed;
    size_t nfreed, capfreed;

    struct map map;
    struct waiter *waiters;
    size_t whead, nwaiters, capwaiters;

    struct replay *rep;
    size_t nrep;

    struct spill **spills;
    size_t nspills;
    struct smap smap;
    /* Notifications whose done hook writes nothing (spilled or kept), each
     * removed when it fires:
     * the address may be reused after that. Usually one, briefly; several
     * when the lanes of a fanned-out notification end one by one. */
    const struct nd_notification **mutes;
    size_t nmutes, capmutes;
    int64_t spill_log_ns;    /* mono time of the last spill log line */
    int64_t rb_retry_log_ns; /* mono time of the last "read-back will retry" line */

    pid_t helper;
    int sock;
    struct event *ev_sock, *timer;
    struct nd_wal_stats st;
};

#define OUT_LIMIT     (SIZE_MAX / 2)
#define WRITE_AT      (UINT64_C(1) << 20) /* write at once past this much buffered */
#define FREED_AT      4096u               /* seqs per FREED record */
#define SEGNAME_LEN   (16 + 4)
#define SEG_PATH_SIZE 4200

static void seg_path(const char *dir, uint64_t id, char *out)
{
    snprintf(out, SEG_PATH_SIZE, "%s/%016" PRIx64 ".wal", dir, id);
}

static int failing(const struct nd_wal *w)
{
    return w->fail_path && access(w->fail_path, F_OK) == 0;
}

static void log_errno(const char *msg, int e, const char *what)
{
    nd_log(ND_LOG_ERROR, msg, "err", strerror(e), "path", what, NULL);
}

static int open_segment(struct nd_wal *w, uint64_t id, char *err)
{
    char path[SEG_PATH_SIZE];
    seg_path(w->dir, id, path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0)
        return nd_seterr(err, ND_ERR, "%s: %s", path, strerror(errno));
    if (write(fd, ND_WAL_MAGIC, ND_WAL_MAGIC_LEN) != (ssize_t)ND_WAL_MAGIC_LEN) {
        int e = errno;
        close(fd);
        unlink(path);
        return nd_seterr(err, ND_ERR, "%s: %s", path, strerror(e ? e : EIO));
    }
    if (w->nsegs == w->capsegs) {
        w->capsegs = w->capsegs ? 2 * w->capsegs : 8;
        w->segs = nd_xrealloc(w->segs, w->capsegs * sizeof *w->segs);
    }
    w->segs[w->nsegs++] = (struct seg){.id = id, .first_seq = w->next_seq, .live = 0};
    w->fd = fd;
    w->seg_off = ND_WAL_MAGIC_LEN;
    w->st.segments = w->nsegs;
    return ND_OK;
}

static void send_sync(struct nd_wal *w)
{
    if (w->policy == ND_FSYNC_NONE || w->helper_dead || w->written <= w->requested || !w->nsegs)
        return;
    struct sync_req r = {.seg = w->segs[w->nsegs - 1].id, .lsn = w->written};
    ssize_t k = send(w->sock, &r, sizeof r, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (k == (ssize_t)sizeof r) {
        w->requested = w->written;
        w->outstanding++;
    }
    /* EAGAIN: the helper is behind; the timer asks again. */
}

/* Writes `out` whole or not at all; rotates after a full segment. */
static int write_out(struct nd_wal *w)
{
    char err[ND_ERRLEN];
    if (w->fd < 0) {
        if (open_segment(w, w->segs[w->nsegs - 1].id + 1, err) != ND_OK) {
            w->write_errno = EIO;
            w->st.write_errors++;
            return ND_ERR;
        }
    }
    size_t done = 0;
    while (done < w->out.len) {
        ssize_t k;
        if (failing(w)) {
            k = -1;
            errno = ENOSPC;
        } else {
            k = write(w->fd, w->out.data + done, w->out.len - done);
        }
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            int e = k < 0 ? errno : EIO;
            if (done && ftruncate(w->fd, (off_t)w->seg_off) != 0) {
                /* The torn bytes stay; replay cuts the segment there. Start
                 * a new segment so that later records are not behind them. */
                close(w->fd);
                w->fd = -1;
            }
            if (!w->write_errno) {
                char path[SEG_PATH_SIZE];
                seg_path(w->dir, w->segs[w->nsegs - 1].id, path);
                log_errno("write-ahead log: write failed, refusing alerts", e, path);
            }
            w->write_errno = e;
            w->st.write_errors++;
            return ND_ERR;
        }
        done += (size_t)k;
    }
    if (w->write_errno)
        nd_log(ND_LOG_INFO, "write-ahead log: writing again", NULL);
    w->write_errno = 0;
    w->seg_off += w->out.len;
    w->written += w->out.len;
    w->st.bytes_written += w->out.len;
    nd_buf_reset(&w->out);
    if (w->seg_off >= w->segment_size) {
        /* The helper syncs the old segment by name before the new one;
         * before it exists (replay at open) this is done here. */
        if (w->sock >= 0)
            send_sync(w);
        /* Before the helper exists (replay at open), or when it could not
         * take the request (its socket full: it is far behind), the old
         * segment is synced here, blocking: later requests name the new
         * segment only. */
        if (w->policy != ND_FSYNC_NONE && !w->helper_dead && w->requested < w->written)
            fdatasync(w->fd);
        close(w->fd);
        w->fd = -1;
        if (open_segment(w, w->segs[w->nsegs - 1].id + 1, err) != ND_OK) {
            nd_log(ND_LOG_ERROR, "write-ahead log: cannot open a segment", "err", err, NULL);
            w->write_errno = EIO;
        }
    }
    return ND_OK;
}

static void spill_log(struct nd_wal *w, bool force);

static void flush_freed(struct nd_wal *w)
{
    if (!w->nfreed)
        return;
    size_t at = w->out.len;
    add32(&w->out, (uint32_t)w->nfreed);
    for (size_t i = 0; i < w->nfreed; i++)
        add64(&w->out, w->freed[i]);
    /* Encode in place: move the payload behind a header. */
    size_t plen = w->out.len - at;
    char *copy = nd_xmalloc(plen);
    memcpy(copy, w->out.data + at, plen);
    w->out.len = at;
    nd_wal_record_encode(&w->out, ND_WAL_FREED, copy, (uint32_t)plen);
    free(copy);
    w->appended += ND_WAL_HEADER + plen;
    w->st.records++;
    w->nfreed = 0;
}

static void finish_waiters(struct nd_wal *w, uint64_t upto, int rc)
{
    while (w->whead < w->nwaiters && w->waiters[w->whead].lsn <= upto) {
        struct waiter x = w->waiters[w->whead++];
        x.cb(x.ud, rc);
    }
    if (w->whead == w->nwaiters)
        w->whead = w->nwaiters = 0;
}

static void on_timer(evutil_socket_t fd, short what, void *ud)
{
    struct nd_wal *w = ud;
    (void)fd;
    (void)what;
    flush_freed(w);
    if (w->out.len)
        write_out(w);
    if (w->policy == ND_FSYNC_BATCH || !w->outstanding)
        send_sync(w);
    spill_log(w, false);
}

static void fail_helper(struct nd_wal *w, const char *why)
{
    if (!w->helper_dead)
        nd_log(ND_LOG_ERROR, "write-ahead log: fsync helper gone, refusing alerts", "why", why,
               NULL);
    w->helper_dead = 1;
    event_del(w->ev_sock);
    finish_waiters(w, UINT64_MAX, ND_ERR);
}

static void on_sock(evutil_socket_t fd, short what, void *ud)
{
    struct nd_wal *w = ud;
    (void)what;
    for (;;) {
        struct sync_rep r;
        ssize_t k = recv(fd, &r, sizeof r, MSG_DONTWAIT);
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            break;
        if (k != (ssize_t)sizeof r) {
            fail_helper(w, k == 0 ? "closed" : "bad answer");
            return;
        }
        if (w->outstanding)
            w->outstanding--;
        if (r.err) {
            w->st.write_errors++;
            nd_log(ND_LOG_ERROR, "write-ahead log: fdatasync failed", "err", strerror(r.err), NULL);
            finish_waiters(w, r.lsn, ND_ERR);
            continue;
        }
        w->st.fsyncs++;
        if (r.lsn > w->durable)
            w->durable = r.lsn;
        finish_waiters(w, w->durable, ND_OK);
    }
    if (w->policy == ND_FSYNC_ALWAYS && !w->outstanding)
        send_sync(w);
}

/* The helper: fdatasync on request, nothing else. */
static void helper_main(int sock, const char *dir)
{
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    uint64_t cur = UINT64_MAX;
    int fd = -1;
    for (;;) {
        struct sync_req r;
        ssize_t k = recv(sock, &r, sizeof r, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k != (ssize_t)sizeof r)
            break;
        int e = 0;
        if (r.seg != cur) {
            if (fd >= 0)
                close(fd);
            char path[SEG_PATH_SIZE];
            seg_path(dir, r.seg, path);
            fd = open(path, O_RDONLY | O_CLOEXEC);
            cur = r.seg;
            /* A segment already deleted held nothing anyone still needs. */
            if (fd < 0 && errno != ENOENT)
                e = errno;
            /* The new file's directory entry must be durable too. */
            if (fd >= 0 && dfd >= 0 && fsync(dfd) != 0)
                e = errno;
        }
        if (fd >= 0 && fdatasync(fd) != 0)
            e = errno;
        struct sync_rep p = {.lsn = r.lsn, .err = e};
        if (send(sock, &p, sizeof p, MSG_NOSIGNAL) != (ssize_t)sizeof p)
            break;
    }
    _exit(0);
}

static int start_helper(struct nd_wal *w, char *err)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        return nd_seterr(err, ND_ERR, "socketpair: %s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(sv[0]);
        close(sv[1]);
        return nd_seterr(err, ND_ERR, "fork: %s", strerror(errno));
    }
    if (pid == 0) {
        close(sv[0]);
        if (w->fd >= 0)
            close(w->fd);
        helper_main(sv[1], w->dir);
    }
    close(sv[1]);
    w->helper = pid;
    w->sock = sv[0];
    evutil_make_socket_nonblocking(w->sock);
    w->ev_sock = event_new(w->base, w->sock, EV_READ | EV_PERSIST, on_sock, w);
    event_add(w->ev_sock, NULL);
    return ND_OK;
}

/* ---- open: read the segments back ---- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static struct replay *rep_find(struct nd_wal *w, uint64_t seq)
{
    size_t lo = 0, hi = w->nrep;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (w->rep[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < w->nrep && w->rep[lo].seq == seq ? &w->rep[lo] : NULL;
}

static void rep_add_done(struct replay *r, const char *name, size_t nl)
{
    for (size_t i = 0; i < r->ndone; i++)
        if (strlen(r->done[i]) == nl && !memcmp(r->done[i], name, nl))
            return;
    r->done = nd_xrealloc(r->done, (r->ndone + 1) * sizeof *r->done);
    char *s = nd_xmalloc(nl + 1);
    memcpy(s, name, nl);
    s[nl] = '\0';
    r->done[r->ndone++] = s;
}

static int read_file(const char *path, unsigned char **data, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ND_ERR;
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        close(fd);
        return ND_ERR;
    }
    size_t n = (size_t)sb.st_size;
    unsigned char *p = nd_xmalloc(n ? n : 1);
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, p + got, n - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fd);
    *data = p;
    *len = got;
    return ND_OK;
}

static void scan_segment(struct nd_wal *w, const char *path, struct nd_alert_builder *b)
{
    unsigned char *data;
    size_t len;
    if (read_file(path, &data, &len) != ND_OK) {
        log_errno("write-ahead log: cannot read a segment", errno, path);
        w->st.corrupt++;
        return;
    }
    if (len < ND_WAL_MAGIC_LEN || memcmp(data, ND_WAL_MAGIC, ND_WAL_MAGIC_LEN)) {
        if (len) { /* an empty file is a segment created just before a crash */
            nd_log(ND_LOG_WARN, "write-ahead log: not a segment, ignored", "path", path, NULL);
            w->st.corrupt++;
        }
        free(data);
        return;
    }
    size_t off = ND_WAL_MAGIC_LEN;
    char err[ND_ERRLEN];
    while (off < len) {
        struct nd_wal_record rec;
        size_t used;
        int rc = nd_wal_record_decode(data + off, len - off, &rec, &used);
        if (rc != ND_OK) {
            char at[32];
            snprintf(at, sizeof at, "%zu", off);
            nd_log(ND_LOG_WARN, "write-ahead log: segment cut at a bad record", "path", path,
                   "offset", at, "reason", rc == ND_EAGAIN ? "truncated" : "checksum or header",
                   NULL);
            w->st.corrupt++;
            break;
        }
        off += used;
        const unsigned char *seqs;
        uint32_t count;
        if (rec.type == ND_WAL_ALERT) {
            uint64_t seq = 0;
            struct nd_alert *a =
                rec.len <= w->max_alert_bytes + 65536
                    ? nd_wal_alert_decode(rec.payload, rec.len, b, w->cluster, &seq, err)
                    : NULL;
            if (!a || (w->nrep && seq <= w->rep[w->nrep - 1].seq)) {
                nd_log(ND_LOG_WARN, "write-ahead log: alert record skipped", "path", path, "err",
                       a ? "sequence out of order" : err, NULL);
                nd_alert_unref(a);
                w->st.corrupt++;
                continue;
            }
            w->rep = nd_xrealloc(w->rep, (w->nrep + 1) * sizeof *w->rep);
            w->rep[w->nrep++] = (struct replay){.a = a, .seq = seq};
        } else if (rec.type == ND_WAL_DONE) {
            const char *name;
            size_t nl;
            if (nd_wal_done_decode(rec.payload, rec.len, &name, &nl, &seqs, &count) != ND_OK)
                continue;
            for (uint32_t i = 0; i < count; i++) {
                struct replay *r = rep_find(w, nd_wal_seq_at(seqs, i));
                if (r)
                    rep_add_done(r, name, nl);
            }
        } else if (nd_wal_freed_decode(rec.payload, rec.len, &seqs, &count) == ND_OK) {
            for (uint32_t i = 0; i < count; i++) {
                struct replay *r = rep_find(w, nd_wal_seq_at(seqs, i));
                if (r)
                    r->freed = 1;
            }
        }
    }
    free(data);
}

static void rep_free_entry(struct replay *r)
{
    for (size_t i = 0; i < r->ndone; i++)
        free(r->done[i]);
    free(r->done);
    r->done = NULL;
    r->ndone = 0;
}

static size_t list_segments(const char *dir, uint64_t **ids)
{
    *ids = NULL;
    DIR *dh = opendir(dir);
    if (!dh)
        return 0;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(dh))) {
        const char *s = de->d_name;
        if (strlen(s) != SEGNAME_LEN || strcmp(s + 16, ".wal"))
            continue;
        char *end;
        uint64_t id = strtoull(s, &end, 16);
        if (end != s + 16)
            continue;
        *ids = nd_xrealloc(*ids, (n + 1) * sizeof **ids);
        (*ids)[n++] = id;
    }
    closedir(dh);
    if (n > 1) /* *ids is NULL when there is none: qsort must not see it */
        qsort(*ids, n, sizeof **ids, cmp_u64);
    return n;
}

static int register_alert(struct nd_wal *w, struct nd_alert *a, uint64_t seq, size_t ridx)
{
    map_put(&w->map, (uintptr_t)a, seq, ridx);
    w->segs[w->nsegs - 1].live++;
    return ND_OK;
}

struct nd_wal *nd_wal_open(struct event_base *base, const struct nd_wal_opts *o, char *err)
{
    if (mkdir(o->dir, 0750) != 0 && errno != EEXIST) {
        nd_seterr(err, ND_ERR, "wal_dir %s: %s", o->dir, strerror(errno));
        return NULL;
    }
    struct nd_wal *w = nd_xcalloc(1, sizeof *w);
    w->base = base;
    w->dir = nd_xstrdup(o->dir);
    w->policy = o->fsync;
    w->interval_ns = o->fsync_interval_ns > 0 ? o->fsync_interval_ns : 10000000;
    w->segment_size = o->segment_size ? o->segment_size : UINT64_C(64) << 20;
    w->cluster = nd_xstrdup(o->cluster ? o->cluster : "default");
    w->max_alert_bytes = o->max_alert_bytes ? o->max_alert_bytes : UINT64_C(1) << 20;
    const char *fp = getenv("NOTIFYD_TEST_WAL_FAIL");
    w->fail_path = fp && *fp ? nd_xstrdup(fp) : NULL;
    w->fd = -1;
    w->sock = -1;
    w->next_seq = 1;
    nd_buf_init(&w->out, OUT_LIMIT);

    uint64_t *ids;
    size_t nids = list_segments(o->dir, &ids);
    struct nd_alert_builder b;
    nd_alert_builder_init(&b, (size_t)w->max_alert_bytes);
    char path[SEG_PATH_SIZE];
    for (size_t i = 0; i < nids; i++) {
        seg_path(o->dir, ids[i], path);
        scan_segment(w, path, &b);
    }
    nd_alert_builder_deinit(&b);
    if (w->nrep)
        w->next_seq = w->rep[w->nrep - 1].seq + 1;

    if (open_segment(w, nids ? ids[nids - 1] + 1 : 1, err) != ND_OK) {
        free(ids);
        nd_wal_free(w);
        return NULL;
    }
    /* Log the alerts still owed again in the fresh segment, with the
     * receivers already done with them, so the old segments can go. */
    size_t keep = 0;
    for (size_t i = 0; i < w->nrep; i++) {
        struct replay *r = &w->rep[i];
        if (r->freed) {
            nd_alert_unref(r->a);
            rep_free_entry(r);
            continue;
        }
        struct replay nr = *r;
        nr.seq = w->next_seq++;
        size_t at = w->out.len;
        nd_wal_alert_encode(&w->out, nr.seq, nr.a);
        size_t plen = w->out.len - at;
        char *copy = nd_xmalloc(plen);
        memcpy(copy, w->out.data + at, plen);
        w->out.len = at;
        nd_wal_record_encode(&w->out, ND_WAL_ALERT, copy, (uint32_t)plen);
        free(copy);
        for (size_t k = 0; k < nr.ndone; k++) {
            struct nd_buf p;
            nd_buf_init(&p, OUT_LIMIT);
            nd_wal_done_encode(&p, nr.done[k], &nr.seq, 1);
            nd_wal_record_encode(&w->out, ND_WAL_DONE, p.data, (uint32_t)p.len);
            nd_buf_deinit(&p);
        }
        w->rep[keep++] = nr;
    }
    w->nrep = keep;
    w->st.replayed = keep;
    w->appended = w->out.len;
    for (size_t i = 0; i < w->nrep; i++)
        register_alert(w, w->rep[i].a, w->rep[i].seq, i + 1);
    if (write_out(w) != ND_OK || fdatasync(w->fd) != 0) {
        nd_seterr(err, ND_ERR, "wal_dir %s: cannot write the replayed alerts: %s", o->dir,
                  strerror(w->write_errno ? w->write_errno : errno));
        free(ids);
        nd_wal_free(w);
        return NULL;
    }
    w->durable = w->requested = w->written;
    int dfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        if (fsync(dfd) != 0)
            nd_log(ND_LOG_WARN, "write-ahead log: fsync of the directory failed", "err",
                   strerror(errno), NULL);
        close(dfd);
    }
    for (size_t i = 0; i < nids; i++) {
        seg_path(o->dir, ids[i], path);
        if (unlink(path) != 0)
            log_errno("write-ahead log: cannot delete a segment", errno, path);
    }
    free(ids);
    if (w->policy != ND_FSYNC_NONE && start_helper(w, err) != ND_OK) {
        nd_wal_free(w);
        return NULL;
    }
    w->timer = event_new(base, -1, EV_PERSIST, on_timer, w);
    struct timeval tv = {.tv_sec = (time_t)(w->interval_ns / 1000000000),
                         .tv_usec = (suseconds_t)(w->interval_ns % 1000000000 / 1000)};
    event_add(w->timer, &tv);
    return w;
}

void nd_wal_free(struct nd_wal *w)
{
    if (!w)
        return;
    spill_log(w, true); /* the last second's counts */
    if (w->fd >= 0) {
        flush_freed(w);
        if (w->out.len)
            write_out(w);
        if (w->fd >= 0 && w->policy != ND_FSYNC_NONE)
            fdatasync(w->fd);
        close(w->fd);
    }
    if (w->timer)
        event_free(w->timer);
    if (w->ev_sock)
        event_free(w->ev_sock);
    if (w->sock >= 0)
        close(w->sock); /* the helper reads EOF and exits */
    if (w->helper > 0)
        waitpid(w->helper, NULL, 0);
    nd_wal_replay_end(w);
    for (size_t i = 0; i < w->nspills; i++) {
        free(w->spills[i]->name);
        free(w->spills[i]->seqs);
        free(w->spills[i]);
    }
    free(w->spills);
    free(w->smap.s);
    free(w->mutes);
    free(w->rep);
    free(w->segs);
    free(w->freed);
    free(w->map.s);
    free(w->waiters);
    nd_buf_deinit(&w->out);
    free(w->dir);
    free(w->cluster);
    free(w->fail_path);
    free(w);
}

void nd_wal_replay_take(struct nd_wal *w, struct nd_alert ***alerts, size_t *n)
{
    *n = w->nrep;
    *alerts = nd_xcalloc(w->nrep ? w->nrep : 1, sizeof **alerts);
    for (size_t i = 0; i < w->nrep; i++) {
        (*alerts)[i] = w->rep[i].a;
        w->rep[i].a = NULL;
    }
}

bool nd_wal_replay_done(const struct nd_wal *w, const struct nd_alert *a, const char *receiver)
{
    const struct slot *s = map_get(&w->map, (uintptr_t)a);
    if (!s || !s->ridx || s->ridx > w->nrep)
        return false;
    const struct replay *r = &w->rep[s->ridx - 1];
    for (size_t i = 0; i < r->ndone; i++)
        if (!strcmp(r->done[i], receiver))
            return true;
    return false;
}

void nd_wal_replay_end(struct nd_wal *w)
{
    for (size_t i = 0; i < w->nrep; i++) {
        rep_free_entry(&w->rep[i]);
        nd_alert_unref(w->rep[i].a); /* NULL once taken */
    }
    w->nrep = 0;
}

int nd_wal_append_alerts(struct nd_wal *w, struct nd_alert *const *alerts, size_t n, uint64_t *lsn,
                         char *err)
{
    if (w->helper_dead)
        return nd_seterr(err, ND_EFULL, "write-ahead log: fsync helper gone");
    if (w->fd < 0 && open_segment(w, w->segs[w->nsegs - 1].id + 1, err) != ND_OK) {
        w->st.write_errors++;
        return nd_seterr(err, ND_EFULL, "write-ahead log: cannot open a segment");
    }
    flush_freed(w);
    size_t mark = w->out.len;
    uint64_t first = w->next_seq;
    struct nd_buf p;
    nd_buf_init(&p, OUT_LIMIT);
    for (size_t i = 0; i < n; i++) {
        nd_buf_reset(&p);
        nd_wal_alert_encode(&p, first + i, alerts[i]);
        nd_wal_record_encode(&w->out, ND_WAL_ALERT, p.data, (uint32_t)p.len);
    }
    nd_buf_deinit(&p);
    uint64_t added = w->out.len - mark;
    w->appended += added;
    /* The seqs are given out before the write: a rotation inside it starts
     * the next segment past them. */
    size_t si = w->nsegs - 1;
    w->next_seq += n;
    if (write_out(w) != ND_OK) {
        w->out.len = mark;
        w->appended -= added;
        w->next_seq = first;
        return nd_seterr(err, ND_EFULL, "write-ahead log: %s", strerror(w->write_errno));
    }
    for (size_t i = 0; i < n; i++)
        map_put(&w->map, (uintptr_t)alerts[i], first + i, 0);
    w->segs[si].live += n;
    w->st.records += n;
    *lsn = w->written;
    return ND_OK;
}

bool nd_wal_failed(const struct nd_wal *w)
{
    return w->helper_dead || w->write_errno;
}

void nd_wal_wait(struct nd_wal *w, uint64_t lsn, nd_wal_durable_cb *cb, void *ud)
{
    if (w->policy != ND_FSYNC_ALWAYS || lsn <= w->durable) {
        cb(ud, ND_OK);
        return;
    }
    if (w->helper_dead) {
        cb(ud, ND_ERR);
        return;
    }
    if (w->nwaiters == w->capwaiters) {
        if (w->whead) {
            memmove(w->waiters, w->waiters + w->whead,
                    (w->nwaiters - w->whead) * sizeof *w->waiters);
            w->nwaiters -= w->whead;
            w->whead = 0;
        }
        if (w->nwaiters == w->capwaiters) {
            w->capwaiters = w->capwaiters ? 2 * w->capwaiters : 64;
            w->waiters = nd_xrealloc(w->waiters, w->capwaiters * sizeof *w->waiters);
        }
    }
    w->waiters[w->nwaiters++] = (struct waiter){.lsn = lsn, .cb = cb, .ud = ud};
    if (!w->outstanding)
        send_sync(w);
}

static void maybe_delete(struct nd_wal *w)
{
    while (w->nsegs > 1 && w->segs[0].live == 0) {
        char path[SEG_PATH_SIZE];
        seg_path(w->dir, w->segs[0].id, path);
        if (unlink(path) != 0 && errno != ENOENT)
            log_errno("write-ahead log: cannot delete a segment", errno, path);
        memmove(w->segs, w->segs + 1, (w->nsegs - 1) * sizeof *w->segs);
        w->nsegs--;
        w->st.segments_deleted++;
    }
    w->st.segments = w->nsegs;
}

/* Every receiver is done with seq: its segment holds one alert less, and
 * a FREED record says so. */
static void free_seq(struct nd_wal *w, uint64_t seq)
{
    size_t i = w->nsegs;
    while (i > 1 && w->segs[i - 1].first_seq > seq)
        i--;
    if (w->segs[i - 1].live)
        w->segs[i - 1].live--;
    if (w->nfreed == w->capfreed) {
        w->capfreed = w->capfreed ? 2 * w->capfreed : 256;
        w->freed = nd_xrealloc(w->freed, w->capfreed * sizeof *w->freed);
    }
    w->freed[w->nfreed++] = seq;
    if (w->nfreed >= FREED_AT)
        flush_freed(w);
    maybe_delete(w);
}

static struct sslot *smap_get(const struct smap *m, uint64_t seq);
static void smap_del(struct smap *m, struct sslot *e);

void nd_wal_on_release(void *ud, const struct nd_alert *a)
{
    struct nd_wal *w = ud;
    struct slot *s = map_get(&w->map, (uintptr_t)a);
    if (!s)
        return;
    uint64_t seq = s->seq;
    s->key = TOMB;
    w->map.live--;
    /* A receiver that spilled it still owes it: the memory goes, the
     * alert stays held on disk until that receiver's DONE. */
    struct sslot *e = w->smap.live ? smap_get(&w->smap, seq) : NULL;
    if (e) {
        if (e->mem)
            e->mem--;
        if (e->mem || e->owed)
            return;
        smap_del(&w->smap, e);
    }
    free_seq(w, seq);
}

void nd_wal_on_done(void *ud, const struct nd_notification *n)
{
    struct nd_wal *w = ud;
    for (size_t i = w->nmutes; i-- > 0;)
        if (w->mutes[i] == n) {
            w->mutes[i] = w->mutes[--w->nmutes];
            return;
        }
    if (!n->receiver || !n->nalerts)
        return;
    uint64_t one, *seqs = n->nalerts == 1 ? &one : nd_xmalloc(n->nalerts * sizeof *seqs);
    uint32_t k = 0;
    for (size_t i = 0; i < n->nalerts; i++) {
        const struct slot *s = map_get(&w->map, (uintptr_t)n->alerts[i]);
        if (s)
            seqs[k++] = s->seq;
    }
    if (k) {
        struct nd_buf p;
        nd_buf_init(&p, OUT_LIMIT);
        nd_wal_done_encode(&p, n->receiver, seqs, k);
        nd_wal_record_encode(&w->out, ND_WAL_DONE, p.data, (uint32_t)p.len);
        w->appended += ND_WAL_HEADER + p.len;
        w->st.records++;
        nd_buf_deinit(&p);
        if (w->out.len >= WRITE_AT)
            write_out(w);
    }
    if (seqs != &one)
        free(seqs);
}

/* ---- spill (overflow = spill) ---- */

#define SMAP_TOMB    UINT64_MAX
#define READ_CHUNK   (256u * 1024u)        /* bytes per pread when reading back */
#define READ_SCAN    (UINT64_C(4) << 20)   /* bytes scanned per read-back call */
#define SPILL_LOG_NS (INT64_C(1000000000)) /* one spill log line per second at most */

static size_t hash_seq(uint64_t x)
{
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    x ^= x >> 33;
    return (size_t)x;
}

static struct sslot *smap_get(const struct smap *m, uint64_t seq)
{
    if (!m->cap)
        return NULL;
    size_t i = hash_seq(seq) & (m->cap - 1);
    while (m->s[i].seq != 0) {
        if (m->s[i].seq == seq)
            return &m->s[i];
        i = (i + 1) & (m->cap - 1);
    }
    return NULL;
}

static struct sslot *smap_add(struct smap *m, uint64_t seq);

static void smap_grow(struct smap *m)
{
    struct smap old = *m;
    m->cap = old.cap ? (old.live * 4 > old.cap ? old.cap * 2 : old.cap) : 1024;
    m->s = nd_xcalloc(m->cap, sizeof *m->s);
    m->used = m->live = 0;
    for (size_t i = 0; i < old.cap; i++)
        if (old.s[i].seq != 0 && old.s[i].seq != SMAP_TOMB)
            *smap_add(m, old.s[i].seq) = old.s[i];
    free(old.s);
}

/* A new entry for seq (not in m), zero counts. */
static struct sslot *smap_add(struct smap *m, uint64_t seq)
{
    if ((m->used + 1) * 2 > m->cap)
        smap_grow(m);
    size_t i = hash_seq(seq) & (m->cap - 1);
    while (m->s[i].seq != 0 && m->s[i].seq != SMAP_TOMB)
        i = (i + 1) & (m->cap - 1);
    if (m->s[i].seq == 0)
        m->used++;
    m->s[i] = (struct sslot){.seq = seq};
    m->live++;
    return &m->s[i];
}

static void smap_del(struct smap *m, struct sslot *e)
{
    e->seq = SMAP_TOMB;
    m->live--;
}

static void add_mute(struct nd_wal *w, const struct nd_notification *n)
{
    if (w->nmutes == w->capmutes) {
        w->capmutes = w->capmutes ? 2 * w->capmutes : 8;
        w->mutes = nd_xrealloc(w->mutes, w->capmutes * sizeof *w->mutes);
    }
    w->mutes[w->nmutes++] = n;
}

static struct spill *spill_find(const struct nd_wal *w, const char *name)
{
    for (size_t i = 0; i < w->nspills; i++)
        if (!strcmp(w->spills[i]->name, name))
            return w->spills[i];
    return NULL;
}

static struct spill *spill_get(struct nd_wal *w, const char *name)
{
    struct spill *sp = spill_find(w, name);
    if (sp)
        return sp;
    w->spills = nd_xrealloc(w->spills, (w->nspills + 1) * sizeof *w->spills);
    sp = nd_xcalloc(1, sizeof *sp);
    sp->name = nd_xstrdup(name);
    w->spills[w->nspills++] = sp;
    return sp;
}

/* How far spill_push moves a seq back to keep the list increasing; one
 * that would go further is appended and the list sorted once when next
 * read (the replay at start spills receiver by receiver, interleaved). */
#define SPILL_SHIFT_MAX 256

/* Appends seq, keeping the list increasing (a pipeline run spills the
 * groups of one batch in group order, so a seq may come after a larger
 * one of the same batch: it moves back past those few). */
static void spill_push(struct spill *sp, uint64_t seq)
{
    if (sp->head && sp->head >= sp->n) {
        memmove(sp->seqs, sp->seqs + sp->head, sp->n * sizeof *sp->seqs);
        sp->head = 0;
    }
    if (sp->head + sp->n == sp->cap) {
        sp->cap = sp->cap ? 2 * sp->cap : 256;
        sp->seqs = nd_xrealloc(sp->seqs, sp->cap * sizeof *sp->seqs);
    }
    uint64_t *v = sp->seqs + sp->head;
    size_t i = sp->n, stop = sp->n > SPILL_SHIFT_MAX ? sp->n - SPILL_SHIFT_MAX : 0;
    while (i > stop && v[i - 1] > seq)
        i--;
    if (i == stop && i > 0 && v[i - 1] > seq) {
        v[sp->n++] = seq;
        sp->unsorted = true;
        return;
    }
    memmove(v + i + 1, v + i, (sp->n - i) * sizeof *v);
    v[i] = seq;
    sp->n++;
}

/* Puts the owed seqs back in increasing order after pushes out of order. */
static void spill_sort(struct spill *sp)
{
    if (!sp->unsorted)
        return;
    qsort(sp->seqs + sp->head, sp->n, sizeof *sp->seqs, cmp_u64);
    sp->unsorted = false;
}

/* Writes one DONE record for `name` over seqs[0..n) and ends what the
 * spill owed of each: a seq nobody holds any more is freed. */
static void spill_done(struct nd_wal *w, const char *name, const uint64_t *seqs, size_t n)
{
    for (size_t at = 0; at < n; at += FREED_AT) {
        uint32_t k = (uint32_t)(n - at < FREED_AT ? n - at : FREED_AT);
        struct nd_buf p;
        nd_buf_init(&p, OUT_LIMIT);
        nd_wal_done_encode(&p, name, seqs + at, k);
        nd_wal_record_encode(&w->out, ND_WAL_DONE, p.data, (uint32_t)p.len);
        w->appended += ND_WAL_HEADER + p.len;
        w->st.records++;
        nd_buf_deinit(&p);
    }
    for (size_t i = 0; i < n; i++) {
        struct sslot *e = smap_get(&w->smap, seqs[i]);
        if (!e)
            continue;
        if (e->owed)
            e->owed--;
        if (!e->owed && !e->mem) {
            smap_del(&w->smap, e);
            free_seq(w, seqs[i]);
        }
    }
    if (w->out.len >= WRITE_AT)
        write_out(w);
}

/* Gives up the k oldest seqs sp owes (DONE written). */
static void spill_drop_oldest(struct nd_wal *w, struct spill *sp, size_t k)
{
    if (k > sp->n)
        k = sp->n;
    spill_sort(sp);
    uint64_t *v = nd_xmalloc((k ? k : 1) * sizeof *v);
    memcpy(v, sp->seqs + sp->head, k * sizeof *v);
    sp->head += k;
    sp->n -= k;
    if (!sp->n)
        sp->head = 0;
    spill_done(w, sp->name, v, k);
    free(v);
}

static void spill_log(struct nd_wal *w, bool force)
{
    int64_t now = nd_now_mono_ns();
    if (!force && now - w->spill_log_ns < SPILL_LOG_NS)
        return;
    bool any = false;
    for (size_t i = 0; i < w->nspills; i++) {
        struct spill *sp = w->spills[i];
        char a[24], f[24], o[24];
        if (!sp->log_spilled && !sp->log_full)
            continue;
        snprintf(a, sizeof a, "%" PRIu64, sp->log_spilled);
        snprintf(f, sizeof f, "%" PRIu64, sp->log_full);
        snprintf(o, sizeof o, "%zu", sp->n);
        if (sp->log_full)
            nd_log(ND_LOG_WARN, "spilled alerts given up: spill_max_alerts reached", "receiver",
                   sp->name, "alerts", f, "spilled", a, "owed", o, "reason", "spill_full", NULL);
        else
            nd_log(ND_LOG_INFO, "backlog full: alerts spilled to the write-ahead log", "receiver",
                   sp->name, "spilled", a, "owed", o, NULL);
        sp->log_spilled = sp->log_full = 0;
        any = true;
    }
    if (any)
        w->spill_log_ns = now;
}

int nd_wal_spill(struct nd_wal *w, const char *receiver, uint64_t max_alerts,
                 const struct nd_notification *n)
{
    if (n->refs != 1 || !n->nalerts || !receiver || !*receiver)
        return ND_EINVAL;
    for (size_t i = 0; i < n->nalerts; i++)
        if (!map_get(&w->map, (uintptr_t)n->alerts[i]))
            return ND_EINVAL;
    struct spill *sp = spill_get(w, receiver);
    for (size_t i = 0; i < n->nalerts; i++) {
        uint64_t seq = map_get(&w->map, (uintptr_t)n->alerts[i])->seq;
        struct sslot *e = smap_get(&w->smap, seq);
        if (!e) {
            e = smap_add(&w->smap, seq);
            e->mem = 1; /* the one object in memory: nothing read back exists yet */
        }
        e->owed++;
        spill_push(sp, seq);
    }
    sp->spilled += n->nalerts;
    sp->log_spilled += n->nalerts;
    /* No DONE record: this receiver is not done with them. */
    add_mute(w, n);
    if (max_alerts && sp->n > max_alerts) {
        size_t k = sp->n - (size_t)max_alerts;
        sp->full += k;
        sp->log_full += k;
        spill_drop_oldest(w, sp, k);
    }
    spill_log(w, false);
    return ND_OK;
}

int nd_wal_keep(struct nd_wal *w, const struct nd_notification *n)
{
    if (!n->nalerts)
        return ND_EINVAL;
    for (size_t i = 0; i < n->nalerts; i++)
        if (!map_get(&w->map, (uintptr_t)n->alerts[i]))
            return ND_EINVAL;
    for (size_t i = 0; i < n->nalerts; i++) {
        uint64_t seq = map_get(&w->map, (uintptr_t)n->alerts[i])->seq;
        struct sslot *e = smap_get(&w->smap, seq);
        if (!e) {
            e = smap_add(&w->smap, seq);
            e->mem = 1;
        }
        /* Owed by no list: nothing reads it back, only the next start. */
        e->owed++;
    }
    add_mute(w, n);
    return ND_OK;
}

uint64_t nd_wal_spilled(const struct nd_wal *w, const char *receiver)
{
    const struct spill *sp = spill_find(w, receiver);
    return sp ? sp->n : 0;
}

size_t nd_wal_spill_count(const struct nd_wal *w)
{
    return w->nspills;
}

const char *nd_wal_spill_at(const struct nd_wal *w, size_t i, uint64_t *owed)
{
    if (i >= w->nspills)
        return NULL;
    *owed = w->spills[i]->n;
    return w->spills[i]->name;
}

uint64_t nd_wal_spill_give_up(struct nd_wal *w, const char *receiver)
{
    struct spill *sp = spill_find(w, receiver);
    if (!sp || !sp->n)
        return 0;
    uint64_t k = sp->n;
    char c[24];
    snprintf(c, sizeof c, "%" PRIu64, k);
    nd_log(ND_LOG_WARN, "spilled alerts given up: receiver removed", "receiver", sp->name, "alerts",
           c, "reason", "receiver_removed", NULL);
    sp->removed += k;
    spill_drop_oldest(w, sp, sp->n);
    return k;
}

/* A window on one segment file for reading back. */
struct rwin {
    int fd;
    uint64_t seg;
    unsigned char *buf;
    size_t cap;
    uint64_t off; /* file offset of buf[0] */
    size_t len;
    int err; /* errno of a failed pread, 0 when none */
};

/* Makes [off, off + need) available: a pointer to it and how many bytes
 * of it there are (fewer at the end of the file). */
static const unsigned char *rwin_at(struct rwin *r, uint64_t off, size_t need, size_t *avail)
{
    if (off < r->off || off + need > r->off + r->len) {
        size_t want = need > READ_CHUNK ? need : READ_CHUNK;
        if (r->cap < want) {
            r->cap = want;
            r->buf = nd_xrealloc(r->buf, r->cap);
        }
        size_t got = 0;
        while (got < want) {
            ssize_t k = pread(r->fd, r->buf + got, want - got, (off_t)(off + got));
            if (k < 0 && errno == EINTR)
                continue;
            if (k < 0)
                r->err = errno;
            if (k <= 0)
                break;
            got += (size_t)k;
        }
        r->off = off;
        r->len = got;
    }
    size_t have = (size_t)(r->off + r->len - off);
    *avail = have < need ? have : need;
    return r->buf + (off - r->off);
}

static size_t seg_index(const struct nd_wal *w, uint64_t seq)
{
    size_t i = w->nsegs;
    while (i > 1 && w->segs[i - 1].first_seq > seq)
        i--;
    return i - 1;
}

/* A read-back stopped by an error that may pass (no file descriptor or
 * memory left, an I/O error): nothing is given up, the next tick tries
 * again. Logged at most once every 10 s. */
static void readback_retry(struct nd_wal *w, const struct spill *sp, int e)
{
    int64_t now = nd_now_mono_ns();
    if (w->rb_retry_log_ns && now - w->rb_retry_log_ns < INT64_C(10000000000))
        return;
    w->rb_retry_log_ns = now;
    nd_log(ND_LOG_WARN, "write-ahead log: cannot read back spilled alerts now, will retry",
           "receiver", sp->name, "err", strerror(e), NULL);
}

/* Gives up the oldest seq of sp, which cannot be read back. */
static void spill_unreadable(struct nd_wal *w, struct spill *sp, const char *why)
{
    char seq[24];
    snprintf(seq, sizeof seq, "%" PRIu64, sp->seqs[sp->head]);
    nd_log(ND_LOG_ERROR, "write-ahead log: a spilled alert cannot be read back, given up",
           "receiver", sp->name, "seq", seq, "err", why, "reason", "unreadable", NULL);
    sp->unreadable++;
    spill_drop_oldest(w, sp, 1);
}

int nd_wal_readback(struct nd_wal *w, const char *receiver, size_t max, struct nd_alert ***alerts,
                    size_t *n)
{
    struct spill *sp = spill_find(w, receiver);
    *alerts = NULL;
    *n = 0;
    if (!sp || !sp->n || !max)
        return ND_OK;
    spill_sort(sp);
    /* The ALERT records are in the files (written at accept time); what
     * waits in `out` is DONE and FREED records only. */
    if (w->out.len)
        write_out(w);
    struct nd_alert **got = nd_xcalloc(max < sp->n ? max : sp->n, sizeof *got);
    size_t k = 0;
    struct rwin r = {.fd = -1};
    struct nd_alert_builder b;
    nd_alert_builder_init(&b, (size_t)w->max_alert_bytes);
    uint64_t scanned = 0;
    bool rewound = false;
    char err[ND_ERRLEN];
    while (k < max && sp->n && scanned < READ_SCAN) {
        uint64_t want = sp->seqs[sp->head];
        uint64_t seg = w->segs[seg_index(w, want)].id;
        if (sp->cur_seg != seg || sp->cur_off < ND_WAL_MAGIC_LEN) {
            sp->cur_seg = seg;
            sp->cur_off = ND_WAL_MAGIC_LEN;
            rewound = true; /* from the start of the segment: no need to rewind again */
        }
        if (r.fd < 0 || r.seg != seg) {
            if (r.fd >= 0)
                close(r.fd);
            char path[SEG_PATH_SIZE];
            seg_path(w->dir, seg, path);
            r.fd = open(path, O_RDONLY | O_CLOEXEC);
            r.seg = seg;
            r.off = r.len = 0;
            if (r.fd < 0 && errno != ENOENT) {
                readback_retry(w, sp, errno);
                break;
            }
            if (r.fd < 0) { /* the segment is gone: nothing will bring it back */
                spill_unreadable(w, sp, strerror(errno));
                continue;
            }
        }
        size_t avail;
        const unsigned char *h = rwin_at(&r, sp->cur_off, ND_WAL_HEADER + 8, &avail);
        if (r.err) {
            readback_retry(w, sp, r.err);
            break;
        }
        bool behind = false;
        if (avail < ND_WAL_HEADER || (h[8] == ND_WAL_ALERT && avail < ND_WAL_HEADER + 8)) {
            behind = true; /* the end of the segment without finding it */
        } else {
            uint32_t len = get32(h);
            uint64_t seq = h[8] == ND_WAL_ALERT ? get64(h + ND_WAL_HEADER) : 0;
            size_t size = ND_WAL_HEADER + (size_t)len;
            if (len > ND_WAL_MAX_PAYLOAD || (h[8] == ND_WAL_ALERT && seq > want)) {
                behind = true;
            } else if (h[8] == ND_WAL_ALERT && seq == want) {
                const unsigned char *p = len <= w->max_alert_bytes + 65536
                                             ? rwin_at(&r, sp->cur_off, size, &avail)
                                             : NULL;
                struct nd_wal_record rec;
                size_t used;
                struct nd_alert *a = NULL;
                uint64_t s2 = 0;
                if (r.err) {
                    readback_retry(w, sp, r.err);
                    break;
                }
                if (p && avail == size && nd_wal_record_decode(p, size, &rec, &used) == ND_OK)
                    a = nd_wal_alert_decode(rec.payload, rec.len, &b, w->cluster, &s2, err);
                else
                    snprintf(err, sizeof err, "bad record at offset %" PRIu64, sp->cur_off);
                sp->cur_off += size;
                scanned += size;
                if (!a || s2 != want) {
                    nd_alert_unref(a);
                    spill_unreadable(w, sp, err);
                    continue;
                }
                struct sslot *e = smap_get(&w->smap, want);
                if (e) {
                    if (e->owed)
                        e->owed--;
                    e->mem++;
                }
                map_put(&w->map, (uintptr_t)a, want, 0);
                got[k++] = a;
                rewound = false;
                sp->head++;
                sp->n--;
                sp->readback++;
                continue;
            } else {
                sp->cur_off += size;
                scanned += size;
                continue;
            }
        }
        if (behind) {
            if (!rewound) {
                sp->cur_off = ND_WAL_MAGIC_LEN;
                rewound = true;
                continue;
            }
            spill_unreadable(w, sp, "not found in its segment");
            rewound = false;
        }
    }
    if (!sp->n)
        sp->head = 0;
    if (r.fd >= 0)
        close(r.fd);
    free(r.buf);
    nd_alert_builder_deinit(&b);
    if (!k) {
        free(got);
        got = NULL;
    }
    *alerts = got;
    *n = k;
    return ND_OK;
}

void nd_wal_get_stats(const struct nd_wal *w, struct nd_wal_stats *st)
{
    *st = w->st;
    st->segments = w->nsegs;
}

static void metric(struct evbuffer *out, const char *name, const char *type, const char *help,
                   uint64_t v)
{
    evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n", name, help, name, type,
                        name, v);
}

/* A label value: \\, " and newline escaped, as the text format wants. */
static void add_label(struct evbuffer *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            evbuffer_add_printf(out, "\\%c", *s);
        else if (*s == '\n')
            evbuffer_add(out, "\\n", 2);
        else
            evbuffer_add(out, s, 1);
    }
}

void nd_wal_render(const struct nd_wal *w, struct evbuffer *out)
{
    metric(out, "notifyd_wal_bytes_written_total", "counter",
           "Bytes written to the write-ahead log.", w->st.bytes_written);
    metric(out, "notifyd_wal_records_total", "counter", "Records appended to the write-ahead log.",
           w->st.records);
    metric(out, "notifyd_wal_fsyncs_total", "counter", "fdatasync calls completed.", w->st.fsyncs);
    metric(out, "notifyd_wal_segments", "gauge", "Segments of the write-ahead log on disk.",
           w->nsegs);
    metric(out, "notifyd_wal_segments_deleted_total", "counter",
           "Segments deleted once every alert in them was complete.", w->st.segments_deleted);
    metric(out, "notifyd_wal_corrupt_records_total", "counter",
           "Segments cut at a torn or corrupt record, or records skipped, at start.",
           w->st.corrupt);
    metric(out, "notifyd_wal_replayed_alerts", "gauge",
           "Alerts read back from the write-ahead log at start.", w->st.replayed);
    metric(out, "notifyd_wal_write_errors_total", "counter",
           "write() or fdatasync failures of the write-ahead log.", w->st.write_errors);
    metric(out, "notifyd_wal_failed", "gauge",
           "1 while the write-ahead log refuses alerts (ingest answers 503).",
           nd_wal_failed(w) ? 1 : 0);
    if (!w->nspills)
        return;
    static const struct {
        const char *name, *type, *help;
        size_t off;
    } ms[] = {
        {"notifyd_receiver_spilled_alerts", "gauge",
         "Alerts a receiver with overflow = spill owes on disk only.", 0},
        {"notifyd_receiver_spilled_alerts_total", "counter",
         "Alerts spilled to the write-ahead log (overflow = spill).",
         offsetof(struct spill, spilled)},
        {"notifyd_receiver_readback_alerts_total", "counter",
         "Spilled alerts read back from the write-ahead log.", offsetof(struct spill, readback)},
    };
    for (size_t m = 0; m < sizeof ms / sizeof ms[0]; m++) {
        evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", ms[m].name, ms[m].help, ms[m].name,
                            ms[m].type);
        for (size_t i = 0; i < w->nspills; i++) {
            const struct spill *sp = w->spills[i];
            uint64_t v = ms[m].off ? *(const uint64_t *)(const void *)((const char *)sp + ms[m].off)
                                   : (uint64_t)sp->n;
            evbuffer_add_printf(out, "%s{receiver=\"", ms[m].name);
            add_label(out, sp->name);
            evbuffer_add_printf(out, "\"} %" PRIu64 "\n", v);
        }
    }
    static const char gu[] = "notifyd_receiver_spill_given_up_alerts_total";
    evbuffer_add_printf(out,
                        "# HELP %s Spilled alerts given up, by reason (spill_full: "
                        "spill_max_alerts reached; receiver_removed: by a reload; unreadable).\n"
                        "# TYPE %s counter\n",
                        gu, gu);
    for (size_t i = 0; i < w->nspills; i++) {
        const struct spill *sp = w->spills[i];
        const uint64_t v[3] = {sp->full, sp->removed, sp->unreadable};
        static const char *const why[3] = {"spill_full", "receiver_removed", "unreadable"};
        for (int k = 0; k < 3; k++) {
            evbuffer_add_printf(out, "%s{receiver=\"", gu);
            add_label(out, sp->name);
            evbuffer_add_printf(out, "\",reason=\"%s\"} %" PRIu64 "\n", why[k], v[k]);
        }
    }
}
