/* config.c - the INI loader (see config.h and docs/config.md).
 *
 * inih does the tokenising, but hides three things from its handler: the
 * line number (INI_HANDLER_LINENO=0 in Debian's build), lines longer than
 * its line buffer (cut silently, the rest parsed as a bogus next line) and
 * section names over 49 bytes (cut silently into its 50-byte buffer). So the
 * text is fed to ini_parse_stream() through our own reader, which numbers
 * the lines, replaces a line longer than the buffer inih offers by a short
 * stand-in of the same kind after reporting it with the real limit, and
 * parses section headers itself. The handler then never trusts inih's
 * `section` argument, only the reader's view. The buffer is
 * ND_CONFIG_LINE_MAX (+3) with Debian's libinih (set at run time, see
 * load_string) and with the inih subproject (built so, see meson.build).
 *
 * Everything is first collected raw (key, value, line) per section; the
 * fixed sections are checked against a key table afterwards, receiver
 * sections are handed over raw to the notify layer.
 */
#include "notifyd/config.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "notifyd/log.h"
#include "notifyd/parse.h"
#include "notifyd/util.h"

#define MAX_FILE_SIZE (1024 * 1024) /* a config file is small; this bounds memory */
#define MAX_VALUE_LEN (64 * 1024)   /* one value, continuation lines included */
#define MAX_ERRORS    100           /* then one "too many errors" line */

/* Stand-ins the reader gives inih for a line it already reported: a section
 * header and a key of names no real file can contain, so that inih's own
 * state (current section, key continued by indented lines) stays in step. */
#define STANDIN_NAME "\x01"

const char nd_config_default_text[] =
    "; notifyd built-in configuration (notifyd --print-default-config)\n"
    "[server]\n"
    "listen = 127.0.0.1:19093\n"
    "\n"
    "[receiver.console]\n"
    "type = console\n";

/* ---- errors ---------------------------------------------------------- */

void nd_config_errors_init(struct nd_config_errors *e)
{
    e->msgs = NULL;
    e->n = 0;
    e->total = 0;
}

void nd_config_errors_deinit(struct nd_config_errors *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->msgs[i]);
    free(e->msgs);
    nd_config_errors_init(e);
}

void nd_config_error_add(struct nd_config_errors *e, const char *file, int line,
                         const char *section, const char *key, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    e->total++;
    /* A file of garbage must not become megabytes of messages. */
    if (e->n > MAX_ERRORS)
        return;
    if (e->n == MAX_ERRORS) {
        snprintf(msg, sizeof msg, "%s: too many errors, the rest are not listed",
                 file ? file : "<config>");
    } else {
        char where[96], text[384];
        va_start(ap, fmt);
        vsnprintf(text, sizeof text, fmt, ap);
        va_end(ap);
        if (line > 0)
            snprintf(where, sizeof where, "%d", line);
        snprintf(msg, sizeof msg, "%s%s%s: %s%s%s%s%s", file ? file : "<config>",
                 line > 0 ? ":" : "", line > 0 ? where : "", section ? "[" : "",
                 section ? section : "", section ? (key ? "] " : "]: ") : "", key ? key : "",
                 key ? ": " : "");
        size_t len = strlen(msg);
        snprintf(msg + len, sizeof msg - len, "%s", text);
    }
    e->msgs = nd_xrealloc(e->msgs, (e->n + 1) * sizeof *e->msgs);
    e->msgs[e->n++] = nd_xstrdup(msg);
}

/* ---- the raw collection ---------------------------------------------- */

/* The fixed sections come first, in the order of fixed_sections; the named
 * ones ([receiver.NAME], [silence.NAME], [inhibit.NAME]) are kept raw for
 * their modules. */
enum sec_kind {
    SEC_SERVER,
    SEC_QUEUE,
    SEC_BATCH,
    SEC_DELIVERY,
    SEC_TEMPLATE,
    SEC_ROUTING,
    SEC_HISTORY,
    SEC_RECEIVER,
    SEC_SILENCE,
    SEC_INHIBIT,
    SEC_TENANT,
    SEC_ROUTER,
};

static const struct {
    const char *prefix;
    enum sec_kind kind;
    const char *what;
} named_sections[] = {
    {"receiver.", SEC_RECEIVER, "receiver"}, {"silence.", SEC_SILENCE, "silence"},
    {"inhibit.", SEC_INHIBIT, "inhibit"},    {"tenant.", SEC_TENANT, "tenant"},
    {"router.", SEC_ROUTER, "router"},
};

static const char *const fixed_sections[] = {"server",   "queue",   "batch",  "delivery",
                                             "template", "routing", "history"};

struct raw_section {
    char *name;
    int line;
    enum sec_kind kind;
    bool lost_line; /* a key or continuation line of it was rejected by the reader */
    size_t nkvs;
    struct nd_config_kv *kvs;
};

enum line_class { LINE_BLANK, LINE_SECTION, LINE_KEY, LINE_CONT };

struct loader {
    const char *file;
    struct nd_config_errors *errs;
    /* reader */
    const char *text;
    size_t len, pos;
    int lineno;
    enum line_class cls; /* of the line inih is processing now */
    bool handled;        /* the handler ran for that line */
    bool key_open;       /* inih's prev_name is set: indented lines continue it */
    /* collection */
    size_t nsecs;
    struct raw_section *secs;
    bool skip;      /* inside a section already reported: ignore its keys */
    bool in_sec;    /* a valid section header was seen */
    long last_kv;   /* index in the current section of the key being continued, -1 none */
    bool cont_warn; /* a misplaced continuation was reported for last_kv */
};

static void lerr(struct loader *ld, int line, const char *section, const char *key, const char *fmt,
                 ...) __attribute__((format(printf, 5, 6)));

