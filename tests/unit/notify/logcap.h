/* logcap.h - capture what the code under test logs, for tests that check
 * log lines. One capture at a time per test program. */
#ifndef ND_TEST_LOGCAP_H
#define ND_TEST_LOGCAP_H

#include <stdio.h>

#include "notifyd/log.h"

static char *logcap_buf;
static size_t logcap_len;
static FILE *logcap_f;

/* Sends the log to memory until log_take(). */
static inline void log_capture(void)
{
    logcap_f = open_memstream(&logcap_buf, &logcap_len);
    nd_log_set_stream(logcap_f);
}

/* Restores the log stream and returns what was logged (the caller frees it). */
static inline char *log_take(void)
{
    char *s;

    nd_log_set_stream(NULL);
    fclose(logcap_f);
    s = logcap_buf;
    logcap_buf = NULL;
    return s;
}

#endif
