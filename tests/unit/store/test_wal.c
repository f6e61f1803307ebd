/* Tests of wal.c: the record codec (round trip, torn and corrupt records),
 * the alert, DONE and FREED payloads, and the log on disk: replay after a
 * reopen, per-receiver DONE state, a truncated last record and a flipped
 * byte cut and counted, rotation and deletion of complete segments, the
 * fsync helper answering nd_wal_wait with fsync = always; the spill
 * bookkeeping (overflow = spill). */
#include <dirent.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "notifyd/alert.h"
#include "notifyd/buf.h"
#include "notifyd/config.h"
#include "notifyd/notification.h"
#include "notifyd/queue.h"
#include "notifyd/util.h"
#include "notifyd/wal.h"
#include "tap.h"

static struct nd_alert *make(struct nd_alert_builder *b, int i)
{
    char err[ND_ERRLEN], v[32];
    snprintf(v, sizeof v, "a%d", i);
    nd_alert_builder_add_label(b, "alertname", 9, v, strlen(v));
    nd_alert_builder_add_label(b, "instance", 8, "host:9100", 9);
    /* An annotation made of a label value: stored encoded, logged expanded. */
    char ann[64];
    snprintf(ann, sizeof ann, "%s is down on host:9100", v);
    nd_alert_builder_add_annotation(b, "summary", 7, ann, strlen(ann));
    nd_alert_builder_set_generator_url(b, "http://prom/graph", 17);
    struct nd_time t = {1700000000 + i, 123456789, 3600};
    nd_alert_builder_set_times(b, &t, NULL);
    return nd_alert_builder_finish(b, "c1", 0, err);
}

static void test_records(void)
{
    struct nd_buf out;
    nd_buf_init(&out, 1 << 20);
    nd_wal_record_encode(&out, ND_WAL_FREED, "\x01\x00\x00\x00\x07\0\0\0\0\0\0\0", 12);
    nd_wal_record_encode(&out, ND_WAL_DONE, "xy", 2);
    struct nd_wal_record rec;
    size_t used;
    is_int(nd_wal_record_decode(out.data, out.len, &rec, &used), ND_OK, "first record");
    is_int(rec.type, ND_WAL_FREED, "type");
    is_uint(rec.len, 12, "length");
    is_uint(used, ND_WAL_HEADER + 12, "size used");
    const unsigned char *seqs;
    uint32_t n;
    is_int(nd_wal_freed_decode(rec.payload, rec.len, &seqs, &n), ND_OK, "FREED payload");
    ok(n == 1 && nd_wal_seq_at(seqs, 0) == 7, "FREED: one seq, 7");
    is_int(nd_wal_record_decode(out.data + used, out.len - used, &rec, &used), ND_OK, "second");
    ok(rec.len == 2 && !memcmp(rec.payload, "xy", 2), "second payload");
    for (size_t cut = 0; cut < ND_WAL_HEADER + 12; cut++)
        if (nd_wal_record_decode(out.data, cut, &rec, &used) != ND_EAGAIN) {
            ok(0, "truncated at %zu: EAGAIN", cut);
            break;
        }
    ok(1, "every truncation of a record is ND_EAGAIN");
    int all = 1;
    for (size_t i = 0; i < ND_WAL_HEADER + 12; i++) {
        if (i < 4)
            continue; /* a flipped length byte may read as torn (EAGAIN) */
        for (int bit = 0; bit < 8; bit++) {
            out.data[i] ^= (char)(1 << bit);
            if (nd_wal_record_decode(out.data, ND_WAL_HEADER + 12, &rec, &used) != ND_EINVAL)
                all = 0;
            out.data[i] ^= (char)(1 << bit);
        }
    }
    ok(all, "every flipped bit of checksum, type or payload is ND_EINVAL");
    out.data[0] = (char)0xff, out.data[1] = (char)0xff, out.data[2] = (char)0xff;
    out.data[3] = (char)0x7f;
    is_int(nd_wal_record_decode(out.data, out.len, &rec, &used), ND_EINVAL,
           "a length over the maximum is corrupt, not torn");
    nd_buf_deinit(&out);
}