static void lerr(struct loader *ld, int line, const char *section, const char *key, const char *fmt,
                 ...)
{
    char text[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    nd_config_error_add(ld->errs, ld->file, line, section, key, "%s", text);
}

static struct raw_section *cur_sec(struct loader *ld)
{
    return ld->in_sec && !ld->skip ? &ld->secs[ld->nsecs - 1] : NULL;
}

static bool valid_name(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* Checks a section header "[...]" of `n` bytes at `s` (already trimmed) and
 * opens the section or marks it skipped. Mirrors inih: the header ends at
 * the first ']' unless an inline comment (";" after a blank) comes first. */
static void open_section(struct loader *ld, const char *s, size_t n)
{
    const char *end = NULL;
    bool was_blank = false;
    for (size_t i = 1; i < n; i++) {
        if (s[i] == ']') {
            end = s + i;
            break;
        }
        if (was_blank && s[i] == ';')
            break;
        was_blank = nd__config_is_blank(s[i]);
    }
    if (!end) {
        /* inih keeps its previous section and key; so do we, but ignore both. */
        lerr(ld, ld->lineno, NULL, NULL, "section header without a closing ']'");
        ld->skip = true;
        return;
    }
    ld->key_open = false; /* inih forgets its continuation key on a header */
    ld->last_kv = -1;

    char *name = nd_xstrndup(s + 1, (size_t)(end - s - 1));
    const char *after = end + 1;
    while (after < s + n && nd__config_is_blank(*after))
        after++;
    if (after < s + n && *after != ';' && *after != '#')
        lerr(ld, ld->lineno, name, NULL, "unexpected text after the section header");

    enum sec_kind kind = SEC_RECEIVER;
    bool ok = false;
    size_t nlen = strlen(name);
    for (size_t i = 0; i < ND_ARRAY_LEN(fixed_sections); i++) {
        if (strcmp(name, fixed_sections[i]) == 0) {
            kind = (enum sec_kind)i;
            ok = true;
        }
    }
    bool named = false;
    for (size_t i = 0; !ok && i < ND_ARRAY_LEN(named_sections); i++) {
        size_t plen = strlen(named_sections[i].prefix);
        if (strncmp(name, named_sections[i].prefix, plen) != 0)
            continue;
        size_t rlen = nlen - plen;
        named = true;
        kind = named_sections[i].kind;
        if (rlen > ND_CONFIG_NAME_MAX)
            lerr(ld, ld->lineno, name, NULL, "%s name too long (%zu characters, at most %d)",
                 named_sections[i].what, rlen, ND_CONFIG_NAME_MAX);
        else if (!valid_name(name + plen, rlen))
            lerr(ld, ld->lineno, name, NULL, "invalid %s name: use 1 to %d of a-z 0-9 _ -",
                 named_sections[i].what, ND_CONFIG_NAME_MAX);
        else
            ok = true;
        break;
    }
    if (named) {
        /* reported above, or fine */
    } else if (!ok && nlen > ND_CONFIG_NAME_MAX) {
        lerr(ld, ld->lineno, NULL, NULL, "section name too long (%zu characters, at most %d)", nlen,
             ND_CONFIG_NAME_MAX);
    } else if (!ok) {
        lerr(ld, ld->lineno, name, NULL,
             "unknown section (known: server, queue, batch, delivery, template, "
             "routing, history, receiver.NAME, silence.NAME, inhibit.NAME, tenant.NAME, "
             "router.NAME)");
    }
    if (ok) {
        for (size_t i = 0; i < ld->nsecs; i++) {
            if (strcmp(ld->secs[i].name, name) == 0) {
                lerr(ld, ld->lineno, name, NULL, "duplicate section (first at line %d)",
                     ld->secs[i].line);
                ok = false;
                break;
            }
        }
    }
    if (!ok) {
        free(name);
        ld->skip = true;
        return;
    }
    ld->secs = nd_xrealloc(ld->secs, (ld->nsecs + 1) * sizeof *ld->secs);
    ld->secs[ld->nsecs++] = (struct raw_section){.name = name, .line = ld->lineno, .kind = kind};
    ld->skip = false;
    ld->in_sec = true;
}

/* inih's fgets-style reader. inih handles one line fully (calling the
 * handler) before it asks for the next one, so ld->lineno is the line of
 * every handler call, and a key line that produced no call was a syntax
 * error inih could only report as "the first error line". */
static char *reader(char *str, int num, void *stream)
{
    struct loader *ld = stream;

    if (ld->cls == LINE_KEY && !ld->handled && ld->lineno > 0)
        lerr(ld, ld->lineno, NULL, NULL, "expected 'key = value', a [section] or a comment");
    ld->handled = false;
    if (ld->pos >= ld->len)
        return NULL;

    const char *line = ld->text + ld->pos;
    const char *nl = memchr(line, '\n', ld->len - ld->pos);
    size_t n = nl ? (size_t)(nl - line) : ld->len - ld->pos;
    ld->pos += n + (nl ? 1 : 0);
    ld->lineno++;
    if (ld->lineno == 1 && n >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) {
        line += 3;
        n -= 3;
    }
    while (n > 0 && nd__config_is_blank(line[n - 1]))
        n--;

    size_t lead = 0;
    while (lead < n && nd__config_is_blank(line[lead]))
        lead++;
    if (lead == n || line[lead] == ';' || line[lead] == '#')
        ld->cls = LINE_BLANK;
    else if (lead > 0 && ld->key_open)
        ld->cls = LINE_CONT;
    else if (line[lead] == '[')
        ld->cls = LINE_SECTION;
    else
        ld->cls = LINE_KEY;

    /* inih needs room for "\r\n\0" besides the text. */
    size_t room = num > 3 ? (size_t)num - 3 : 0;
    /* Control characters are never meant (and \x01 is our stand-in name). */
    int ctl = -1;
    for (size_t i = 0; i < n && ctl < 0; i++)
        if (((unsigned char)line[i] < 0x20 && line[i] != '\t') || line[i] == 0x7f)
            ctl = (unsigned char)line[i];
    if (n > room || ctl >= 0) {
        if (ctl >= 0)
            lerr(ld, ld->lineno, NULL, NULL, "line contains a control character (0x%02x)", ctl);
        else
            lerr(ld, ld->lineno, NULL, NULL, "line longer than %zu bytes (%zu bytes)", room, n);
        struct raw_section *sec = cur_sec(ld);
        if (sec && (ld->cls == LINE_KEY || ld->cls == LINE_CONT))
            sec->lost_line = true;
        switch (ld->cls) {
        case LINE_SECTION:
            ld->skip = true;
            ld->key_open = false;
            ld->cls = LINE_BLANK;
            snprintf(str, (size_t)num, "[%s]\n", STANDIN_NAME);
            break;
        case LINE_KEY:
            ld->key_open = true;
            snprintf(str, (size_t)num, "%s=\n", STANDIN_NAME);
            break;
        default:
            /* A blank line neither ends nor starts a continuation in inih. */
            ld->cls = LINE_BLANK;
            snprintf(str, (size_t)num, "\n");
            break;
        }
        return str;
    }

    if (ld->cls == LINE_SECTION)
        open_section(ld, line + lead, n - lead);
    memcpy(str, line, n);
    str[n] = '\n';
    str[n + 1] = '\0';
    return str;
}

static void kv_append(struct loader *ld, struct raw_section *sec, struct nd_config_kv *kv,
                      const char *value)
{
    size_t old = strlen(kv->value), add = strlen(value);
    if (old == 0) {
        /* "key =" followed by indented lines: the value starts on the next line. */
        free(kv->value);
        kv->value = nd_xstrdup(value);
        return;
    }
    if (old + 1 + add > MAX_VALUE_LEN) {
        if (!ld->cont_warn)
            lerr(ld, ld->lineno, sec->name, kv->key, "value too long (at most %d bytes)",
                 MAX_VALUE_LEN);
        ld->cont_warn = true;
        return;
    }
    kv->value = nd_xrealloc(kv->value, old + 1 + add + 1);
    kv->value[old] = '\n';
    memcpy(kv->value + old + 1, value, add + 1);
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    struct loader *ld = user;
    ND_UNUSED(section); /* the reader's view is used instead: see the top comment */

    ld->handled = true;
    if (ld->cls == LINE_CONT) {
        struct raw_section *sec = cur_sec(ld);
        if (!sec || ld->last_kv < 0)
            return 1;
        struct nd_config_kv *kv = &sec->kvs[ld->last_kv];
        /* Lists may go on over indented lines; other fixed keys may not. */
        if (sec->kind < SEC_RECEIVER && strcmp(kv->key, "group_labels") != 0 &&
            strcmp(kv->key, "files") != 0 && strcmp(kv->key, "language_files") != 0) {
            if (!ld->cont_warn)
                lerr(ld, ld->lineno, sec->name, kv->key,
                     "unexpected indented line: it would continue this key's value "
                     "(remove the indentation)");
            ld->cont_warn = true;
            return 1;
        }
        /* inih strips inline comments on key lines only; do it here too so
         * that "; note" means the same on every line. */
        const char *end = value;
        bool was_blank = false;
        while (*end && !(was_blank && *end == ';')) {
            was_blank = nd__config_is_blank(*end);
            end++;
        }
        while (end > value && nd__config_is_blank(end[-1]))
            end--;
        char *frag = nd_xstrndup(value, (size_t)(end - value));
        kv_append(ld, sec, kv, frag);
        free(frag);
        return 1;
    }

    ld->key_open = name[0] != '\0';
    ld->last_kv = -1;
    ld->cont_warn = false;
    if (strcmp(name, STANDIN_NAME) == 0)
        return 1;
    if (!ld->in_sec && !ld->skip) {
        lerr(ld, ld->lineno, NULL, name, "key outside of any [section]");
        ld->skip = true; /* one message for all keys before the first section */
        return 1;
    }
    struct raw_section *sec = cur_sec(ld);
    if (!sec)
        return 1;
    if (name[0] == '\0') {
        lerr(ld, ld->lineno, sec->name, NULL, "empty key name");
        return 1;
    }
    if (strlen(name) > ND_CONFIG_NAME_MAX) {
        lerr(ld, ld->lineno, sec->name, NULL, "key name too long (%zu characters, at most %d)",
             strlen(name), ND_CONFIG_NAME_MAX);
        return 1;
    }
    for (size_t i = 0; i < sec->nkvs; i++) {
        if (strcmp(sec->kvs[i].key, name) == 0) {
            lerr(ld, ld->lineno, sec->name, name, "duplicate key (first at line %d)",
                 sec->kvs[i].line);
            return 1;
        }
    }
    sec->kvs = nd_xrealloc(sec->kvs, (sec->nkvs + 1) * sizeof *sec->kvs);
    sec->kvs[sec->nkvs] = (struct nd_config_kv){
        .key = nd_xstrdup(name), .value = nd_xstrdup(value), .line = ld->lineno};
    ld->last_kv = (long)sec->nkvs++;
    return 1;
}

static void kvs_free(struct nd_config_kv *kvs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(kvs[i].key);
        free(kvs[i].value);
    }
    free(kvs);
}

/* ---- typed keys of the fixed sections --------------------------------- */

enum vtype {
    V_LISTEN,
    V_SIZE,
    V_STRING,
    V_DURATION,
    V_LOGLEVEL,
    V_LOGFMT,
    V_FSYNC,
    V_U32,
    V_U64,
    V_LABELS,
    V_DOUBLE,
    V_PATHS,
    V_OVERFLOW,
    V_BOOL,
    V_POLICY
};

struct keyspec {
    enum sec_kind sec;
    const char *key;
    enum vtype type;
    size_t off;      /* into struct nd_config, or struct nd_delivery_config for SEC_DELIVERY */
    double min, max; /* numbers: inclusive range; durations in ns */
};

#define CFG(f) offsetof(struct nd_config, f)
#define DLV(f) offsetof(struct nd_delivery_config, f)
#define NS(x)  ((double)(x)*1e9)

static const struct keyspec keyspecs[] = {
    {SEC_SERVER, "listen", V_LISTEN, 0, 0, 0},
    {SEC_SERVER, "max_body_size", V_SIZE, CFG(max_body_size), 1, 1e15},
    {SEC_SERVER, "cluster", V_STRING, CFG(cluster), 0, 0},
    {SEC_SERVER, "shutdown_timeout", V_DURATION, CFG(shutdown_timeout_ns), 0, 9.2e18},
    {SEC_SERVER, "max_headers_size", V_SIZE, CFG(max_headers_size), 1024, 1 << 24},
    {SEC_SERVER, "read_timeout", V_DURATION, CFG(read_timeout_ns), NS(1), NS(3600)},
    {SEC_SERVER, "listen_backlog", V_U32, CFG(listen_backlog), 1, 65535},
    {SEC_SERVER, "max_connections", V_U32, CFG(max_connections), 1, 1048576},
    {SEC_SERVER, "retry_after", V_DURATION, CFG(retry_after_ns), NS(1), NS(3600)},
    {SEC_SERVER, "api_timeout", V_DURATION, CFG(api_timeout_ns), NS(1), NS(3600)},
    {SEC_SERVER, "api_max_requests", V_U32, CFG(api_max_requests), 1, 65536},
    {SEC_SERVER, "log_level", V_LOGLEVEL, CFG(log_level), 0, 0},
    {SEC_SERVER, "log_format", V_LOGFMT, CFG(log_format), 0, 0},
    {SEC_QUEUE, "max_alerts", V_U64, CFG(max_alerts), 1, 1e15},
    {SEC_QUEUE, "max_bytes", V_SIZE, CFG(max_bytes), 1, 1e15},
    {SEC_QUEUE, "max_depth", V_U32, CFG(max_depth), 1, 10000},
    {SEC_QUEUE, "max_inhibit_sources", V_U64, CFG(max_inhibit_sources), 1, 1e9},
    {SEC_QUEUE, "wal_dir", V_STRING, CFG(wal_dir), 0, 0},
    {SEC_QUEUE, "fsync", V_FSYNC, CFG(wal_fsync), 0, 0},
    {SEC_QUEUE, "fsync_interval", V_DURATION, CFG(wal_fsync_interval_ns), NS(0.001), NS(10)},
    {SEC_QUEUE, "wal_segment_size", V_SIZE, CFG(wal_segment_size), 65536, 1e12},
    {SEC_BATCH, "max_size", V_U32, CFG(batch_max_size), 1, 1000000},
    {SEC_BATCH, "max_wait", V_DURATION, CFG(batch_max_wait_ns), 0, 9.2e18},
    {SEC_BATCH, "group_labels", V_LABELS, 0, 0, 0},
    {SEC_DELIVERY, "timeout", V_DURATION, DLV(timeout_ns), ND_DELIVERY_DURATION_MIN_NS,
     ND_DELIVERY_DURATION_MAX_NS},
    {SEC_DELIVERY, "max_in_flight", V_U32, DLV(max_in_flight), 1, 4096},
    {SEC_DELIVERY, "retry_max_attempts", V_U32, DLV(retry_max_attempts), 1, 1000},
    {SEC_DELIVERY, "retry_max_age", V_DURATION, DLV(retry_max_age_ns), ND_DELIVERY_DURATION_MIN_NS,
     ND_DELIVERY_DURATION_MAX_NS},
    {SEC_DELIVERY, "retry_initial", V_DURATION, DLV(retry_initial_ns), ND_DELIVERY_DURATION_MIN_NS,
     ND_DELIVERY_DURATION_MAX_NS},
    {SEC_DELIVERY, "retry_factor", V_DOUBLE, DLV(retry_factor), 1, 100},
    {SEC_DELIVERY, "retry_max", V_DURATION, DLV(retry_max_ns), ND_DELIVERY_DURATION_MIN_NS,
     ND_DELIVERY_DURATION_MAX_NS},
    {SEC_DELIVERY, "retry_jitter", V_DOUBLE, DLV(retry_jitter), 0, 1},
    {SEC_DELIVERY, "max_backlog", V_U64, DLV(max_backlog), 0, 1e15},
    {SEC_DELIVERY, "overflow", V_OVERFLOW, DLV(overflow), 0, 0},
    {SEC_DELIVERY, "spill_max_alerts", V_U64, DLV(spill_max_alerts), 1, 1e12},
    {SEC_HISTORY, "receiver", V_STRING, CFG(history_receiver), 0, 0},
    {SEC_HISTORY, "max_pending", V_U32, CFG(history_max_pending), 1, 10000000},
    {SEC_HISTORY, "max_wait", V_DURATION, CFG(history_max_wait_ns), 0, NS(3600)},
    {SEC_TEMPLATE, "files", V_PATHS, 0, 0, 0},
    {SEC_TEMPLATE, "language", V_STRING, CFG(tmpl.language), 0, 0},
    {SEC_TEMPLATE, "language_files", V_PATHS, 0, 0, 0},
    {SEC_ROUTING, "policy", V_POLICY, CFG(route_policy), 0, 0},
    {SEC_ROUTING, "tenant_by_namespace_label", V_BOOL, CFG(tenant_by_namespace_label), 0, 0},
    {SEC_ROUTING, "silence_file", V_STRING, CFG(routing.silence_file), 0, 0},
    {SEC_ROUTING, "silence_retention", V_DURATION, CFG(routing.silence_retention_ns), 0, 9.2e18},
    {SEC_ROUTING, "max_silences", V_U32, CFG(routing.max_silences), 1, 1000000},
    {SEC_ROUTING, "max_silence_matchers", V_U32, CFG(routing.max_silence_matchers), 1, 1000},
    {SEC_ROUTING, "max_silence_size", V_SIZE, CFG(routing.max_silence_size), 64, 1 << 24},
    {SEC_ROUTING, "tenant_sidecar_url", V_STRING, CFG(routing.tenant_sidecar_url), 0, 0},
    {SEC_ROUTING, "tenant_cache_ttl", V_DURATION, CFG(routing.tenant_cache_ttl_ns), NS(1),
     NS(86400)},
    {SEC_ROUTING, "tenant_sidecar_timeout", V_DURATION, CFG(routing.tenant_sidecar_timeout_ns),
     NS(1) / 1000, NS(300)},
    {SEC_ROUTING, "tenant_sidecar_retry", V_DURATION, CFG(routing.tenant_sidecar_retry_ns),
     NS(1) / 1000, NS(3600)},
    {SEC_ROUTING, "tenant_cache_max_entries", V_U32, CFG(routing.tenant_cache_max_entries), 1,
     1000000},
};

struct ctx {
    const char *file;
    const char *section;
    struct nd_config_errors *errs;
};

#define CERR(c, kv, ...)                                                                           \
    nd_config_error_add((c)->errs, (c)->file, (kv)->line, (c)->section, (kv)->key, __VA_ARGS__)

static int parse_listen(const struct ctx *c, const struct nd_config_kv *kv, struct nd_config *cfg)
{
    const char *v = kv->value, *colon;
    char *host;

    if (v[0] == '[') {
        const char *rb = strchr(v, ']');
        if (!rb || rb[1] != ':' || rb == v + 1)
            goto bad;
        host = nd_xstrndup(v + 1, (size_t)(rb - v - 1));
        colon = rb + 1;
    } else {
        colon = strrchr(v, ':');
        if (!colon || memchr(v, ':', (size_t)(colon - v)))
            goto bad; /* an IPv6 address needs brackets */
        host = nd_xstrndup(v, (size_t)(colon - v));
    }
    for (const char *p = host; *p; p++) {
        if (nd__config_is_blank(*p) || *p == '\n' || *p == '/' || *p == '[' || *p == ']') {
            free(host);
            goto bad;
        }
    }
    uint64_t port;
    if (nd_parse_uint(colon + 1, 65535, &port) != ND_OK) {
        free(host);
        goto bad;
    }
    free(cfg->listen_host);
    cfg->listen_host = host;
    cfg->listen_port = (int)port;
    return ND_OK;
bad:
    CERR(c, kv, "invalid address \"%s\": want HOST:PORT, :PORT or [IPV6]:PORT, port 0-65535", v);
    return ND_EINVAL;
}

static bool valid_label(const char *s, size_t n)
{
    if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_'))
            return false;
    }
    return true;
}

