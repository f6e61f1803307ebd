/* notification.c - the notification object (notification.h).
 *
 * Each array of a notification is its own malloc (whoever builds one by hand
 * must do the same); the strings in them are borrowed and never freed here.
 */
#include "notifyd/notification.h"

#include <stdlib.h>
#include <string.h>

void nd_notification_unref(struct nd_notification *n)
{
    if (!n || --n->refs > 0)
        return;
    for (size_t i = 0; i < n->nalerts; i++)
        nd_alert_unref(n->alerts[i]);
    free(n->alerts);
    free(n->group_labels);
    free(n->common_labels);
    free(n->common_annotations);
    free(n);
}

size_t nd_notification_labels(const struct nd_notification *n, const struct nd_alert *a,
                              struct nd_kv *out)
{
    /* NM adds receiver=<name> only for named receivers, and never overrides
     * a receiver label the alert already carries. */
    int add = n->receiver && n->receiver[0] && !nd_alert_label(a, "receiver");
    size_t k = 0;
    for (size_t i = 0; i < a->nlabels; i++) {
        if (add && strcmp(a->labels[i].name, "receiver") > 0) {
            out[k].name = "receiver";
            out[k].value = n->receiver;
            k++;
            add = 0;
        }
        out[k++] = a->labels[i];
    }
    if (add) {
        out[k].name = "receiver";
        out[k].value = n->receiver;
        k++;
    }
    return k;
}