static void test_payloads(void)
{
    struct nd_alert_builder b;
    nd_alert_builder_init(&b, 1 << 16);
    struct nd_alert *a = make(&b, 5);
    struct nd_buf p;
    nd_buf_init(&p, 1 << 20);
    nd_wal_alert_encode(&p, 42, a);
    uint64_t seq = 0;
    char err[ND_ERRLEN];
    struct nd_alert *c =
        nd_wal_alert_decode((const unsigned char *)p.data, p.len, &b, "c1", &seq, err);
    ok(c != NULL, "alert decodes");
    is_uint(seq, 42, "seq");
    is_uint(nd_alert_id(c), nd_alert_id(a), "same NM ID (labels, annotations, status, times)");
    is_uint(nd_alert_fingerprint(c), nd_alert_fingerprint(a), "same fingerprint");
    is_str(nd_alert_generator_url(c), "http://prom/graph", "generatorURL");
    is_int(nd_alert_starts_at(c).offset, 3600, "time offset kept");
    for (size_t cut = 0; cut < p.len; cut++) {
        struct nd_alert *x =
            nd_wal_alert_decode((const unsigned char *)p.data, cut, &b, "c1", &seq, err);
        if (x) {
            ok(0, "a payload cut at %zu decodes", cut);
            nd_alert_unref(x);
            break;
        }
    }
    ok(1, "every cut alert payload is refused");
    nd_alert_unref(c);
    nd_alert_unref(a);

    nd_buf_reset(&p);
    uint64_t seqs[3] = {1, 2, 300};
    nd_wal_done_encode(&p, "webhook", seqs, 3);
    const char *name;
    size_t nl;
    const unsigned char *s;
    uint32_t n;
    is_int(nd_wal_done_decode((const unsigned char *)p.data, p.len, &name, &nl, &s, &n), ND_OK,
           "DONE decodes");
    ok(nl == 7 && !memcmp(name, "webhook", 7) && n == 3 && nd_wal_seq_at(s, 2) == 300,
       "DONE: receiver and seqs");
    is_int(nd_wal_done_decode((const unsigned char *)p.data, p.len - 1, &name, &nl, &s, &n),
           ND_EINVAL, "DONE with a count that does not match the length");
    nd_buf_deinit(&p);
    nd_alert_builder_deinit(&b);
}

static char dir[] = "/tmp/notifyd-test-wal-XXXXXX";
static char sdir[] = "/tmp/notifyd-test-wsp-XXXXXX";

static size_t nsegments(void)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        n += strstr(de->d_name, ".wal") != NULL;
    closedir(d);
    return n;
}

static char *last_segment(void)
{
    static char path[600];
    DIR *d = opendir(dir);
    struct dirent *de;
    char best[256] = "";
    while ((de = readdir(d)))
        if (strstr(de->d_name, ".wal") && strcmp(de->d_name, best) > 0)
            snprintf(best, sizeof best, "%s", de->d_name);
    closedir(d);
    snprintf(path, sizeof path, "%s/%s", dir, best);
    return path;
}

static struct nd_wal *open_log(struct event_base *base, int policy, uint64_t segsz)
{
    struct nd_wal_opts o = {.dir = dir, .fsync = policy, .segment_size = segsz, .cluster = "c1"};
    char err[ND_ERRLEN];
    struct nd_wal *w = nd_wal_open(base, &o, err);
    if (!w)
        fprintf(stderr, "open: %s", err), fputc(10, stderr);
    return w;
}

/* Appends n alerts (ids from..from+n-1) held by q; returns them (refs held). */
static void append(struct nd_wal *w, struct nd_queue *q, struct nd_alert_builder *b,
                   struct nd_alert **out, int from, int n)
{
    uint64_t lsn;
    char err[ND_ERRLEN];
    for (int i = 0; i < n; i++) {
        out[i] = make(b, from + i);
        nd_queue_hold(q, out[i]);
    }
    if (nd_wal_append_alerts(w, out, (size_t)n, &lsn, err) != ND_OK)
        fprintf(stderr, "append: %s", err), fputc(10, stderr);
}

static size_t replay_count(struct nd_wal *w, const char *done_by, size_t *ndone)
{
    struct nd_alert **al;
    size_t n;
    nd_wal_replay_take(w, &al, &n);
    *ndone = 0;
    for (size_t i = 0; i < n; i++) {
        if (done_by && nd_wal_replay_done(w, al[i], done_by))
            (*ndone)++;
        nd_alert_unref(al[i]);
    }
    free(al);
    nd_wal_replay_end(w);
    return n;
}