static void free_labels(struct nd_config *cfg)
{
    for (size_t i = 0; i < cfg->ngroup_labels; i++)
        free(cfg->group_labels[i]);
    free(cfg->group_labels);
    cfg->group_labels = NULL;
    cfg->ngroup_labels = 0;
}

/* "a, b" or one per line; an empty list is allowed (one group per receiver). */
static int parse_labels(const struct ctx *c, const struct nd_config_kv *kv, struct nd_config *cfg)
{
    int rc = ND_OK;
    free_labels(cfg);
    for (const char *p = kv->value; *p;) {
        size_t n = strcspn(p, ",\n");
        const char *s = p, *e = p + n;
        p = *e ? e + 1 : e;
        while (s < e && (nd__config_is_blank(*s)))
            s++;
        while (e > s && nd__config_is_blank(e[-1]))
            e--;
        if (s == e)
            continue;
        if (!valid_label(s, (size_t)(e - s))) {
            CERR(c, kv, "invalid label name \"%.*s\": want [a-zA-Z_][a-zA-Z0-9_]*", (int)(e - s),
                 s);
            rc = ND_EINVAL;
            continue;
        }
        bool dup = false;
        for (size_t i = 0; i < cfg->ngroup_labels; i++)
            if (strlen(cfg->group_labels[i]) == (size_t)(e - s) &&
                memcmp(cfg->group_labels[i], s, (size_t)(e - s)) == 0)
                dup = true;
        if (dup) {
            CERR(c, kv, "label \"%.*s\" listed twice", (int)(e - s), s);
            rc = ND_EINVAL;
            continue;
        }
        cfg->group_labels =
            nd_xrealloc(cfg->group_labels, (cfg->ngroup_labels + 1) * sizeof *cfg->group_labels);
        cfg->group_labels[cfg->ngroup_labels++] = nd_xstrndup(s, (size_t)(e - s));
    }
    return rc;
}

