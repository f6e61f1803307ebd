/* log.c - logfmt / JSON lines on stderr.
 *
 * One line per call, written with a single fwrite so that lines from
 * notifyd never interleave mid-line with other writers of the stream.
 */
#include "notifyd/log.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "notifyd/buf.h"

static enum nd_log_level log_level = ND_LOG_INFO;
static enum nd_log_format log_format = ND_LOG_LOGFMT;
static FILE *log_stream = NULL;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

int nd_log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

int nd_log_format_parse(const char *s)
{
    if (strcmp(s, "logfmt") == 0)
        return ND_LOG_LOGFMT;
    if (strcmp(s, "json") == 0)
        return ND_LOG_JSON;
    return -1;
}

void nd_log_set_level(enum nd_log_level lvl)
{
    log_level = lvl;
}

void nd_log_set_format(enum nd_log_format fmt)
{
    log_format = fmt;
}

void nd_log_set_stream(FILE *f)
{
    log_stream = f;
}

int nd_log_enabled(enum nd_log_level lvl)
{
    return lvl >= log_level;
}

/* logfmt values are bare when they are made of safe characters only. */
static int needs_quotes(const char *v)
{
    if (!*v)
        return 1;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p >= 0x7f)
            return 1;
    return 0;
}

static void add_logfmt_value(struct nd_buf *b, const char *v)
{
    if (!needs_quotes(v)) {
        nd_buf_adds(b, v);
        return;
    }
    nd_buf_add_json_string(b, v);
}

static void add_field(struct nd_buf *b, const char *k, const char *v, int first)
{
    if (log_format == ND_LOG_JSON) {
        if (!first)
            nd_buf_addc(b, ',');
        nd_buf_add_json_string(b, k);
        nd_buf_addc(b, ':');
        nd_buf_add_json_string(b, v);
    } else {
        if (!first)
            nd_buf_addc(b, ' ');
        nd_buf_adds(b, k);
        nd_buf_addc(b, '=');
        add_logfmt_value(b, v);
    }
}

void nd_log(enum nd_log_level lvl, const char *msg, ...)
{
    if (lvl < log_level)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char tsbuf[96];
    snprintf(tsbuf, sizeof tsbuf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (int)(ts.tv_nsec / 1000000));

    /* A log line is bounded: a huge value is cut rather than grown forever. */
    struct nd_buf b;
    nd_buf_init(&b, 16 * 1024);
    if (log_format == ND_LOG_JSON)
        nd_buf_addc(&b, '{');
    add_field(&b, "ts", tsbuf, 1);
    add_field(&b, "level", level_names[lvl], 0);
    add_field(&b, "msg", msg, 0);
    va_list ap;
    va_start(ap, msg);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (!k)
            break;
        const char *v = va_arg(ap, const char *);
        add_field(&b, k, v ? v : "", 0);
    }
    va_end(ap);
    if (log_format == ND_LOG_JSON)
        nd_buf_addc(&b, '}');
    if (nd_buf_addc(&b, '\n') != 0) {
        /* Over the ceiling: end the line anyway so the next one is readable. */
        b.data[b.len - 1] = '\n';
    }
    FILE *f = log_stream ? log_stream : stderr;
    fwrite(b.data, 1, b.len, f);
    fflush(f);
    nd_buf_deinit(&b);
}
