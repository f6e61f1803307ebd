/* test_config.c - the INI loader, its error messages and the helpers. */
#include "notifyd/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "notifyd/log.h"
#include "notifyd/parse.h"
#include "notifyd/util.h"
#include "tap.h"

static const char *full_path, *example_path;

/* Loads `text` as "t.ini" and returns all messages joined by '\n' (caller
 * frees), or NULL when it loaded. The config is freed. */
static char *load_errors(const char *text, size_t *nerr)
{
    struct nd_config *c = (struct nd_config *)1;
    struct nd_config_errors e;
    nd_config_errors_init(&e);
    int rc = nd_config_load_string(text, "t.ini", &c, &e);
    *nerr = e.n;
    if (rc == ND_OK) {
        nd_config_free(c);
        nd_config_errors_deinit(&e);
        return NULL;
    }
    ok(c == NULL, "failed load leaves no config");
    size_t len = 1;
    for (size_t i = 0; i < e.n; i++)
        len += strlen(e.msgs[i]) + 1;
    char *all = nd_xcalloc(1, len);
    for (size_t i = 0; i < e.n; i++) {
        strcat(all, e.msgs[i]);
        strcat(all, "\n");
    }
    nd_config_errors_deinit(&e);
    return all;
}

#define RECV "[receiver.a]\ntype = console\n"

/* One bad file, one expected message (exactly one error unless nwant). */
static void expect_error(const char *name, const char *text, const char *want, size_t nwant)
{
    size_t n = 0;
    char *all = load_errors(text, &n);
    ok(all != NULL, "%s: rejected", name);
    if (all) {
        has_str(all, want, "%s: message", name);
        is_int(n, nwant, "%s: error count", name);
    }
    free(all);
}