static int parse_duration_kv(const struct ctx *c, const struct nd_config_kv *kv, double min,
                             double max, int64_t *out)
{
    int64_t ns;
    if (nd_parse_duration(kv->value, &ns) != ND_OK) {
        CERR(c, kv, "invalid duration \"%s\": want e.g. 500ms, 5s, 1m30s, 2h", kv->value);
        return ND_EINVAL;
    }
    if ((double)ns < min || (double)ns > max) {
        if (min <= 1 && max >= 9e18 && (double)ns < min) {
            CERR(c, kv, "must be greater than 0");
        } else {
            char lo[32], hi[32];
            nd_format_duration((int64_t)min, lo);
            nd_format_duration((int64_t)max, hi);
            CERR(c, kv, "%s is out of range: want %s to %s", kv->value, lo, hi);
        }
        return ND_EINVAL;
    }
    *out = ns;
    return ND_OK;
}

static int parse_uint_kv(const struct ctx *c, const struct nd_config_kv *kv, uint64_t min,
                         uint64_t max, uint64_t *out)
{
    uint64_t v;
    if (nd_parse_uint(kv->value, max, &v) != ND_OK || v < min) {
        CERR(c, kv, "invalid number \"%s\": want an integer from %llu to %llu", kv->value,
             (unsigned long long)min, (unsigned long long)max);
        return ND_EINVAL;
    }
    *out = v;
    return ND_OK;
}