/* Removes a test's log directory and the files in it. */
static void rm_dir(const char *path)
{
    char file[600];
    DIR *d = opendir(path);
    struct dirent *de;
    if (!d)
        return;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.') {
            snprintf(file, sizeof file, "%s/%s", path, de->d_name);
            unlink(file);
        }
    closedir(d);
    rmdir(path);
}

static void cb(void *ud, int rc)
{
    *(int *)ud = rc == ND_OK ? 1 : -1;
}

static void test_log(void)
{
    if (!mkdtemp(dir)) {
        ok(0, "mkdtemp");
        return;
    }
    struct event_base *base = event_base_new();
    struct nd_alert_builder b;
    nd_alert_builder_init(&b, 1 << 16);
    struct nd_queue *q = nd_queue_new(1000000, UINT64_C(1) << 30);
    struct nd_alert *al[200];
    size_t ndone;

    /* 10 alerts; a notification of the first 4 done by "rcv"; 2 freed. */
    struct nd_wal *w = open_log(base, ND_FSYNC_NONE, 1 << 20);
    ok(w != NULL, "open an empty directory");
    nd_queue_set_release_hook(q, nd_wal_on_release, w);
    is_uint(replay_count(w, NULL, &ndone), 0, "nothing to replay");
    append(w, q, &b, al, 0, 10);
    struct nd_notification n = {.refs = 1, .receiver = "rcv", .nalerts = 4, .alerts = al};
    nd_wal_on_done(w, &n);
    nd_alert_unref(al[8]);
    nd_alert_unref(al[9]);
    nd_queue_set_release_hook(q, NULL, NULL);
    nd_wal_free(w);
    for (int i = 0; i < 8; i++)
        nd_alert_unref(al[i]);

    w = open_log(base, ND_FSYNC_NONE, 1 << 20);
    is_uint(replay_count(w, "rcv", &ndone), 8, "reopen: the 8 alerts not freed are replayed");
    is_uint(ndone, 4, "reopen: 4 of them done by rcv");
    struct nd_wal_stats st;
    nd_wal_get_stats(w, &st);
    is_uint(st.corrupt, 0, "reopen: nothing corrupt");
    nd_wal_free(w);
    is_uint(nsegments(), 1, "the replayed alerts are logged again in one fresh segment");

    /* The replay state survives a second restart (DONE logged again). */
    w = open_log(base, ND_FSYNC_NONE, 1 << 20);
    is_uint(replay_count(w, "rcv", &ndone), 8, "second reopen: 8 alerts");
    is_uint(ndone, 4, "second reopen: still 4 done by rcv");
    nd_wal_free(w);

    /* A truncated last record: the alerts before it replay. */
    char *seg = last_segment();
    struct stat sb;
    stat(seg, &sb);
    /* The reopen logged each alert followed by its DONE records; the 4
     * done alerts came first, so the last record is the last alert's. */
    if (truncate(seg, sb.st_size - 3) != 0)
        fprintf(stderr, "truncate failed"), fputc(10, stderr);
    w = open_log(base, ND_FSYNC_NONE, 1 << 20);
    is_uint(replay_count(w, "rcv", &ndone), 7, "truncated last record: the other 7 alerts");
    is_uint(ndone, 4, "truncated last record: DONE state before it kept");
    nd_wal_get_stats(w, &st);
    is_uint(st.corrupt, 1, "truncated: counted");
    nd_wal_free(w);

    /* A flipped byte in the first record cuts everything after it. */
    seg = last_segment();
    FILE *f = fopen(seg, "r+b");
    fseek(f, ND_WAL_MAGIC_LEN + ND_WAL_HEADER + 20, SEEK_SET);
    int c = fgetc(f);
    fseek(f, ND_WAL_MAGIC_LEN + ND_WAL_HEADER + 20, SEEK_SET);
    fputc(c ^ 0x10, f);
    fclose(f);
    w = open_log(base, ND_FSYNC_NONE, 1 << 20);
    is_uint(replay_count(w, "rcv", &ndone), 0, "flipped byte in the first record: nothing left");
    nd_wal_get_stats(w, &st);
    is_uint(st.corrupt, 1, "flipped: counted");
    nd_wal_free(w);

    /* Garbage where a segment should be: ignored and counted, not fatal. */
    char path[600];
    snprintf(path, sizeof path, "%s/00000000000000ff.wal", dir);
    f = fopen(path, "wb");
    fputs("not a log", f);
    fclose(f);
    w = open_log(base, ND_FSYNC_NONE, 1 << 20);
    ok(w != NULL, "a foreign file named like a segment does not stop the open");
    nd_wal_get_stats(w, &st);
    is_uint(st.corrupt, 1, "foreign file: counted");

    /* Rotation at 4 KiB, deletion once every alert of a segment is freed. */
    nd_queue_set_release_hook(q, nd_wal_on_release, w);
    replay_count(w, NULL, &ndone);
    nd_wal_free(w);
    nd_queue_set_release_hook(q, NULL, NULL);
    w = open_log(base, ND_FSYNC_NONE, 4096);
    nd_queue_set_release_hook(q, nd_wal_on_release, w);
    replay_count(w, NULL, &ndone);
    for (int i = 0; i < 200; i += 10)
        append(w, q, &b, al + i, i, 10);
    nd_wal_get_stats(w, &st);
    ok(st.segments > 3, "rotation: %llu segments for 200 alerts of 4 KiB segments",
       (unsigned long long)st.segments);
    is_uint(nsegments(), st.segments, "rotation: as many files");
    for (int i = 0; i < 100; i++)
        nd_alert_unref(al[i]);
    nd_wal_get_stats(w, &st);
    ok(st.segments_deleted > 0 && nsegments() == st.segments,
       "the first half freed: %llu segments deleted", (unsigned long long)st.segments_deleted);
    for (int i = 100; i < 200; i++)
        nd_alert_unref(al[i]);
    nd_wal_get_stats(w, &st);
    is_uint(st.segments, 1, "all freed: only the current segment is left");
    nd_queue_set_release_hook(q, NULL, NULL);
    nd_wal_free(w);
    w = open_log(base, ND_FSYNC_NONE, 4096);
    is_uint(replay_count(w, NULL, &ndone), 0, "all freed: nothing to replay");
    nd_wal_free(w);

    /* fsync = always: nd_wal_wait answers once the helper synced. */
    w = open_log(base, ND_FSYNC_ALWAYS, 1 << 20);
    nd_queue_set_release_hook(q, nd_wal_on_release, w);
    replay_count(w, NULL, &ndone);
    int answered = 0;
    uint64_t lsn;
    char err[ND_ERRLEN];
    struct nd_alert *x = make(&b, 1000);
    nd_queue_hold(q, x);
    is_int(nd_wal_append_alerts(w, &x, 1, &lsn, err), ND_OK, "always: append");
    nd_wal_wait(w, lsn, cb, &answered);
    is_int(answered, 0, "always: not answered before the fsync");
    for (int i = 0; i < 200 && !answered; i++)
        event_base_loop(base, EVLOOP_ONCE);
    is_int(answered, 1, "always: answered ND_OK after the helper's fdatasync");
    nd_wal_get_stats(w, &st);
    ok(st.fsyncs >= 1, "always: fsyncs counted");
    nd_alert_unref(x);
    nd_queue_set_release_hook(q, NULL, NULL);
    nd_wal_free(w);

    nd_queue_free(q);
    nd_alert_builder_deinit(&b);
    event_base_free(base);
    rm_dir(dir);
}