static void test_errors(void)
{
    expect_error("unknown key", "[server]\nlisten = :1\nbogus = 1\n" RECV,
                 "t.ini:3: [server] bogus: unknown key\n", 1);
    expect_error("unknown section", RECV "\n[routes]\nx = 1\n",
                 "t.ini:4: [routes]: unknown section", 1);
    expect_error("bad duration", "[batch]\n\nmax_wait = 5x\n" RECV,
                 "t.ini:3: [batch] max_wait: invalid duration \"5x\"", 1);
    expect_error("duration without unit", "[delivery]\ntimeout = 5\n" RECV,
                 "t.ini:2: [delivery] timeout: invalid duration \"5\"", 1);
    expect_error("headers size under the minimum", "[server]\nmax_headers_size = 10\n" RECV,
                 "t.ini:2: [server] max_headers_size: size 10 is out of range: want 1024 to "
                 "16777216 bytes",
                 1);
    expect_error("read_timeout over the maximum", "[server]\nread_timeout = 2h\n" RECV,
                 "t.ini:2: [server] read_timeout: 2h is out of range: want 1s to 1h0m0s", 1);
    expect_error("retry_after zero", "[server]\nretry_after = 0s\n" RECV,
                 "t.ini:2: [server] retry_after: 0s is out of range: want 1s to 1h0m0s", 1);
    expect_error("backlog zero", "[server]\nlisten_backlog = 0\n" RECV,
                 "t.ini:2: [server] listen_backlog: invalid number \"0\"", 1);
    expect_error("max_connections zero", "[server]\nmax_connections = 0\n" RECV,
                 "t.ini:2: [server] max_connections: invalid number \"0\"", 1);
    expect_error("max_connections too many", "[server]\nmax_connections = 1048577\n" RECV,
                 "t.ini:2: [server] max_connections: invalid number \"1048577\"", 1);
    expect_error("zero timeout", "[delivery]\ntimeout = 0\n" RECV,
                 "t.ini:2: [delivery] timeout: must be greater than 0", 1);
    expect_error("huge timeout", "[delivery]\ntimeout = 2562047h\n" RECV,
                 "t.ini:2: [delivery] timeout: 2562047h is out of range: want 1ns to "
                 "2555555h33m20s",
                 1);
    expect_error("bad size", "[server]\nmax_body_size = 8 MiB\n" RECV,
                 "t.ini:2: [server] max_body_size: invalid size \"8 MiB\"", 1);
    expect_error("bad listen", "[server]\nlisten = localhost\n" RECV,
                 "t.ini:2: [server] listen: invalid address \"localhost\"", 1);
    expect_error("listen port range", "[server]\nlisten = :65536\n" RECV,
                 "t.ini:2: [server] listen: invalid address", 1);
    expect_error("bad log level", "[server]\nlog_level = loud\n" RECV,
                 "t.ini:2: [server] log_level: invalid level \"loud\"", 1);
    expect_error("bad log format", "[server]\nlog_format = xml\n" RECV,
                 "t.ini:2: [server] log_format: invalid format", 1);
    expect_error("uint range", "[queue]\nmax_depth = 0\n" RECV,
                 "t.ini:2: [queue] max_depth: invalid number \"0\"", 1);
    expect_error("bad fsync", "[queue]\nfsync = sometimes\n" RECV,
                 "t.ini:2: [queue] fsync: invalid fsync policy \"sometimes\"", 1);
    expect_error("fsync_interval range", "[queue]\nfsync_interval = 0s\n" RECV,
                 "t.ini:2: [queue] fsync_interval: 0s is out of range", 1);
    expect_error("wal_segment_size range", "[queue]\nwal_segment_size = 1KiB\n" RECV,
                 "t.ini:2: [queue] wal_segment_size: size 1KiB is out of range", 1);
    expect_error("jitter range", "[delivery]\nretry_jitter = 1.5\n" RECV,
                 "t.ini:2: [delivery] retry_jitter: invalid number \"1.5\"", 1);
    expect_error("retry_max below initial", "[delivery]\nretry_initial = 2m\nretry_max = 1m\n" RECV,
                 "t.ini:3: [delivery] retry_max: 1m0s is less than retry_initial 2m0s", 1);
    expect_error("bad label", "[batch]\ngroup_labels = alertname, 9x\n" RECV,
                 "t.ini:2: [batch] group_labels: invalid label name \"9x\"", 1);
    expect_error("duplicate label", "[batch]\ngroup_labels = a, a\n" RECV,
                 "t.ini:2: [batch] group_labels: label \"a\" listed twice", 1);

    /* The rest of a too-long key line must not turn into a bogus key, and
     * its indented continuation is not blamed on another key. */
    char *longcont = nd_xasprintf("[receiver.a]\ntype = webhook\nheaders = %0*d\n  X-A: 1\n"
                                  "url = http://x\n",
                                  ND_CONFIG_LINE_MAX, 0);
    expect_error("too-long line then continuation", longcont, "t.ini:3: line longer than ", 1);
    free(longcont);

    char longsec[200];
    snprintf(longsec, sizeof longsec, "[receiver.%s]\ntype = console\n" RECV,
             "abcdefghijabcdefghijabcdefghijabcdefghijX");
    expect_error("too-long receiver name", longsec,
                 "t.ini:1: [receiver.abcdefghijabcdefghijabcdefghijabcdefghijX]: receiver name "
                 "too long (41 characters, at most 40)",
                 1);
    expect_error("too-long section name",
                 RECV "[abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabc]\nx = 1\n",
                 "t.ini:3: section name too long (53 characters, at most 40)", 1);
    size_t n = 9;
    char *none;
    char sec40[200];
    snprintf(sec40, sizeof sec40, "[receiver.%s]\ntype = console\n",
             "abcdefghijabcdefghijabcdefghijabcdefghij");
    none = load_errors(sec40, &n);
    ok(none == NULL, "a receiver name of exactly 40 characters loads");
    free(none);
    expect_error("receiver name charset", "[receiver.Ops]\ntype = console\n" RECV,
                 "t.ini:1: [receiver.Ops]: invalid receiver name", 1);
    expect_error("empty receiver name", "[receiver.]\ntype = console\n" RECV,
                 "t.ini:1: [receiver.]: invalid receiver name", 1);
    expect_error("duplicate section",
                 RECV "[server]\nlisten = :1\n\n[receiver.a]\ntype = webhook\n",
                 "t.ini:6: [receiver.a]: duplicate section (first at line 1)", 1);
    expect_error("duplicate key", "[server]\nlisten = :1\nlisten = :2\n" RECV,
                 "t.ini:3: [server] listen: duplicate key (first at line 2)", 1);
    expect_error("missing type", "[receiver.b]\nurl = http://x\n" RECV,
                 "t.ini:1: [receiver.b] type: missing required key", 1);
    expect_error("empty type", "[receiver.b]\ntype =\n", "t.ini:2: [receiver.b] type: empty value",
                 1);
    expect_error("no receiver", "[server]\nlisten = :1\n",
                 "t.ini: no receiver: at least one [receiver.NAME] section is required", 1);
    expect_error("empty file", "", "t.ini: no receiver", 1);
    expect_error("syntax error", RECV "this line has no equals sign\n",
                 "t.ini:3: expected 'key = value'", 1);
    expect_error("unclosed header", RECV "[server\nlisten = :1\n",
                 "t.ini:3: section header without a closing ']'", 1);
    expect_error("junk after header", RECV "[server] x\n",
                 "t.ini:3: [server]: unexpected text after the section header", 1);
    expect_error("key before any section", "listen = :1\n" RECV,
                 "t.ini:1: listen: key outside of any [section]", 1);
    expect_error("indented key in a fixed section", "[server]\nlisten = :1\n  cluster = x\n" RECV,
                 "t.ini:3: [server] listen: unexpected indented line", 1);
    expect_error("empty key", RECV "= 5\n", "t.ini:3: [receiver.a]: empty key name", 1);

    expect_error("control character",
                 RECV "url = a\x01"
                      "b\n",
                 "t.ini:3: line contains a control character (0x01)", 1);
    expect_error("stand-in name cannot be forged", RECV "\x01 = 1\n",
                 "t.ini:3: line contains a control character (0x01)", 1);
    /* A too-long section header: one error, its keys are not blamed. */
    char *longhdr =
        nd_xasprintf(RECV "[receiver.%0*d]\ntype = console\nurl = x\n", ND_CONFIG_LINE_MAX, 0);
    expect_error("too-long section header line", longhdr, "t.ini:3: line longer than ", 1);
    free(longhdr);

    /* Lines inih treats specially, checked against what we report. */
    struct nd_config *c = NULL;
    struct nd_config_errors e;
    nd_config_errors_init(&e);
    is_int(nd_config_load_string("\xef\xbb\xbf[server]\n  listen = :7\n\t; indented comment\n"
                                 "  # another\n" RECV "url = a\n  b\n\n  ; c\n  d ; e\n",
                                 "t.ini", &c, &e),
           ND_OK, "BOM, indented first key, indented comments");
    for (size_t i = 0; i < e.n; i++)
        printf("# %s\n", e.msgs[i]);
    if (c) {
        is_int(c->listen_port, 7, "an indented key right after a header is a key");
        is_str(c->listen_host, "", "\":PORT\" means all interfaces");
        is_str(c->receivers[0].kvs[0].value, "a\nb\nd", "continuation skips comments");
    }
    nd_config_free(c);
    nd_config_errors_deinit(&e);
    c = NULL;
    nd_config_errors_init(&e);
    is_int(nd_config_load_string("[server]\nlisten = [::1]:80\n" RECV, "t.ini", &c, &e), ND_OK,
           "IPv6 listen");
    if (c) {
        is_str(c->listen_host, "::1", "IPv6 host without brackets");
        is_int(c->listen_port, 80, "IPv6 port");
    }
    nd_config_free(c);
    nd_config_errors_deinit(&e);
    c = NULL;
    nd_config_errors_init(&e);
    is_int(nd_config_load_string("[batch]\ngroup_labels =\n" RECV, "t.ini", &c, &e), ND_OK,
           "empty group_labels");
    if (c)
        is_int(c->ngroup_labels, 0, "empty group_labels: one group per receiver");
    nd_config_free(c);
    nd_config_errors_deinit(&e);

    /* All errors are reported, each with its own line. */
    size_t nall = 0;
    char *all = load_errors("[server]\r\nlisten = nope\r\nbogus = 1\r\n[batch]\r\nmax_wait = 1x\r\n"
                            "[nope]\r\n[receiver.x]\r\nurl = u\r\n",
                            &nall);
    is_int(nall, 5, "every error is reported");
    has_str(all, "t.ini:2: [server] listen:", "all errors: bad listen (CRLF file)");
    has_str(all, "t.ini:3: [server] bogus: unknown key", "all errors: unknown key");
    has_str(all, "t.ini:5: [batch] max_wait: invalid duration", "all errors: bad duration");
    has_str(all, "t.ini:6: [nope]: unknown section", "all errors: unknown section");
    has_str(all, "t.ini:7: [receiver.x] type: missing required key", "all errors: missing type");
    free(all);

    /* Garbage cannot produce unbounded output. */
    struct nd_buf_like {
        char *p;
        size_t n;
    } big = {nd_xmalloc(30000), 0};
    for (int i = 0; i < 1000; i++)
        big.n += (size_t)sprintf(big.p + big.n, "junk%d\n", i);
    all = load_errors(big.p, &nall);
    is_int(nall, 101, "errors are capped at 100 plus a final notice");
    nd_config_errors_init(&e);
    for (int i = 0; i < 150; i++)
        nd_config_error_add(&e, "t.ini", i + 1, NULL, NULL, "e%d", i);
    ok(e.n == 101 && e.total == 150,
       "past the cap, total still counts every error (n %zu, "
       "total %zu)",
       e.n, e.total);
    nd_config_errors_deinit(&e);
    has_str(all, "t.ini: too many errors", "the cap says so");
    free(all);
    free(big.p);

    /* A missing file names the file. */
    c = NULL;
    nd_config_errors_init(&e);
    is_int(nd_config_load_file("/nonexistent/notifyd.ini", &c, &e), ND_ERR, "missing file");
    ok(e.n == 1 && strstr(e.msgs[0], "/nonexistent/notifyd.ini: cannot read: No such file"),
       "missing file message: %s", e.n ? e.msgs[0] : "(none)");
    nd_config_errors_deinit(&e);
}