static int parse_double_kv(const struct ctx *c, const struct nd_config_kv *kv, double min,
                           double max, double *out)
{
    double v;
    if (nd_parse_double(kv->value, &v) != ND_OK || v < min || v > max) {
        CERR(c, kv, "invalid number \"%s\": want a decimal number from %g to %g", kv->value, min,
             max);
        return ND_EINVAL;
    }
    *out = v;
    return ND_OK;
}

/* Applies one key; `base` is the nd_config, or its nd_delivery_config for
 * [delivery] keys. */
static int apply_key(const struct ctx *c, const struct keyspec *ks, const struct nd_config_kv *kv,
                     void *base, struct nd_config *cfg)
{
    char *field = (char *)base + ks->off;
    uint64_t u;
    int v;

    switch (ks->type) {
    case V_LISTEN:
        return parse_listen(c, kv, cfg);
    case V_LABELS:
        return parse_labels(c, kv, cfg);
    case V_PATHS:
        if (strcmp(kv->key, "files") == 0) {
            cfg->tmpl.files_line = kv->line;
            return nd__config_parse_paths(c->file, c->section, kv, &cfg->tmpl.files,
                                          &cfg->tmpl.nfiles, c->errs);
        }
        cfg->tmpl.language_files_line = kv->line;
        return nd__config_parse_paths(c->file, c->section, kv, &cfg->tmpl.language_files,
                                      &cfg->tmpl.nlanguage_files, c->errs);
    case V_STRING: {
        char **sp = (char **)(void *)field;
        if (sp == &cfg->tmpl.language && kv->value[0] == '\0') {
            CERR(c, kv, "empty value: want English, zh-cn or a language of a pack file");
            return ND_EINVAL;
        }
        free(*sp);
        *sp = nd_xstrdup(kv->value);
        if (sp == &cfg->tmpl.language)
            cfg->tmpl.language_line = kv->line;
        if (sp == &cfg->history_receiver)
            cfg->history_receiver_line = kv->line;
        /* Checked later, by the modules that use them (daemon.c). */
        if (sp == &cfg->routing.silence_file)
            cfg->routing.silence_file_line = kv->line;
        if (sp == &cfg->routing.tenant_sidecar_url)
            cfg->routing.tenant_sidecar_url_line = kv->line;
        return ND_OK;
    }
    case V_SIZE:
        if (nd_parse_size(kv->value, &u) != ND_OK) {
            CERR(c, kv, "invalid size \"%s\": want e.g. 512, 64KiB, 8MiB, 1GiB, 10MB (not 0)",
                 kv->value);
            return ND_EINVAL;
        }
        if ((double)u < ks->min || (double)u > ks->max) {
            if (ks->min <= 1)
                CERR(c, kv, "invalid size \"%s\": want e.g. 512, 64KiB, 8MiB, 1GiB, 10MB (not 0)",
                     kv->value);
            else
                CERR(c, kv, "size %s is out of range: want %.0f to %.0f bytes", kv->value, ks->min,
                     ks->max);
            return ND_EINVAL;
        }
        memcpy(field, &u, sizeof u);
        return ND_OK;
    case V_DURATION: {
        int64_t ns;
        if (parse_duration_kv(c, kv, ks->min, ks->max, &ns) != ND_OK)
            return ND_EINVAL;
        memcpy(field, &ns, sizeof ns);
        return ND_OK;
    }
    case V_U32:
    case V_U64:
        if (parse_uint_kv(c, kv, (uint64_t)ks->min, (uint64_t)ks->max, &u) != ND_OK)
            return ND_EINVAL;
        if (ks->type == V_U32) {
            uint32_t u32 = (uint32_t)u;
            memcpy(field, &u32, sizeof u32);
        } else {
            memcpy(field, &u, sizeof u);
        }
        return ND_OK;
    case V_DOUBLE: {
        double d;
        if (parse_double_kv(c, kv, ks->min, ks->max, &d) != ND_OK)
            return ND_EINVAL;
        memcpy(field, &d, sizeof d);
        return ND_OK;
    }
    case V_LOGLEVEL:
        v = nd_log_level_parse(kv->value);
        if (v < 0) {
            CERR(c, kv, "invalid level \"%s\": want debug, info, warn or error", kv->value);
            return ND_EINVAL;
        }
        memcpy(field, &v, sizeof v);
        return ND_OK;
    case V_OVERFLOW: {
        enum nd_overflow o;
        char err[ND_ERRLEN];
        if (nd_overflow_parse(kv->value, &o, err) != ND_OK) {
            CERR(c, kv, "%s", err);
            return ND_EINVAL;
        }
        memcpy(field, &o, sizeof o);
        return ND_OK;
    }
    case V_BOOL: {
        bool b;
        if (nd_parse_bool(kv->value, &b) != ND_OK) {
            CERR(c, kv, "invalid boolean \"%s\": want true or false", kv->value);
            return ND_EINVAL;
        }
        memcpy(field, &b, sizeof b);
        return ND_OK;
    }
    case V_POLICY:
        if (strcmp(kv->value, "All") == 0) {
            v = ND_ROUTE_POLICY_ALL;
        } else if (strcmp(kv->value, "RouterFirst") == 0) {
            v = ND_ROUTE_POLICY_ROUTER_FIRST;
        } else if (strcmp(kv->value, "RouterOnly") == 0) {
            v = ND_ROUTE_POLICY_ROUTER_ONLY;
        } else {
            CERR(c, kv, "invalid policy \"%s\": want All, RouterFirst or RouterOnly", kv->value);
            return ND_EINVAL;
        }
        memcpy(field, &v, sizeof v);
        return ND_OK;
    case V_LOGFMT:
        v = nd_log_format_parse(kv->value);
        if (v < 0) {
            CERR(c, kv, "invalid format \"%s\": want logfmt or json", kv->value);
            return ND_EINVAL;
        }
        memcpy(field, &v, sizeof v);
        return ND_OK;
    case V_FSYNC:
        if (!strcmp(kv->value, "always"))
            v = ND_FSYNC_ALWAYS;
        else if (!strcmp(kv->value, "batch"))
            v = ND_FSYNC_BATCH;
        else if (!strcmp(kv->value, "none"))
            v = ND_FSYNC_NONE;
        else {
            CERR(c, kv, "invalid fsync policy \"%s\": want always, batch or none", kv->value);
            return ND_EINVAL;
        }
        memcpy(field, &v, sizeof v);
        return ND_OK;
    }
    return ND_EINVAL;
}

