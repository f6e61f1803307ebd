/* Tests of buf.c and log.c: the ceiling, JSON escaping, log line shapes. */
#include <stdlib.h>
#include <string.h>

#include "notifyd/buf.h"
#include "notifyd/log.h"
#include "notifyd/util.h"
#include "tap.h"

static void test_ceiling(void)
{
    struct nd_buf b;
    nd_buf_init(&b, 8);
    is_int(nd_buf_adds(&b, "12345678"), ND_OK, "append up to the limit");
    is_int(nd_buf_addc(&b, '9'), ND_ETOOBIG, "one byte past the limit is refused");
    is_str(nd_buf_cstr(&b), "12345678", "content unchanged after a refused append");
    is_int(nd_buf_printf(&b, "%d", 1), ND_ETOOBIG, "printf past the limit is refused");
    nd_buf_reset(&b);
    is_int(nd_buf_printf(&b, "%s-%d", "ab", 42), ND_OK, "printf after reset");
    is_str(nd_buf_cstr(&b), "ab-42", "printf content");
    size_t len = 0;
    char *p = nd_buf_take(&b, &len);
    is_str(p, "ab-42", "take gives the data");
    is_int(len, 5, "take gives the length");
    is_int(b.len, 0, "buffer empty after take");
    free(p);
    nd_buf_deinit(&b);
}

static void test_json_escape(void)
{
    struct nd_buf b;
    nd_buf_init(&b, 1024);
    const char in[] = "a\"b\\c\n\t<x>&\x01\xe2\x80\xa8z";
    nd_buf_add_json_escaped(&b, in, sizeof in - 1);
    is_str(nd_buf_cstr(&b), "a\\\"b\\\\c\\n\\t\\u003cx\\u003e\\u0026\\u0001\\u2028z",
           "escapes like Go's encoding/json");
    nd_buf_reset(&b);
    nd_buf_add_json_string(&b, "plain ü");
    is_str(nd_buf_cstr(&b), "\"plain ü\"", "UTF-8 passes through, quoted");
    nd_buf_deinit(&b);
}

static char *capture_log(enum nd_log_format fmt, enum nd_log_level lvl)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    nd_log_set_stream(f);
    nd_log_set_format(fmt);
    nd_log(lvl, "delivery failed", "receiver", "ops hook", "status", "404", NULL);
    fclose(f);
    nd_log_set_stream(NULL);
    return text;
}

static void test_log(void)
{
    nd_log_set_level(ND_LOG_INFO);
    char *t = capture_log(ND_LOG_LOGFMT, ND_LOG_WARN);
    has_str(t, " level=warn msg=\"delivery failed\" receiver=\"ops hook\" status=404\n",
            "logfmt line quotes values with spaces only");
    ok(strncmp(t, "ts=", 3) == 0, "logfmt line starts with ts=");
    free(t);
    t = capture_log(ND_LOG_JSON, ND_LOG_ERROR);
    has_str(t, "\"level\":\"error\",\"msg\":\"delivery failed\",\"receiver\":\"ops hook\"",
            "json line");
    ok(t[0] == '{' && strstr(t, "}\n") != NULL, "json line is one object per line");
    free(t);
    t = capture_log(ND_LOG_LOGFMT, ND_LOG_DEBUG);
    is_str(t, "", "debug is filtered at level info");
    free(t);
    is_int(nd_log_level_parse("warn"), ND_LOG_WARN, "level parse");
    is_int(nd_log_level_parse("loud"), -1, "unknown level");
    is_int(nd_log_format_parse("json"), ND_LOG_JSON, "format parse");
    nd_log_set_format(ND_LOG_LOGFMT);
}

int main(void)
{
    test_ceiling();
    test_json_escape();
    test_log();
    return done_testing();
}
