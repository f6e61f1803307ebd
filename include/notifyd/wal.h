/* wal.h - the write-ahead log: accepted alerts and what each receiver
 * completed, on disk, so that a crash loses no acknowledged alert
 * (docs/wal.md has the format, the lifecycle and the fsync policies).
 *
 * The log is a directory of segments, "<16 hex digits>.wal", each starting
 * with an 8-byte magic and followed by records:
 *
 *   u32 length of the payload | u32 CRC32C of type + payload | u8 type | payload
 *
 * (little-endian). Record types: ND_WAL_ALERT (a sequence number and the
 * alert), ND_WAL_DONE (a receiver and the sequence numbers of the alerts of
 * one notification it delivered or gave up), ND_WAL_FREED (sequence numbers
 * of alerts every receiver is done with). Appends go to a buffer, written
 * with write() at commit points and on a timer; fdatasync runs in a helper
 * process (forked by nd_wal_open) so that the loop never waits on the disk.
 *
 * On open, every segment is read; alerts not freed are kept for replay
 * with the receivers already done with them, written again to a fresh
 * segment (synchronously: nothing is served yet) and the old segments
 * deleted. A record that does not check out ends its segment: the rest is
 * ignored, logged and counted (a torn write at a crash).
 */
#ifndef NOTIFYD_WAL_H
#define NOTIFYD_WAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evbuffer;
struct event_base;
struct nd_alert;
struct nd_alert_builder;
struct nd_buf;
struct nd_notification;

enum nd_wal_type { ND_WAL_ALERT = 1, ND_WAL_DONE = 2, ND_WAL_FREED = 3 };

#define ND_WAL_HEADER      9u
#define ND_WAL_MAGIC       "NDWAL\x00\x00\x01"
#define ND_WAL_MAGIC_LEN   8u
#define ND_WAL_MAX_PAYLOAD (UINT32_C(256) << 20)
/* Longest receiver name in a DONE record. */
#define ND_WAL_MAX_NAME 1024u

/* ---- records (pure functions; the fuzz target drives these) ---- */

struct nd_wal_record {
    int type;
    const unsigned char *payload;
    uint32_t len;
};

/* Appends one record to out. */
void nd_wal_record_encode(struct nd_buf *out, int type, const void *payload, uint32_t len);
/* The record at p[0..n): ND_OK with *used its size; ND_EAGAIN when p ends
 * inside it (torn); ND_EINVAL when the length, type or checksum is wrong. */
int nd_wal_record_decode(const void *p, size_t n, struct nd_wal_record *rec, size_t *used);

/* The payload of an ALERT record: seq, status, both times, labels,
 * annotations (expanded) and generatorURL. */
void nd_wal_alert_encode(struct nd_buf *out, uint64_t seq, const struct nd_alert *a);
/* Rebuilds the alert (refs = 1) with b; NULL with err when the payload is
 * malformed. */
struct nd_alert *nd_wal_alert_decode(const unsigned char *p, size_t n, struct nd_alert_builder *b,
                                     const char *cluster, uint64_t *seq, char *err);
/* DONE payload: u16 name length, name, u32 count, count u64 seqs.
 * FREED payload: u32 count, count u64 seqs. Decoding checks the counts
 * against the length; *seqs points into p (read with nd_wal_seq_at). */
void nd_wal_done_encode(struct nd_buf *out, const char *receiver, const uint64_t *seqs, uint32_t n);
int nd_wal_done_decode(const unsigned char *p, size_t n, const char **name, size_t *namelen,
                       const unsigned char **seqs, uint32_t *count);
int nd_wal_freed_decode(const unsigned char *p, size_t n, const unsigned char **seqs,
                        uint32_t *count);
uint64_t nd_wal_seq_at(const unsigned char *seqs, uint32_t i);

/* ---- the log ---- */

struct nd_wal_opts {
    const char *dir;           /* created if missing (one level) */
    int fsync;                 /* enum nd_fsync_policy (config.h) */
    int64_t fsync_interval_ns; /* batch: group commit period; also the write timer */
    uint64_t segment_size;     /* rotation: a segment ends after the record that reaches it */
    const char *cluster;       /* for decoding alerts (ingest's cluster) */
    uint64_t max_alert_bytes;  /* the largest alert payload accepted on replay */
};

struct nd_wal_stats {
    uint64_t bytes_written;    /* write() total */
    uint64_t records;          /* appended */
    uint64_t fsyncs;           /* completed by the helper */
    uint64_t segments;         /* on disk now */
    uint64_t segments_deleted; /* since start */
    uint64_t corrupt;          /* segment tails cut at a bad record (open) */
    uint64_t replayed;         /* alerts read back at open */
    uint64_t write_errors;     /* failed write() or fdatasync */
};

struct nd_wal;

/* Reads the directory (replay state, see above), opens a fresh segment,
 * forks the fsync helper (not for fsync = none). Before the listener opens:
 * the helper inherits no socket. NULL with err on failure. */