/* The alerts' alertname values a<from>..., in order: whether al[0..n)
 * are exactly those. */
static int names_are(struct nd_alert **al, size_t n, int from)
{
    for (size_t i = 0; i < n; i++) {
        char v[32];
        snprintf(v, sizeof v, "a%d", from + (int)i);
        const char *got = nd_alert_label(al[i], "alertname");
        if (!got || strcmp(got, v)) {
            fprintf(stderr, "# alert %zu: %s, want %s\n", i, got ? got : "(none)", v);
            return 0;
        }
    }
    return 1;
}

/* A receiver's notification of al[0..n) finished: DONE, then the
 * references go (the notification's, here the caller's). */
static void deliver(struct nd_wal *w, const char *rcv, struct nd_alert **al, size_t n)
{
    struct nd_notification x = {.refs = 1, .receiver = rcv, .nalerts = n, .alerts = al};
    nd_wal_on_done(w, &x);
    for (size_t i = 0; i < n; i++)
        nd_alert_unref(al[i]);
}

static int rendered(struct nd_wal *w, const char *line)
{
    struct evbuffer *out = evbuffer_new();
    nd_wal_render(w, out);
    evbuffer_add(out, "", 1);
    int found = strstr((const char *)evbuffer_pullup(out, -1), line) != NULL;
    evbuffer_free(out);
    return found;
}

