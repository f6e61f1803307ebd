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

#endif