static const struct keyspec *find_spec(enum sec_kind sec, const char *key)
{
    for (size_t i = 0; i < ND_ARRAY_LEN(keyspecs); i++)
        if (keyspecs[i].sec == sec && strcmp(keyspecs[i].key, key) == 0)
            return &keyspecs[i];
    return NULL;
}

static void check_retry_range(const struct ctx *c, const struct nd_delivery_config *d, int line)
{
    if (d->retry_max_ns < d->retry_initial_ns) {
        char a[32], b[32];
        nd_format_duration(d->retry_max_ns, a);
        nd_format_duration(d->retry_initial_ns, b);
        nd_config_error_add(c->errs, c->file, line, c->section, "retry_max",
                            "%s is less than retry_initial %s", a, b);
    }
}

static void set_defaults(struct nd_config *c)
{
    c->listen_host = nd_xstrdup("127.0.0.1");
    c->listen_port = 19093;
    c->max_body_size = UINT64_C(8) << 20;
    c->cluster = nd_xstrdup("default");
    c->wal_dir = nd_xstrdup("");
    c->wal_fsync = ND_FSYNC_BATCH;
    c->wal_fsync_interval_ns = 10 * ND_NS_PER_MS;
    c->wal_segment_size = UINT64_C(64) << 20;
    c->shutdown_timeout_ns = 30 * ND_NS_PER_S;
    c->max_headers_size = 16 * 1024;
    c->read_timeout_ns = 30 * ND_NS_PER_S;
    c->listen_backlog = 1024;
    c->max_connections = 1024;
    c->retry_after_ns = ND_NS_PER_S;
    c->api_timeout_ns = 30 * ND_NS_PER_S;
    c->api_max_requests = 64;
    c->history_max_pending = 10000;
    c->history_max_wait_ns = ND_NS_PER_S;
    c->log_level = ND_LOG_INFO;
    c->log_format = ND_LOG_LOGFMT;
    c->max_alerts = 1000000;
    c->max_bytes = UINT64_C(1) << 30;
    c->max_depth = 64;
    c->max_inhibit_sources = 100000;
    c->batch_max_size = 100;
    c->batch_max_wait_ns = ND_NS_PER_S;
    c->ngroup_labels = 2;
    c->group_labels = nd_xcalloc(2, sizeof *c->group_labels);
    c->group_labels[0] = nd_xstrdup("alertname");
    c->group_labels[1] = nd_xstrdup("namespace");
    c->delivery = (struct nd_delivery_config){
        .timeout_ns = 5 * ND_NS_PER_S,
        .max_in_flight = 8,
        .retry_max_attempts = 10,
        .retry_max_age_ns = 600 * ND_NS_PER_S,
        .retry_initial_ns = 500 * ND_NS_PER_MS,
        .retry_factor = 2,
        .retry_max_ns = 60 * ND_NS_PER_S,
        .retry_jitter = 0.2,
        .spill_max_alerts = 1000000,
    };
    c->tmpl.language = nd_xstrdup("English");
    c->routing.silence_retention_ns = 120 * 3600 * ND_NS_PER_S;
    c->routing.max_silences = 1000;
    c->routing.max_silence_matchers = 32;
    c->routing.max_silence_size = 16384;
    c->routing.tenant_cache_ttl_ns = 30 * ND_NS_PER_S;
    c->routing.tenant_sidecar_timeout_ns = 5 * ND_NS_PER_S;
    c->routing.tenant_sidecar_retry_ns = 5 * ND_NS_PER_S;
    c->routing.tenant_cache_max_entries = 4096;
}

static void free_named(struct nd_receiver_config *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].section);
        kvs_free(v[i].kvs, v[i].nkvs);
    }
    free(v);
}

void nd_config_free(struct nd_config *c)
{
    if (!c)
        return;
    free(c->path);
    free(c->listen_host);
    free(c->cluster);
    free(c->history_receiver);
    free(c->wal_dir);
    free_labels(c);
    nd__config_free_paths(c->tmpl.files, c->tmpl.nfiles);
    nd__config_free_paths(c->tmpl.language_files, c->tmpl.nlanguage_files);
    free(c->tmpl.language);
    free(c->routing.silence_file);
    free(c->routing.tenant_sidecar_url);
    for (size_t i = 0; i < c->nreceivers; i++) {
        struct nd_receiver_config *rc = &c->receivers[i];
        free(rc->name);
        free(rc->type);
        free(rc->section);
        kvs_free(rc->kvs, rc->nkvs);
    }
    free(c->receivers);
    for (size_t i = 0; i < c->nsilences; i++) {
        struct nd_receiver_config *rc = &c->silences[i];
        free(rc->name);
        free(rc->section);
        kvs_free(rc->kvs, rc->nkvs);
    }
    free(c->silences);
    for (size_t i = 0; i < c->ninhibits; i++) {
        struct nd_receiver_config *rc = &c->inhibits[i];
        free(rc->name);
        free(rc->section);
        kvs_free(rc->kvs, rc->nkvs);
    }
    free(c->inhibits);
    free_named(c->tenants, c->ntenants);
    free_named(c->routers, c->nrouters);
    free(c);
}

/* Moves a raw named section into the config's array `arr` as a section
 * object whose name is what follows the prefix (plen bytes). */
static struct nd_receiver_config *take_named(struct raw_section *sec,
                                             struct nd_receiver_config **arr, size_t *n,
                                             size_t plen, struct nd_config *cfg)
{
    *arr = nd_xrealloc(*arr, (*n + 1) * sizeof **arr);
    struct nd_receiver_config *rc = &(*arr)[(*n)++];
    *rc = (struct nd_receiver_config){
        .name = nd_xstrdup(sec->name + plen),
        .section = nd_xstrdup(sec->name),
        .line = sec->line,
        .file = cfg->path,
        .kvs = sec->kvs ? sec->kvs : nd_xcalloc(1, sizeof *rc->kvs),
        .nkvs = sec->nkvs,
    };
    sec->kvs = NULL;
    sec->nkvs = 0;
    return rc;
}

/* Turns the raw sections into the config; receiver kvs move into it. */
/* [delivery] overflow = drop_oldest or spill needs a backlog limit, and one
 * below [queue] max_alerts: otherwise the global queue fills before the
 * receiver drops or spills anything, and ingest refuses every request
 * because of it. spill also needs the write-ahead log. A receiver section
 * that sets either key is checked the same way by notify/receiver.c. */