/* overflow = spill bookkeeping: spilled alerts stay held on disk (no
 * FREED, segments kept) after their memory goes, read back in order,
 * freed once the spilling receiver is done, replayed to it alone after a
 * restart; spill_max_alerts gives the oldest up. */
static void test_spill(void)
{
    struct event_base *base = event_base_new();
    struct nd_alert_builder b;
    nd_alert_builder_init(&b, 1 << 16);
    struct nd_queue *q = nd_queue_new(1000000, UINT64_C(1) << 30);
    struct nd_alert *al[60], **rb;
    size_t nrb, ndone;
    struct nd_wal_stats st;

    if (!mkdtemp(sdir)) {
        ok(0, "mkdtemp");
        return;
    }
    memcpy(dir, sdir, sizeof dir);
    struct nd_wal *w = open_log(base, ND_FSYNC_NONE, 4096);
    nd_queue_set_release_hook(q, nd_wal_on_release, w);
    replay_count(w, NULL, &ndone);
    for (int i = 0; i < 30; i += 10)
        append(w, q, &b, al + i, i, 10);
    /* "fast" delivers everything; "slow" spills everything. */
    struct nd_notification fast = {.refs = 1, .receiver = "fast", .nalerts = 30, .alerts = al};
    nd_wal_on_done(w, &fast);
    struct nd_notification slow = {.refs = 1, .receiver = "slow", .nalerts = 30, .alerts = al};
    is_int(nd_wal_spill(w, "slow", 0, &slow), ND_OK, "spill 30 alerts for slow");
    nd_wal_on_done(w, &slow); /* the caller's unref: muted, no DONE */
    struct nd_notification shared = {.refs = 2, .receiver = "slow", .nalerts = 1, .alerts = al};
    is_int(nd_wal_spill(w, "slow", 0, &shared), ND_EINVAL, "a shared notification is not spilled");
    for (int i = 0; i < 30; i++)
        nd_alert_unref(al[i]); /* the last memory of each goes */
    is_uint(nd_wal_spilled(w, "slow"), 30, "30 owed by slow");
    is_uint(nd_wal_spilled(w, "fast"), 0, "none owed by fast");
    nd_wal_get_stats(w, &st);
    ok(st.segments >= 2 && st.segments_deleted == 0,
       "spilled alerts keep their segments: %llu segments, none deleted",
       (unsigned long long)st.segments);
    ok(rendered(w, "notifyd_receiver_spilled_alerts{receiver=\"slow\"} 30"), "gauge: 30 spilled");

    /* Read back 10, then the rest: in order, exactly the spilled ones. */
    nd_wal_readback(w, "slow", 10, &rb, &nrb);
    ok(nrb == 10 && names_are(rb, nrb, 0), "read back: the 10 oldest, in order");
    for (size_t i = 0; i < nrb; i++)
        nd_queue_hold(q, rb[i]);
    is_uint(nd_wal_spilled(w, "slow"), 20, "20 still owed on disk");
    deliver(w, "slow", rb, nrb);
    free(rb);
    nd_wal_readback(w, "slow", 100, &rb, &nrb);
    ok(nrb == 20 && names_are(rb, nrb, 10), "read back: the other 20, in order");
    for (size_t i = 0; i < nrb; i++)
        nd_queue_hold(q, rb[i]);
    nd_wal_get_stats(w, &st);
    ok(st.segments > 1, "read back but not done: segments kept (%llu)",
       (unsigned long long)st.segments);
    deliver(w, "slow", rb, nrb);
    free(rb);
    nd_wal_readback(w, "slow", 100, &rb, &nrb);
    is_uint(nrb, 0, "nothing more to read back");
    nd_wal_get_stats(w, &st);
    is_uint(st.segments, 1, "slow done with all: the segments are deleted");
    is_uint(nsegments(), 1, "one file left");
    ok(rendered(w, "notifyd_receiver_readback_alerts_total{receiver=\"slow\"} 30"),
       "counter: 30 read back");

    /* Read back while another receiver still holds the originals. */
    append(w, q, &b, al, 100, 5);
    slow.nalerts = 5;
    is_int(nd_wal_spill(w, "slow", 0, &slow), ND_OK, "spill 5 still in memory");
    nd_wal_on_done(w, &slow);
    nd_wal_readback(w, "slow", 10, &rb, &nrb);
    ok(nrb == 5 && names_are(rb, nrb, 100), "read back while the originals live");
    for (size_t i = 0; i < nrb; i++)
        nd_queue_hold(q, rb[i]);
    deliver(w, "slow", rb, nrb);
    free(rb);
    deliver(w, "fast", al, 5);

    /* spill_max_alerts: past it the oldest are given up. */
    append(w, q, &b, al, 200, 5);
    slow.nalerts = 5;
    is_int(nd_wal_spill(w, "slow", 3, &slow), ND_OK, "spill 5 with a ceiling of 3");
    nd_wal_on_done(w, &slow);
    deliver(w, "fast", al, 5);
    is_uint(nd_wal_spilled(w, "slow"), 3, "3 owed: the ceiling");
    ok(rendered(w, "notifyd_receiver_spill_given_up_alerts_total{receiver=\"slow\","
                   "reason=\"spill_full\"} 2"),
       "2 given up, counted spill_full");
    nd_wal_readback(w, "slow", 10, &rb, &nrb);
    ok(nrb == 3 && names_are(rb, nrb, 202), "the 3 newest are kept");
    for (size_t i = 0; i < nrb; i++)
        nd_queue_hold(q, rb[i]);
    deliver(w, "slow", rb, nrb);
    free(rb);
    nd_wal_get_stats(w, &st);
    is_uint(st.segments, 1, "all done: one segment");

    /* A restart while spilled: the alerts replay, done by fast, not by slow. */
    append(w, q, &b, al, 300, 40);
    fast.nalerts = 40;
    nd_wal_on_done(w, &fast);
    slow.nalerts = 40;
    nd_wal_spill(w, "slow", 0, &slow);
    nd_wal_on_done(w, &slow);
    for (int i = 0; i < 40; i++)
        nd_alert_unref(al[i]);
    nd_queue_set_release_hook(q, NULL, NULL);
    nd_wal_free(w);
    w = open_log(base, ND_FSYNC_NONE, 4096);
    struct nd_alert **ra;
    size_t nra;
    nd_wal_replay_take(w, &ra, &nra);
    size_t by_fast = 0, by_slow = 0;
    for (size_t i = 0; i < nra; i++) {
        by_fast += nd_wal_replay_done(w, ra[i], "fast");
        by_slow += nd_wal_replay_done(w, ra[i], "slow");
    }
    ok(nra == 40 && names_are(ra, nra, 300), "reopen: the 40 spilled alerts replay");
    is_uint(by_fast, 40, "reopen: fast is done with them");
    is_uint(by_slow, 0, "reopen: slow is not: they go to slow alone");
    /* The replayed alerts spill again at once and read back from the
     * rewritten segment. */
    nd_queue_set_release_hook(q, nd_wal_on_release, w);
    for (size_t i = 0; i < nra; i++)
        nd_queue_hold(q, ra[i]);
    slow.alerts = ra;
    slow.nalerts = nra;
    is_int(nd_wal_spill(w, "slow", 0, &slow), ND_OK, "replayed alerts spill again");
    nd_wal_on_done(w, &slow);
    for (size_t i = 0; i < nra; i++)
        nd_alert_unref(ra[i]);
    free(ra);
    nd_wal_replay_end(w);
    nd_wal_readback(w, "slow", 100, &rb, &nrb);
    ok(nrb == 40 && names_are(rb, nrb, 300), "and read back after the restart");
    for (size_t i = 0; i < nrb; i++)
        nd_queue_hold(q, rb[i]);
    deliver(w, "slow", rb, nrb);
    free(rb);
    nd_queue_set_release_hook(q, NULL, NULL);
    nd_wal_free(w);
    w = open_log(base, ND_FSYNC_NONE, 4096);
    is_uint(replay_count(w, NULL, &ndone), 0, "delivered after the restart: nothing left");
    nd_wal_free(w);

    /* At exit, nd_wal_keep: given up now, still owed to that receiver after
     * a restart (no DONE, no FREED), without a read-back list. */
    w = open_log(base, ND_FSYNC_NONE, 4096);
    nd_queue_set_release_hook(q, nd_wal_on_release, w);
    replay_count(w, NULL, &ndone);
    append(w, q, &b, al, 500, 3);
    fast.alerts = al;
    fast.nalerts = 3;
    nd_wal_on_done(w, &fast);
    slow.alerts = al;
    slow.nalerts = 3;
    /* Still shared (the history module, a fanned-out notification's other
     * lanes): the DONE is muted when the last reference goes. */
    slow.refs = 2;
    is_int(nd_wal_keep(w, &slow), ND_OK, "keep 3 for slow at exit, while shared");
    slow.refs = 1;
    nd_wal_on_done(w, &slow);
    for (int i = 0; i < 3; i++)
        nd_alert_unref(al[i]);
    is_uint(nd_wal_spilled(w, "slow"), 0, "kept alerts are not in the read-back list");
    nd_queue_set_release_hook(q, NULL, NULL);
    nd_wal_free(w);
    w = open_log(base, ND_FSYNC_NONE, 4096);
    nd_queue_set_release_hook(q, nd_wal_on_release, w);
    nd_wal_replay_take(w, &ra, &nra);
    by_fast = by_slow = 0;
    for (size_t i = 0; i < nra; i++) {
        by_fast += nd_wal_replay_done(w, ra[i], "fast");
        by_slow += nd_wal_replay_done(w, ra[i], "slow");
    }
    ok(nra == 3 && by_fast == 3 && by_slow == 0,
       "kept: replayed after the restart, to slow alone (%zu alerts, fast done %zu, slow %zu)", nra,
       by_fast, by_slow);
    /* slow delivers them this time: freed. */
    for (size_t i = 0; i < nra; i++)
        nd_queue_hold(q, ra[i]);
    deliver(w, "slow", ra, nra);
    free(ra);
    nd_wal_replay_end(w);
    nd_queue_set_release_hook(q, NULL, NULL);
    nd_wal_free(w);

    /* A removed receiver's spill is given up with DONE records. */
    w = open_log(base, ND_FSYNC_NONE, 4096);
    nd_queue_set_release_hook(q, nd_wal_on_release, w);
    replay_count(w, NULL, &ndone);
    append(w, q, &b, al, 400, 4);
    slow.alerts = al;
    slow.nalerts = 4;
    nd_wal_spill(w, "slow", 0, &slow);
    nd_wal_on_done(w, &slow);
    for (int i = 0; i < 4; i++)
        nd_alert_unref(al[i]);
    is_uint(nd_wal_spill_give_up(w, "slow"), 4, "give up: 4");
    is_uint(nd_wal_spilled(w, "slow"), 0, "give up: none owed");
    nd_queue_set_release_hook(q, NULL, NULL);
    nd_wal_free(w);
    w = open_log(base, ND_FSYNC_NONE, 4096);
    is_uint(replay_count(w, NULL, &ndone), 0, "given up: freed, nothing to replay");
    nd_wal_free(w);

    nd_queue_free(q);
    nd_alert_builder_deinit(&b);
    event_base_free(base);
    rm_dir(dir);
}