static void test_defaults(void)
{
    struct nd_config *c = NULL;
    struct nd_config_errors e;
    nd_config_errors_init(&e);
    int rc = nd_config_load_string(nd_config_default_text, "<default>", &c, &e);
    is_int(rc, ND_OK, "built-in default loads");
    is_int(e.n, 0, "built-in default: no errors");
    if (rc != ND_OK)
        return;
    is_str(c->path, "<default>", "path");
    is_str(c->listen_host, "127.0.0.1", "default listen host");
    is_int(c->listen_port, 19093, "default listen port");
    is_uint(c->max_headers_size, 16384, "default max_headers_size");
    is_int(c->read_timeout_ns, 30 * ND_NS_PER_S, "default read_timeout");
    is_uint(c->listen_backlog, 1024, "default listen_backlog");
    is_uint(c->max_connections, 1024, "default max_connections");
    is_int(c->retry_after_ns, ND_NS_PER_S, "default retry_after");
    is_uint(c->max_body_size, 8u << 20, "default max_body_size");
    is_str(c->cluster, "default", "default cluster");
    is_int(c->shutdown_timeout_ns, 30 * ND_NS_PER_S, "default shutdown_timeout");
    is_int(c->log_level, ND_LOG_INFO, "default log_level");
    is_int(c->log_format, ND_LOG_LOGFMT, "default log_format");
    is_uint(c->max_alerts, 1000000, "default max_alerts");
    is_uint(c->max_bytes, 1u << 30, "default max_bytes");
    is_uint(c->max_depth, 64, "default max_depth");
    is_str(c->wal_dir, "", "default wal_dir: none");
    is_int(c->wal_fsync, ND_FSYNC_BATCH, "default fsync");
    is_int(c->wal_fsync_interval_ns, 10 * ND_NS_PER_MS, "default fsync_interval");
    is_uint(c->wal_segment_size, 64u << 20, "default wal_segment_size");
    is_uint(c->batch_max_size, 100, "default batch max_size");
    is_int(c->batch_max_wait_ns, ND_NS_PER_S, "default batch max_wait");
    is_int(c->ngroup_labels, 2, "default group_labels count");
    if (c->ngroup_labels == 2) {
        is_str(c->group_labels[0], "alertname", "default group label 0");
        is_str(c->group_labels[1], "namespace", "default group label 1");
    }
    is_int(c->delivery.timeout_ns, 5 * ND_NS_PER_S, "default timeout");
    is_uint(c->delivery.max_in_flight, 8, "default max_in_flight");
    is_uint(c->delivery.retry_max_attempts, 10, "default retry_max_attempts");
    is_int(c->delivery.retry_max_age_ns, 600 * ND_NS_PER_S, "default retry_max_age");
    is_int(c->delivery.retry_initial_ns, 500 * ND_NS_PER_MS, "default retry_initial");
    ok(c->delivery.retry_factor == 2.0, "default retry_factor");
    is_int(c->delivery.retry_max_ns, 60 * ND_NS_PER_S, "default retry_max");
    ok(c->delivery.retry_jitter == 0.2, "default retry_jitter");
    is_int(c->nreceivers, 1, "one default receiver");
    if (c->nreceivers == 1) {
        is_str(c->receivers[0].name, "console", "default receiver name");
        is_str(c->receivers[0].type, "console", "default receiver type");
        is_str(c->receivers[0].section, "receiver.console", "default receiver section");
        is_int(c->receivers[0].nkvs, 0, "default receiver has no other keys");
    }
    nd_config_free(c);
    nd_config_errors_deinit(&e);
}