static void check_backlog(struct loader *ld, struct nd_config *cfg, const char *section,
                          int sec_line, int overflow_line, int backlog_line)
{
    const struct nd_delivery_config *d = &cfg->delivery;
    const char *name = nd_overflow_name(d->overflow);

    if (d->overflow == ND_OVERFLOW_BACKPRESSURE)
        return;
    if (d->overflow == ND_OVERFLOW_SPILL && !d->wal)
        nd_config_error_add(ld->errs, ld->file, overflow_line ? overflow_line : sec_line, section,
                            "overflow", "spill needs [queue] wal_dir (a write-ahead log)");
    if (d->max_backlog == 0)
        nd_config_error_add(ld->errs, ld->file, overflow_line ? overflow_line : sec_line, section,
                            "overflow", "%s needs max_backlog > 0", name);
    else if (d->max_backlog >= cfg->max_alerts)
        nd_config_error_add(
            ld->errs, ld->file, backlog_line ? backlog_line : sec_line, section, "max_backlog",
            "%llu is not below [queue] max_alerts %llu: with overflow = "
            "%s the global queue would fill before the receiver does",
            (unsigned long long)d->max_backlog, (unsigned long long)cfg->max_alerts, name);
}

static void build(struct loader *ld, struct nd_config *cfg)
{
    size_t nreceiver_secs = 0;
    int dlv_line = 0, overflow_line = 0, backlog_line = 0;
    for (size_t i = 0; i < ld->nsecs; i++) {
        struct raw_section *sec = &ld->secs[i];
        struct ctx c = {ld->file, sec->name, ld->errs};
        if (sec->kind == SEC_TEMPLATE)
            cfg->tmpl.line = sec->line;
        if (sec->kind == SEC_SILENCE) {
            if (!sec->lost_line)
                take_named(sec, &cfg->silences, &cfg->nsilences, 8, cfg);
            continue;
        }
        if (sec->kind == SEC_INHIBIT) {
            if (!sec->lost_line)
                take_named(sec, &cfg->inhibits, &cfg->ninhibits, 8, cfg);
            continue;
        }
        if (sec->kind == SEC_TENANT || sec->kind == SEC_ROUTER) {
            if (!sec->lost_line) {
                if (sec->kind == SEC_TENANT)
                    take_named(sec, &cfg->tenants, &cfg->ntenants, 7, cfg);
                else
                    take_named(sec, &cfg->routers, &cfg->nrouters, 7, cfg);
            }
            continue;
        }
        if (sec->kind != SEC_RECEIVER) {
            void *base = sec->kind == SEC_DELIVERY ? (void *)&cfg->delivery : (void *)cfg;
            for (size_t k = 0; k < sec->nkvs; k++) {
                const struct keyspec *ks = find_spec(sec->kind, sec->kvs[k].key);
                if (!ks)
                    CERR(&c, &sec->kvs[k], "unknown key");
                else
                    apply_key(&c, ks, &sec->kvs[k], base, cfg);
            }
            if (sec->kind == SEC_DELIVERY) {
                int line = sec->line;
                for (size_t k = 0; k < sec->nkvs; k++)
                    if (strcmp(sec->kvs[k].key, "retry_max") == 0)
                        line = sec->kvs[k].line;
                check_retry_range(&c, &cfg->delivery, line);
                dlv_line = sec->line;
                for (size_t k = 0; k < sec->nkvs; k++) {
                    if (strcmp(sec->kvs[k].key, "overflow") == 0)
                        overflow_line = sec->kvs[k].line;
                    if (strcmp(sec->kvs[k].key, "max_backlog") == 0)
                        backlog_line = sec->kvs[k].line;
                }
            }
            continue;
        }

        nreceiver_secs++;
        /* The receiver's type would judge what is left of the section and
         * report e.g. its url as missing: leave it out of a partial config.
         * A load with a lost line fails anyway (the line is reported). */
        if (sec->lost_line)
            continue;
        cfg->receivers =
            nd_xrealloc(cfg->receivers, (cfg->nreceivers + 1) * sizeof *cfg->receivers);
        struct nd_receiver_config *rc = &cfg->receivers[cfg->nreceivers++];
        *rc = (struct nd_receiver_config){
            .name = nd_xstrdup(sec->name + 9),
            .section = nd_xstrdup(sec->name),
            .line = sec->line,
            .file = cfg->path,
            .kvs = nd_xcalloc(sec->nkvs ? sec->nkvs : 1, sizeof *rc->kvs),
        };
        for (size_t k = 0; k < sec->nkvs; k++) {
            struct nd_config_kv *kv = &sec->kvs[k];
            if (strcmp(kv->key, "type") == 0) {
                if (kv->value[0] == '\0')
                    CERR(&c, kv, "empty value: want e.g. webhook or console");
                rc->type = kv->value;
                rc->type_line = kv->line;
                free(kv->key);
            } else {
                rc->kvs[rc->nkvs++] = *kv;
            }
        }
        free(sec->kvs);
        sec->kvs = NULL;
        sec->nkvs = 0;
        if (!rc->type)
            nd_config_error_add(ld->errs, ld->file, sec->line, sec->name, "type",
                                "missing required key (e.g. type = webhook)");
    }
    if (nreceiver_secs == 0)
        nd_config_error_add(ld->errs, ld->file, 0, NULL, NULL,
                            "no receiver: at least one [receiver.NAME] section is required");
    cfg->delivery.queue_max_alerts = cfg->max_alerts;
    cfg->delivery.wal = cfg->wal_dir && cfg->wal_dir[0];
    check_backlog(ld, cfg, "delivery", dlv_line, overflow_line, backlog_line);
}

int nd_overflow_parse(const char *s, enum nd_overflow *out, char *err)
{
    if (strcmp(s, "backpressure") == 0) {
        *out = ND_OVERFLOW_BACKPRESSURE;
        return ND_OK;
    }
    if (strcmp(s, "drop_oldest") == 0) {
        *out = ND_OVERFLOW_DROP_OLDEST;
        return ND_OK;
    }
    if (strcmp(s, "spill") == 0) {
        *out = ND_OVERFLOW_SPILL;
        return ND_OK;
    }
    return nd_seterr(err, ND_EINVAL,
                     "invalid value \"%s\": want backpressure, drop_oldest or spill", s);
}

const char *nd_overflow_name(enum nd_overflow o)
{
    return o == ND_OVERFLOW_DROP_OLDEST ? "drop_oldest"
           : o == ND_OVERFLOW_SPILL     ? "spill"
                                        : "backpressure";
}

static int load_string(const char *text, const char *name, bool keep_on_error,
                       struct nd_config **out, struct nd_config_errors *errs)
{
    size_t nerr0 = errs->total;
    struct loader ld = {.file = name,
                        .errs = errs,
                        .text = text,
                        .len = strlen(text),
                        .cls = LINE_BLANK,
                        .last_kv = -1};
    struct nd_config *cfg = nd_xcalloc(1, sizeof *cfg);