/* A fresh log in a new directory made from tmpl (which becomes `dir`),
 * fsync none, 1 MiB segments, its release hook on a queue, nothing to
 * replay. */
struct wfx {
    struct event_base *base;
    struct nd_alert_builder b;
    struct nd_queue *q;
    struct nd_wal *w;
};

static bool wfx_open(struct wfx *f, char *tmpl)
{
    size_t ndone;
    if (!mkdtemp(tmpl)) {
        ok(0, "mkdtemp");
        return false;
    }
    memcpy(dir, tmpl, sizeof dir);
    f->base = event_base_new();
    nd_alert_builder_init(&f->b, 1 << 16);
    f->q = nd_queue_new(1000000, UINT64_C(1) << 30);
    f->w = open_log(f->base, ND_FSYNC_NONE, 1 << 20);
    nd_queue_set_release_hook(f->q, nd_wal_on_release, f->w);
    replay_count(f->w, NULL, &ndone);
    return true;
}

static void wfx_close(struct wfx *f)
{
    nd_queue_set_release_hook(f->q, NULL, NULL);
    nd_wal_free(f->w);
    nd_queue_free(f->q);
    nd_alert_builder_deinit(&f->b);
    event_base_free(f->base);
    rm_dir(dir);
}

/* Spills far out of order (even seqs, then odd ones: what the replay at
 * start produces for two groups of receivers) are read back in order. */
