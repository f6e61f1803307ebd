/* daemon.h - wires the layers together on one event loop and runs it.
 *
 *   ingest (HTTP) -> queue accounting -> batcher -> pipeline stages
 *     -> delivery engine -> receivers
 *
 * The daemon owns every object it creates; nothing here is shared.
 */
#ifndef NOTIFYD_DAEMON_H
#define NOTIFYD_DAEMON_H

#include <stdio.h>

struct nd_config;

/* Runs until SIGTERM/SIGINT and a graceful drain. Takes the config.
 * Returns the process exit status. */
int nd_daemon_run_take(struct nd_config *cfg);

/* Loads and validates a config file, receivers included, printing every
 * problem to `errout`. Returns 0 when valid, 1 otherwise. */
int nd_daemon_check_config(const char *path, FILE *errout);

/* `notifyd test-receiver`: loads the config at `path` (the built-in one
 * when NULL), builds only the receiver `name` and sends it one notification
 * of Notification Manager's verify alert, with at most 1 + `retries`
 * attempts (the receiver's timeout each), then prints the outcome to `out`:
 * "NAME (TYPE): delivered" or "NAME (TYPE): not delivered: REASON" (the
 * engine's reason, e.g. "status 404: <first bytes of the answer>").
 * Config errors (as --check-config prints them) and an unknown name (with
 * the configured names) go to `errout`. Returns 0 delivered, 1 not
 * delivered, 2 usage or config error. */
int nd_daemon_test_receiver(const char *path, const char *name, unsigned retries, FILE *out,
                            FILE *errout);

#endif