    *out = NULL;
    cfg->path = nd_xstrdup(name ? name : "<string>");
    ld.file = cfg->path;
    set_defaults(cfg);

#ifdef ND_INIH_RUNTIME_MAX_LINE
    /* This inih sizes its line buffer from a global at run time (Debian's
     * libinih: INI_MAX_LINE is only its default). "\r\n\0" need 3 more
     * bytes. The buffer is a stack array of that size, for this call. */
    int saved_max_line = ini_max_line;
    ini_max_line = ND_CONFIG_LINE_MAX + 3;
#endif
    int rc = ini_parse_stream(reader, &ld, handler, &ld);
#ifdef ND_INIH_RUNTIME_MAX_LINE
    ini_max_line = saved_max_line;
#endif
    if (rc > 0 && errs->total == nerr0)
        nd_config_error_add(errs, ld.file, rc, NULL, NULL, "syntax error");
    else if (rc < 0 && errs->total == nerr0)
        nd_config_error_add(errs, ld.file, 0, NULL, NULL, "cannot parse (inih error %d)", rc);
    build(&ld, cfg);

    for (size_t i = 0; i < ld.nsecs; i++) {
        free(ld.secs[i].name);
        kvs_free(ld.secs[i].kvs, ld.secs[i].nkvs);
    }
    free(ld.secs);
    if (errs->total != nerr0) {
        if (keep_on_error)
            *out = cfg;
        else
            nd_config_free(cfg);
        return ND_ERR;
    }
    *out = cfg;
    return ND_OK;
}

int nd_config_load_string(const char *text, const char *name, struct nd_config **out,
                          struct nd_config_errors *errs)
{
    return load_string(text, name, false, out, errs);
}

static int load_file(const char *path, bool keep_on_error, struct nd_config **out,
                     struct nd_config_errors *errs)
{
    char *text = NULL;
    size_t len = 0;

    *out = NULL;
    int rc = nd__config_read_file(path, MAX_FILE_SIZE, &text, &len);
    if (rc == ND_ETOOBIG) {
        nd_config_error_add(errs, path, 0, NULL, NULL, "file too large (more than %d bytes)",
                            MAX_FILE_SIZE);
        return ND_ERR;
    }
    if (rc != ND_OK) {
        nd_config_error_add(errs, path, 0, NULL, NULL, "cannot read: %s", strerror(errno));
        return ND_ERR;
    }
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        int line = 1;
        for (const char *p = text; p < nul; p++)
            line += *p == '\n';
        nd_config_error_add(errs, path, line, NULL, NULL,
                            "line contains a control character (0x00)");
        free(text);
        return ND_ERR;
    }
    rc = load_string(text, path, keep_on_error, out, errs);
    free(text);
    return rc;
}

int nd_config_load_file(const char *path, struct nd_config **out, struct nd_config_errors *errs)
{
    return load_file(path, false, out, errs);
}

int nd_config_load_file_partial(const char *path, struct nd_config **out,
                                struct nd_config_errors *errs)
{
    return load_file(path, true, out, errs);
}

/* ---- receiver-section helpers ------------------------------------------ */

struct nd_config_kv *nd_receiver_config_get(struct nd_receiver_config *rc, const char *key)
{
    for (size_t i = 0; i < rc->nkvs; i++) {
        if (strcmp(rc->kvs[i].key, key) == 0) {
            rc->kvs[i].used = true;
            return &rc->kvs[i];
        }
    }
    return NULL;
}

int nd_receiver_config_duration(struct nd_receiver_config *rc, const char *key, int64_t *out,
                                struct nd_config_errors *errs)
{
    struct nd_config_kv *kv = nd_receiver_config_get(rc, key);
    struct ctx c = {rc->file, rc->section, errs};
    return kv ? parse_duration_kv(&c, kv, 0, 9.3e18, out) : ND_OK;
}

int nd_receiver_config_uint(struct nd_receiver_config *rc, const char *key, uint64_t max,
                            uint64_t *out, struct nd_config_errors *errs)
{
    struct nd_config_kv *kv = nd_receiver_config_get(rc, key);
    struct ctx c = {rc->file, rc->section, errs};
    return kv ? parse_uint_kv(&c, kv, 0, max, out) : ND_OK;
}

int nd_receiver_config_bool(struct nd_receiver_config *rc, const char *key, bool *out,
                            struct nd_config_errors *errs)
{
    struct nd_config_kv *kv = nd_receiver_config_get(rc, key);
    if (!kv)
        return ND_OK;
    if (nd_parse_bool(kv->value, out) != ND_OK) {
        nd_config_error_add(errs, rc->file, kv->line, rc->section, kv->key,
                            "invalid boolean \"%s\": want true or false", kv->value);
        return ND_EINVAL;
    }
    return ND_OK;
}

int nd_receiver_config_double(struct nd_receiver_config *rc, const char *key, double *out,
                              struct nd_config_errors *errs)
{
    struct nd_config_kv *kv = nd_receiver_config_get(rc, key);
    if (!kv)
        return ND_OK;
    if (nd_parse_double(kv->value, out) != ND_OK) {
        nd_config_error_add(errs, rc->file, kv->line, rc->section, kv->key,
                            "invalid number \"%s\": want a decimal number", kv->value);
        return ND_EINVAL;
    }
    return ND_OK;
}

int nd_receiver_config_string(struct nd_receiver_config *rc, const char *key, const char **out)
{
    struct nd_config_kv *kv = nd_receiver_config_get(rc, key);
    if (kv)
        *out = kv->value;
    return ND_OK;
}

int nd_receiver_config_line(struct nd_receiver_config *rc, const char *key)
{
    struct nd_config_kv *kv = nd_receiver_config_get(rc, key);
    return kv ? kv->line : rc->line;
}

char *nd_receiver_config_strdup(struct nd_receiver_config *rc, const char *key)
{
    const char *s = NULL;

    nd_receiver_config_string(rc, key, &s);
    return s && s[0] ? nd_xstrdup(s) : NULL;
}

void nd_receiver_config_list(struct nd_receiver_config *rc, const char *key, struct nd_strlist *out)
{
    const char *s = NULL;

    nd_receiver_config_string(rc, key, &s);
    nd_strlist_split(out, s);
}

char *nd_receiver_config_secret(struct nd_receiver_config *rc, const char *key, bool allow_empty,
                                struct nd_config_errors *errs)
{
    const char *s = NULL;
    char *out = NULL;
    char err[ND_ERRLEN];
    struct nd_config_kv *kv = nd_receiver_config_get(rc, key);

    if (kv)
        kv->secret = true;
    nd_receiver_config_string(rc, key, &s);
    if (!s || !s[0])
        return NULL;
    if (rc->literal_secrets)
        out = nd_xstrdup(s);
    else if (nd_config_secret(s, &out, err) != ND_OK) {
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, key), rc->section, key,
                            "%s", err);
        return NULL;
    }
    if (!allow_empty && !out[0]) {
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, key), rc->section, key,
                            "empty value");
        free(out);
        return NULL;
    }
    return out;
}

void nd_receiver_config_check_unused(struct nd_receiver_config *rc, struct nd_config_errors *errs)
{
    for (size_t i = 0; i < rc->nkvs; i++)
        if (!rc->kvs[i].used)
            nd_config_error_add(errs, rc->file, rc->kvs[i].line, rc->section, rc->kvs[i].key,
                                rc->type ? "unknown key for type %s" : "unknown key%s",
                                rc->type ? rc->type : "");
}