static void test_full(void)
{
    struct nd_config *c = NULL;
    struct nd_config_errors e;
    nd_config_errors_init(&e);
    int rc = nd_config_load_file(full_path, &c, &e);
    is_int(rc, ND_OK, "full.ini loads");
    for (size_t i = 0; i < e.n; i++)
        printf("# %s\n", e.msgs[i]);
    nd_config_errors_deinit(&e);
    if (rc != ND_OK)
        return;
    is_str(c->path, full_path, "path is the file name");
    is_str(c->listen_host, "0.0.0.0", "listen host");
    is_int(c->listen_port, 0, "listen port 0 allowed");
    is_uint(c->max_body_size, 2u << 20, "max_body_size");
    is_str(c->cluster, "prod-eu", "cluster (inline comment stripped)");
    is_int(c->shutdown_timeout_ns, 90 * ND_NS_PER_S, "shutdown_timeout");
    is_int(c->log_level, ND_LOG_DEBUG, "log_level");
    is_int(c->log_format, ND_LOG_JSON, "log_format");
    is_uint(c->max_alerts, 5000, "max_alerts");
    is_uint(c->max_bytes, 10000000, "max_bytes");
    is_uint(c->max_depth, 32, "max_depth");
    is_uint(c->batch_max_size, 7, "batch max_size");
    is_int(c->batch_max_wait_ns, 250 * ND_NS_PER_MS, "batch max_wait");
    is_int(c->ngroup_labels, 3, "group_labels: commas and a continuation line");
    if (c->ngroup_labels == 3) {
        is_str(c->group_labels[0], "alertname", "group label 0");
        is_str(c->group_labels[1], "severity", "group label 1");
        is_str(c->group_labels[2], "cluster", "group label 2 (continuation)");
    }
    is_int(c->delivery.timeout_ns, 3 * ND_NS_PER_S, "timeout");
    is_uint(c->delivery.max_in_flight, 2, "max_in_flight");
    is_uint(c->delivery.retry_max_attempts, 4, "retry_max_attempts");
    is_int(c->delivery.retry_max_age_ns, 3600 * ND_NS_PER_S, "retry_max_age");
    is_int(c->delivery.retry_initial_ns, 100 * ND_NS_PER_MS, "retry_initial");
    ok(c->delivery.retry_factor == 1.5, "retry_factor");
    is_int(c->delivery.retry_max_ns, 30 * ND_NS_PER_S, "retry_max");
    ok(c->delivery.retry_jitter == 0.0, "retry_jitter");
    is_int(c->nreceivers, 2, "two receivers");
    if (c->nreceivers != 2) {
        nd_config_free(c);
        return;
    }
    struct nd_receiver_config *r = &c->receivers[0];
    is_str(r->name, "ops-hook_1", "receiver name");
    is_str(r->section, "receiver.ops-hook_1", "receiver section");
    is_str(r->type, "webhook", "receiver type");
    is_int(r->line, 31, "receiver section line");
    is_str(r->file, full_path, "receiver file");
    is_int(r->nkvs, 3, "receiver kvs without type");
    struct nd_config_kv *kv = nd_receiver_config_get(r, "url");
    ok(kv && kv->used, "get marks used");
    is_str(kv ? kv->value : NULL, "http://127.0.0.1:9/hook?a=1;b=2", "';' without a blank is kept");
    is_int(kv ? kv->line : 0, 33, "url line");
    const char *headers = NULL;
    is_int(nd_receiver_config_string(r, "headers", &headers), ND_OK, "string helper");
    is_str(headers, "X-Team: ops\nX-Env: prod\nX-Last: 1",
           "multi-line value joined with newlines, blank line skipped");
    is_str(c->receivers[1].name, "console", "second receiver");
    is_int(c->receivers[1].line, 42, "second receiver line");

    /* The unused-key check: timeout is read by the notify layer. */
    nd_config_errors_init(&e);
    int64_t ns = 0;
    is_int(nd_receiver_config_duration(r, "timeout", &ns, &e), ND_OK, "receiver timeout");
    is_int(ns, 2 * ND_NS_PER_S, "receiver timeout value");
    nd_receiver_config_check_unused(r, &e);
    is_int(e.n, 0, "every key used");
    nd_receiver_config_check_unused(&c->receivers[1], &e);
    is_int(e.n, 0, "console receiver has nothing unused");
    nd_config_errors_deinit(&e);
    nd_config_free(c);
}