struct nd_wal *nd_wal_open(struct event_base *base, const struct nd_wal_opts *o, char *err);
/* Writes what is buffered, syncs it (blocking: at exit), ends the helper. */
void nd_wal_free(struct nd_wal *w);

/* The alerts to replay (refs = 1 each, the caller's), in log order, already
 * logged again in the fresh segment. nd_wal_replay_done() tells whether a
 * receiver finished with one of them before the restart; valid until
 * nd_wal_replay_end(). */
void nd_wal_replay_take(struct nd_wal *w, struct nd_alert ***alerts, size_t *n);
bool nd_wal_replay_done(const struct nd_wal *w, const struct nd_alert *a, const char *receiver);
void nd_wal_replay_end(struct nd_wal *w);

/* Appends and writes the ALERT records of one request, all or none:
 * ND_OK, or ND_EFULL with err when the log cannot be written (disk full, I/O
 * error: ingest answers 503; nothing of the request is in the log). On
 * success *lsn is the log position that covers them (nd_wal_wait). The
 * alerts must be held by a queue whose release hook is nd_wal_on_release. */
int nd_wal_append_alerts(struct nd_wal *w, struct nd_alert *const *alerts, size_t n, uint64_t *lsn,
                         char *err);
/* Whether the log is refusing appends (the last write failed). */
bool nd_wal_failed(const struct nd_wal *w);

/* Calls cb(ud, ND_OK) once everything up to lsn is on disk, or cb(ud,
 * ND_ERR) if syncing failed or the log is freed first. With fsync = batch or
 * none it is called at once with ND_OK. */
typedef void nd_wal_durable_cb(void *ud, int rc);
void nd_wal_wait(struct nd_wal *w, uint64_t lsn, nd_wal_durable_cb *cb, void *ud);

/* Hooks: nd_queue_set_release_hook(q, nd_wal_on_release, w) and
 * nd_notification_set_done_hook(nd_wal_on_done, w). */
void nd_wal_on_release(void *w, const struct nd_alert *a);
void nd_wal_on_done(void *w, const struct nd_notification *n);

/* ---- spill (overflow = spill, docs/wal.md "Spill") ----
 *
 * A receiver whose backlog is full leaves new notifications on disk: the
 * log remembers the seqs it owes, keeps those alerts held (no FREED, their
 * segments kept) after their memory goes, and reads them back on demand. */

/* Records that `receiver` owes the alerts of n on disk only: ND_OK, and
 * the caller then drops its reference to n (the last one) at once, which
 * writes no DONE record; or ND_EINVAL (nothing recorded: n is shared, or
 * an alert the log does not hold), and the caller delivers n as usual.
 * Past max_alerts owed (0 = no limit), the oldest are given up: DONE
 * written, counted (spill_full) and logged, once a second at most. */
int nd_wal_spill(struct nd_wal *w, const char *receiver, uint64_t max_alerts,
                 const struct nd_notification *n);
/* At exit: n's receiver gives n up (the shutdown deadline) but is to get
 * it after the restart, as if spilled: ND_OK, and when n's last
 * reference goes (now, or later: the history module or the lanes of a
 * fanned-out notification may still hold it) no DONE record is written,
 * its alerts staying held in the log (no FREED) until the process ends;
 * ND_EINVAL (nothing recorded) when n has no alerts or one the log does
 * not hold. Call it once per notification. Nothing reads them back
 * before the restart. */
int nd_wal_keep(struct nd_wal *w, const struct nd_notification *n);
/* Alerts `receiver` owes on disk. */
uint64_t nd_wal_spilled(const struct nd_wal *w, const char *receiver);
/* The receivers that spilled since open (i < nd_wal_spill_count), with
 * what each owes now. */
size_t nd_wal_spill_count(const struct nd_wal *w);
const char *nd_wal_spill_at(const struct nd_wal *w, size_t i, uint64_t *owed);
/* Reads back up to max of the oldest alerts `receiver` owes, oldest
 * first, from the segment files (blocking reads, at most 4 MiB scanned a
 * call): *alerts (the caller frees the array; NULL when *n is 0) holds
 * new alerts (refs = 1, the caller's) that the log knows by their seqs,
 * no longer owed on disk. A record that cannot be read is given up
 * (DONE, logged, counted unreadable). Returns ND_OK. */
int nd_wal_readback(struct nd_wal *w, const char *receiver, size_t max, struct nd_alert ***alerts,
                    size_t *n);
/* Gives up everything `receiver` owes on disk (a reload removed it): DONE
 * records, logged, counted receiver_removed. Returns how many. */
uint64_t nd_wal_spill_give_up(struct nd_wal *w, const char *receiver);

void nd_wal_get_stats(const struct nd_wal *w, struct nd_wal_stats *st);
/* Appends the notifyd_wal_* metrics. */
void nd_wal_render(const struct nd_wal *w, struct evbuffer *out);

#endif
