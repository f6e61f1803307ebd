/* reload.h - what a configuration reload compares between the running
 * config and the new one (docs/reload.md).
 *
 * A receiver whose fingerprint is unchanged keeps its object (queue,
 * tokens, retries, transfers in flight); any other is rebuilt. The
 * fingerprints are text, compared with strcmp.
 */
#ifndef NOTIFYD_RELOAD_H
#define NOTIFYD_RELOAD_H

#include <stddef.h>

struct nd_config;
struct nd_delivery_config;
struct nd_receiver_config;
struct nd_template_config;

/* The receiver's settings as one heap string: its type, every key = value
 * of its section in file order, and the [delivery] defaults it inherits.
 * Line numbers do not count: moving a section in the file keeps it. */
char *nd_reload_receiver_fp(const struct nd_receiver_config *rc,
                            const struct nd_delivery_config *defaults);

/* The template inputs as one heap string: the [template] keys and, for
 * every file they name, its path and a hash of its contents (read now; an
 * unreadable file hashes as "unreadable"). Equal strings: the compiled set
 * can be kept. */
char *nd_reload_template_fp(const struct nd_template_config *t);

/* The keys that only take effect at start ("[server] listen"...) whose
 * value differs between `running` and `next`: up to `max` names, static
 * strings, into keys[]. Returns how many differ. */
size_t nd_reload_restart_keys(const struct nd_config *running, const struct nd_config *next,
                              const char **keys, size_t max);

#endif