static void test_spill_interleaved(void)
{
    static char idir[] = "/tmp/notifyd-test-wil-XXXXXX";
    enum { N = 1200 };
    struct nd_alert *al[N], **rb = NULL;
    size_t nrb = 0, got = 0;
    int in_order = 1;
    struct wfx f;

    if (!wfx_open(&f, idir))
        return;
    struct nd_wal *w = f.w;
    append(w, f.q, &f.b, al, 0, N);
    for (int pass = 0; pass < 2; pass++)
        for (int i = pass; i < N; i += 2) {
            struct nd_notification one = {
                .refs = 1, .receiver = "slow", .nalerts = 1, .alerts = &al[i]};
            nd_wal_spill(w, "slow", 0, &one);
            nd_wal_on_done(w, &one);
        }
    for (int i = 0; i < N; i++)
        nd_alert_unref(al[i]);
    is_uint(nd_wal_spilled(w, "slow"), N, "interleaved: all owed");
    for (int round = 0; round < 20 && got < N; round++) {
        nd_wal_readback(w, "slow", 100, &rb, &nrb);
        in_order = in_order && names_are(rb, nrb, (int)got);
        got += nrb;
        for (size_t i = 0; i < nrb; i++)
            nd_alert_unref(rb[i]);
        free(rb);
    }
    is_uint(got, N, "interleaved: all read back");
    ok(in_order, "interleaved: in acceptance order");
    wfx_close(&f);
}