static void test_receiver_helpers(void)
{
    const char *text = "[receiver.w]\n"
                       "type = webhook\n"
                       "timeout = 3s\n"
                       "bad_timeout = 3\n"
                       "n = 12\n"
                       "big = 1000\n"
                       "flag = yes\n"
                       "bad_flag = maybe\n"
                       "ratio = 0.25\n"
                       "bad_ratio = 1,5\n"
                       "extra = 1\n";
    struct nd_config *c = NULL;
    struct nd_config_errors e;
    nd_config_errors_init(&e);
    is_int(nd_config_load_string(text, "r.ini", &c, &e), ND_OK, "receiver keys are not checked");
    if (!c)
        return;
    struct nd_receiver_config *r = &c->receivers[0];
    int64_t ns = -1;
    uint64_t u = 99;
    bool b = false;
    double d = -1;
    is_int(nd_receiver_config_duration(r, "timeout", &ns, &e), ND_OK, "duration helper");
    is_int(ns, 3 * ND_NS_PER_S, "duration helper value");
    ns = -1;
    is_int(nd_receiver_config_duration(r, "absent", &ns, &e), ND_OK, "absent duration ok");
    is_int(ns, -1, "absent duration untouched");
    is_int(nd_receiver_config_duration(r, "bad_timeout", &ns, &e), ND_EINVAL, "bad duration");
    is_int(nd_receiver_config_uint(r, "n", 100, &u, &e), ND_OK, "uint helper");
    is_uint(u, 12, "uint helper value");
    is_int(nd_receiver_config_uint(r, "big", 100, &u, &e), ND_EINVAL, "uint over max");
    is_int(nd_receiver_config_bool(r, "flag", &b, &e), ND_OK, "bool helper");
    ok(b, "bool helper value");
    is_int(nd_receiver_config_bool(r, "bad_flag", &b, &e), ND_EINVAL, "bad bool");
    is_int(nd_receiver_config_double(r, "ratio", &d, &e), ND_OK, "double helper");
    ok(d == 0.25, "double helper value");
    is_int(nd_receiver_config_double(r, "bad_ratio", &d, &e), ND_EINVAL, "bad double");
    nd_receiver_config_check_unused(r, &e);
    is_int(e.n, 5, "four bad values and one unused key");
    if (e.n == 5) {
        is_str(e.msgs[0],
               "r.ini:4: [receiver.w] bad_timeout: invalid duration \"3\": want e.g. "
               "500ms, 5s, 1m30s, 2h",
               "bad duration message");
        has_str(e.msgs[1], "r.ini:6: [receiver.w] big: invalid number \"1000\"", "uint message");
        has_str(e.msgs[2], "r.ini:8: [receiver.w] bad_flag: invalid boolean \"maybe\"",
                "bool message");
        has_str(e.msgs[3], "r.ini:10: [receiver.w] bad_ratio: invalid number", "double message");
        is_str(e.msgs[4], "r.ini:11: [receiver.w] extra: unknown key for type webhook",
               "unused key message");
    }
    nd_config_errors_deinit(&e);
    nd_config_free(c);
}

