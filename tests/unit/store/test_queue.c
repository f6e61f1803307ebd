/* test_queue.c - admission and accounting of held alerts. */
#include <string.h>

#include "notifyd/alert.h"
#include "notifyd/queue.h"
#include "notifyd/util.h"
#include "tap.h"

static struct nd_alert *make(struct nd_alert_builder *b, const char *v)
{
    char err[ND_ERRLEN];
    nd_alert_builder_add_label(b, "alertname", 9, v, strlen(v));
    return nd_alert_builder_finish(b, NULL, 0, err);
}

int main(void)
{
    struct nd_alert_builder b;
    nd_alert_builder_init(&b, 1024);

    struct nd_queue *q = nd_queue_new(3, 100000);
    is_uint(nd_queue_max_alerts(q), 3, "max_alerts");
    is_uint(nd_queue_max_bytes(q), 100000, "max_bytes");
    is_int(nd_queue_admit(q, 3, 1000), ND_OK, "3 alerts fit in an empty queue");
    is_int(nd_queue_admit(q, 4, 1000), ND_EFULL, "4 alerts do not");
    is_int(nd_queue_admit(q, 1, 100001), ND_EFULL, "too many bytes do not");
    is_int(nd_queue_admit(q, 0, 0), ND_OK, "nothing always fits");

    struct nd_alert *a1 = make(&b, "one"), *a2 = make(&b, "two");
    nd_queue_hold(q, a1);
    nd_queue_hold(q, a2);
    is_uint(nd_queue_count(q), 2, "two held");
    is_uint(nd_queue_bytes(q), (uint64_t)a1->size + a2->size, "bytes of both");
    is_int(nd_queue_admit(q, 1, 10), ND_OK, "one more fits");
    is_int(nd_queue_admit(q, 2, 10), ND_EFULL, "two more do not");
    is_int(nd_queue_admit(q, 1, 100000 - a1->size - a2->size), ND_OK, "exactly the bytes left");
    is_int(nd_queue_admit(q, 1, 100000 - a1->size - a2->size + 1), ND_EFULL, "one byte more");
    is_uint(nd_queue_count(q), 2, "admit changes nothing");

    nd_alert_unref(a1);
    is_uint(nd_queue_count(q), 1, "release on free");
    is_uint(nd_queue_bytes(q), a2->size, "bytes released on free");
    is_int(nd_queue_admit(q, 2, 10), ND_OK, "room again after a release");
    nd_alert_unref(a2);
    is_uint(nd_queue_count(q), 0, "empty again");
    is_uint(nd_queue_bytes(q), 0, "no bytes held");

    /* An alert never held does not touch any queue. */
    struct nd_alert *loose = make(&b, "loose");
    ok(loose->queue == NULL, "not held: no queue");
    nd_alert_unref(loose);
    is_uint(nd_queue_count(q), 0, "unheld alert freed without accounting");

    /* A big backlog that drains gives memory back once, at a quarter of
     * its peak. Sizes are set by hand: only the accounting matters here. */
    struct nd_alert *big[4];
    for (int i = 0; i < 4; i++) {
        big[i] = make(&b, "big");
        big[i]->size = 20u << 20;
        nd_queue_hold(q, big[i]);
    }
    is_uint(nd_queue_trims(q), 0, "no trim while filling");
    nd_alert_unref(big[0]);
    nd_alert_unref(big[1]);
    is_uint(nd_queue_trims(q), 0, "no trim at half the peak");
    nd_alert_unref(big[2]);
    is_uint(nd_queue_trims(q), 1, "trim at a quarter of an 80 MiB peak");
    nd_alert_unref(big[3]);
    is_uint(nd_queue_trims(q), 1, "not again for the small rest");
    is_uint(nd_queue_bytes(q), 0, "all released");

    nd_queue_free(q);
    nd_alert_builder_deinit(&b);
    return done_testing();
}