/* A read-back that cannot open its segment for want of file descriptors
 * gives nothing up: the alerts stay owed and a later read-back gets them. */
static void test_readback_retry(void)
{
    static char rdir[] = "/tmp/notifyd-test-wrb-XXXXXX";
    struct nd_alert *al[20], **rb = NULL;
    size_t nrb = 0;
    struct wfx f;

    if (!wfx_open(&f, rdir))
        return;
    struct nd_wal *w = f.w;
    append(w, f.q, &f.b, al, 0, 20);
    struct nd_notification slow = {.refs = 1, .receiver = "slow", .nalerts = 20, .alerts = al};
    is_int(nd_wal_spill(w, "slow", 0, &slow), ND_OK, "retry: 20 spilled");
    nd_wal_on_done(w, &slow);
    for (int i = 0; i < 20; i++)
        nd_alert_unref(al[i]);

    /* No descriptor left: open() fails with EMFILE. */
    struct rlimit was, low;
    getrlimit(RLIMIT_NOFILE, &was);
    low = was;
    low.rlim_cur = 64;
    setrlimit(RLIMIT_NOFILE, &low);
    int hogs[64], nhogs = 0, fd;
    while (nhogs < 64 && (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
        hogs[nhogs++] = fd;
    nd_wal_readback(w, "slow", 10, &rb, &nrb);
    while (nhogs > 0)
        close(hogs[--nhogs]);
    setrlimit(RLIMIT_NOFILE, &was);
    is_uint(nrb, 0, "retry: nothing read back without a descriptor");
    free(rb);
    is_uint(nd_wal_spilled(w, "slow"), 20, "retry: all 20 still owed, none given up");
    ok(rendered(w, "notifyd_receiver_spill_given_up_alerts_total{receiver=\"slow\","
                   "reason=\"unreadable\"} 0"),
       "retry: nothing counted unreadable");

    nd_wal_readback(w, "slow", 20, &rb, &nrb);
    is_uint(nrb, 20, "retry: the next read-back gets all 20");
    ok(nrb == 20 && names_are(rb, nrb, 0), "retry: in order");
    for (size_t i = 0; i < nrb; i++)
        nd_alert_unref(rb[i]);
    free(rb);
    wfx_close(&f);
}

int main(void)
{
    test_records();
    test_payloads();
    test_log();
    test_spill();
    test_readback_retry();
    test_spill_interleaved();
    return done_testing();
}