static char *write_temp(const char *content, size_t len)
{
    char *path = nd_xstrdup("/tmp/nd_test_secret_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return path;
    ok(write(fd, content, len) == (ssize_t)len, "temp file written");
    close(fd);
    return path;
}

static void test_secrets(void)
{
    char err[ND_ERRLEN] = "";
    char *s = NULL;

    is_int(nd_config_secret("plain-token", &s, err), ND_OK, "literal secret");
    is_str(s, "plain-token", "literal value");
    free(s);

    setenv("ND_TEST_SECRET", "s3cr3t", 1);
    is_int(nd_config_secret("env:ND_TEST_SECRET", &s, err), ND_OK, "env secret");
    is_str(s, "s3cr3t", "env value");
    free(s);
    unsetenv("ND_TEST_UNSET_VAR");
    s = (char *)1;
    is_int(nd_config_secret("env:ND_TEST_UNSET_VAR", &s, err), ND_ERR, "unset env var");
    ok(s == NULL, "no output on error");
    is_str(err, "environment variable ND_TEST_UNSET_VAR is not set", "unset env message");
    is_int(nd_config_secret("env:", &s, err), ND_ERR, "env: without a name");

    char *path = write_temp("hunter2\n", 8);
    char spec[128];
    snprintf(spec, sizeof spec, "file:%s", path);
    is_int(nd_config_secret(spec, &s, err), ND_OK, "file secret");
    is_str(s, "hunter2", "file value, trailing newline stripped");
    free(s);
    unlink(path);
    free(path);

    path = write_temp("a\r\nb\r\n", 6);
    snprintf(spec, sizeof spec, "file:%s", path);
    is_int(nd_config_secret(spec, &s, err), ND_OK, "multi-line file secret");
    is_str(s, "a\r\nb", "only the final line break is stripped");
    free(s);
    unlink(path);
    free(path);

    is_int(nd_config_secret("file:/nonexistent/secret", &s, err), ND_ERR, "missing file");
    is_str(err, "cannot read secret file /nonexistent/secret: No such file or directory",
           "missing file message");

    size_t big = 64 * 1024 + 1;
    char *blob = nd_xmalloc(big);
    memset(blob, 'x', big);
    path = write_temp(blob, big);
    snprintf(spec, sizeof spec, "file:%s", path);
    is_int(nd_config_secret(spec, &s, err), ND_ERR, "secret file over 64 KiB");
    has_str(err, "is larger than 65536 bytes", "too-large message");
    ok(strstr(err, "xxxx") == NULL, "the message does not contain the secret");
    unlink(path);
    free(path);
    path = write_temp(blob, big - 1);
    snprintf(spec, sizeof spec, "file:%s", path);
    is_int(nd_config_secret(spec, &s, err), ND_OK, "secret file of exactly 64 KiB");
    is_int(s ? strlen(s) : 0, 64 * 1024, "64 KiB secret value");
    free(s);
    unlink(path);
    free(path);
    free(blob);
}

static void test_example(void)
{
    struct nd_config *c = NULL;
    struct nd_config_errors e;
    nd_config_errors_init(&e);
    int rc = nd_config_load_file(example_path, &c, &e);
    is_int(rc, ND_OK, "the example config loads");
    for (size_t i = 0; i < e.n; i++)
        printf("# %s\n", e.msgs[i]);
    ok(c && c->nreceivers >= 1, "the example has receivers");
    nd_config_free(c);
    nd_config_errors_deinit(&e);
}

/* Loads `text`, which must load; returns the value of `key` in receiver 0
 * (caller frees) or NULL. */
static char *receiver_value(const char *name, const char *text, const char *key)
{
    struct nd_config *c = NULL;
    struct nd_config_errors e;
    nd_config_errors_init(&e);
    is_int(nd_config_load_string(text, "t.ini", &c, &e), ND_OK, "%s: loads", name);
    for (size_t i = 0; i < e.n; i++)
        printf("# %s\n", e.msgs[i]);
    char *v = NULL;
    for (size_t i = 0; c && c->nreceivers && i < c->receivers[0].nkvs; i++)
        if (strcmp(c->receivers[0].kvs[i].key, key) == 0)
            v = nd_xstrdup(c->receivers[0].kvs[i].value);
    nd_config_free(c);
    nd_config_errors_deinit(&e);
    return v;
}

/* A URL with a token, a selector or a header value is written on one line;
 * lines up to ND_CONFIG_LINE_MAX bytes load as written. */
static void test_long_lines(void)
{
    char *url = nd_xmalloc(4097);
    memcpy(url, "http://127.0.0.1:1/hook?token=", 30);
    for (size_t i = 30; i < 4096; i++)
        url[i] = (char)('a' + i % 26);
    url[4096] = '\0';
    char *text = nd_xasprintf("[receiver.a]\ntype = webhook\nurl = %s\ntimeout = 1s\n", url);
    char *v = receiver_value("4 KiB URL", text, "url");
    is_str(v, url, "a 4 KiB URL is kept as written");
    free(v);
    free(text);
    free(url);

    char *big = nd_xmalloc(10 * 1024 + 1);
    for (size_t i = 0; i < 10 * 1024; i++)
        big[i] = (char)('0' + i % 10);
    big[10 * 1024] = '\0';
    text = nd_xasprintf("[receiver.a]\ntype = webhook\nselector = %s\n", big);
    v = receiver_value("10 KiB value", text, "selector");
    is_str(v, big, "a 10 KiB value is kept as written");
    is_int(v ? strlen(v) : 0, 10 * 1024, "all of its bytes");
    free(v);
    free(text);
    free(big);

    /* "k = " and the value make a line of exactly the limit. */
    text = nd_xasprintf("[receiver.a]\ntype = webhook\nk = %0*d\n", ND_CONFIG_LINE_MAX - 4, 7);
    v = receiver_value("line of the limit", text, "k");
    is_int(v ? strlen(v) : 0, ND_CONFIG_LINE_MAX - 4, "a line of exactly the limit loads");
    free(v);
    free(text);

    /* One byte more: an error naming the line and the limit, and the keys
     * after it still load. */
    text = nd_xasprintf("[server]\nlisten = :1\n\nk = %0*d\ncluster = c\n" RECV,
                        ND_CONFIG_LINE_MAX - 3, 7);
    char *want = nd_xasprintf("t.ini:4: line longer than %d bytes (%d bytes)\n", ND_CONFIG_LINE_MAX,
                              ND_CONFIG_LINE_MAX + 1);
    expect_error("line over the limit", text, want, 1);
    free(want);
    free(text);

    /* Names longer than inih's 50-byte section and name buffers are
     * reported whole, not cut. */
    char name[101];
    memset(name, 'x', 100);
    name[100] = '\0';
    text = nd_xasprintf("[receiver.%s]\ntype = console\n" RECV, name);
    want = nd_xasprintf("t.ini:1: [receiver.%s]: receiver name too long (100 characters, "
                        "at most 40)\n",
                        name);
    expect_error("long section name", text, want, 1);
    free(want);
    free(text);
    text = nd_xasprintf(RECV "%s = 1\n", name);
    expect_error("long key name", text,
                 "t.ini:3: [receiver.a]: key name too long (100 characters, at most 40)\n", 1);
    free(text);
}

/* A receiver with a line the reader rejected is not judged on what is left
 * of it: --check-config would report its url as missing. */
static void test_partial_lost_line(void)
{
    char path[] = "/tmp/nd-test-partial-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fprintf(f,
            "[receiver.hook]\ntype = webhook\nurl = http://x/%0*d\n[receiver.b]\ntype = console\n",
            ND_CONFIG_LINE_MAX, 0);
    fclose(f);
    struct nd_config *c = NULL;
    struct nd_config_errors e;
    nd_config_errors_init(&e);
    is_int(nd_config_load_file_partial(path, &c, &e), ND_ERR, "over-long line: load fails");
    is_int(e.n, 1, "one error");
    has_str(e.n ? e.msgs[0] : "", ":3: line longer than", "naming the line");
    is_int(c ? c->nreceivers : 9, 1, "the receiver with the lost line is left out");
    is_str(c && c->nreceivers ? c->receivers[0].name : NULL, "b", "the other one is kept");
    nd_config_free(c);
    nd_config_errors_deinit(&e);
    unlink(path);
}

/* --check-config wants the receivers of a file whose fixed sections are bad. */
static void test_partial(void)
{
    char path[] = "/tmp/nd-test-partial-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fputs("[server]\nmax_body_size = lots\n[receiver.hook]\ntype = webhook\nextra = 1\n", f);
    fclose(f);
    struct nd_config *c = NULL;
    struct nd_config_errors e;
    nd_config_errors_init(&e);
    is_int(nd_config_load_file_partial(path, &c, &e), ND_ERR, "partial load reports the error");
    ok(c != NULL, "partial load keeps the config");
    is_int(c ? c->nreceivers : 0, 1, "the receiver section is kept");
    is_str(c && c->nreceivers ? c->receivers[0].type : NULL, "webhook", "with its type");
    is_int(e.n, 1, "one error (receiver keys are not checked by the loader)");
    nd_config_free(c);
    nd_config_errors_deinit(&e);
    nd_config_errors_init(&e);
    c = NULL;
    is_int(nd_config_load_file(path, &c, &e), ND_ERR, "strict load fails");
    ok(c == NULL, "strict load leaves no config");
    nd_config_errors_deinit(&e);
    unlink(path);
}

/* [routing]: the keys of the API silences, their defaults and ranges. */
static void test_routing_silences(void)
{
    struct nd_config *c = NULL;
    struct nd_config_errors e;

    nd_config_errors_init(&e);
    is_int(nd_config_load_string(RECV, "t.ini", &c, &e), ND_OK, "routing: no section");
    ok(c->routing.silence_file == NULL, "routing: memory only by default");
    is_int(c->routing.silence_retention_ns, INT64_C(120) * 3600 * 1000000000, "retention 120h");
    is_int(c->routing.max_silences, 1000, "max_silences 1000");
    is_int(c->routing.max_silence_matchers, 32, "max_silence_matchers 32");
    is_int(c->routing.max_silence_size, 16384, "max_silence_size 16KiB");
    nd_config_free(c);
    is_int(nd_config_load_string("[routing]\nsilence_file = /var/lib/s.json\nsilence_retention = "
                                 "1h\nmax_silences = 5\nmax_silence_matchers = 3\n"
                                 "max_silence_size = 1KiB\n" RECV,
                                 "t.ini", &c, &e),
           ND_OK, "routing: every key");
    is_str(c->routing.silence_file, "/var/lib/s.json", "silence_file");
    is_int(c->routing.silence_file_line, 2, "silence_file: its line kept for later errors");
    is_int(c->routing.silence_retention_ns, INT64_C(3600) * 1000000000, "silence_retention");
    is_int(c->routing.max_silences, 5, "max_silences");
    is_int(c->routing.max_silence_matchers, 3, "max_silence_matchers");
    is_int(c->routing.max_silence_size, 1024, "max_silence_size");
    nd_config_free(c);
    nd_config_errors_deinit(&e);
    nd_config_errors_init(&e);
    is_int(nd_config_load_string("[routing]\npolicy = All\ntenant_sidecar_url = x\n" RECV, "t.ini",
                                 &c, &e),
           ND_OK, "routing: tenant_sidecar_url");
    is_int(c->routing.tenant_sidecar_url_line, 3, "tenant_sidecar_url: its line kept");
    is_int(c->routing.silence_file_line, 0, "silence_file absent: line 0");
    nd_config_free(c);
    nd_config_errors_deinit(&e);
    expect_error("routing: max_silences 0", "[routing]\nmax_silences = 0\n" RECV,
                 "t.ini:2: [routing] max_silences:", 1);
    expect_error("routing: bad retention", "[routing]\nsilence_retention = soon\n" RECV,
                 "t.ini:2: [routing] silence_retention:", 1);
    expect_error("routing: unknown key", "[routing]\nsilence_files = x\n" RECV,
                 "t.ini:2: [routing] silence_files: unknown key", 1);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_config FULL.ini EXAMPLE.ini\n");
        return 2;
    }
    full_path = argv[1];
    example_path = argv[2];
    test_errors();
    test_defaults();
    test_full();
    test_receiver_helpers();
    test_secrets();
    test_example();
    test_partial();
    test_long_lines();
    test_partial_lost_line();
    test_routing_silences();
    return done_testing();
}
