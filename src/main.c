/* main.c - command line of notifyd. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notifyd/config.h"
#include "notifyd/daemon.h"
#include "notifyd/template.h"

static void usage(FILE *f)
{
    fputs("usage: notifyd [-c FILE]          run (built-in default config without -c)\n"
          "       notifyd --check-config FILE validate FILE, print every error, exit 0 or 1\n"
          "       notifyd template render [--file F]... (--name NAME | --text TEXT) --data FILE\n"
          "                              [--type text|html] [--language L]\n"
          "       notifyd test-receiver [-c FILE] [--retries N] NAME\n"
          "                              send one verify notification through receiver\n"
          "                              NAME, print the outcome; exit 0 delivered,\n"
          "                              1 not delivered, 2 usage or config error\n"
          "       notifyd --print-default-config\n"
          "       notifyd --version | --help\n"
          "\n"
          "notifyd receives alerts on POST /api/v2/alerts (Alertmanager webhook payloads\n"
          "or Prometheus-style alert arrays), batches and groups them, and delivers\n"
          "notifications to its receivers. See README.md and conf/notifyd.example.ini.\n",
          f);
}

/* notifyd test-receiver [-c FILE] [--retries N] NAME */
static int test_receiver_cli(int argc, char **argv)
{
    const char *path = NULL, *name = NULL;
    unsigned long retries = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0 || strcmp(a, "--retries") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "notifyd test-receiver: %s needs a value\n", a);
                return 2;
            }
            const char *v = argv[++i];
            if (a[2] != 'r') {
                path = v;
                continue;
            }
            char *end;
            retries = strtoul(v, &end, 10);
            /* retry_max_attempts allows at most 1000 attempts */
            if (!*v || *end || v[0] == '-' || retries > 999) {
                fprintf(stderr, "notifyd test-receiver: --retries: want 0..999, got '%s'\n", v);
                return 2;
            }
            continue;
        }
        if (a[0] == '-' || name) {
            fprintf(stderr, "notifyd test-receiver: unexpected argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
        name = a;
    }
    if (!name) {
        fprintf(stderr, "notifyd test-receiver: which receiver? (NAME missing)\n");
        usage(stderr);
        return 2;
    }
    return nd_daemon_test_receiver(path, name, (unsigned)retries, stdout, stderr);
}

int main(int argc, char **argv)
{
    const char *config_path = NULL;
    if (argc > 1 && strcmp(argv[1], "template") == 0)
        return nd_template_cli(argc, argv, stdout, stderr);
    if (argc > 1 && strcmp(argv[1], "test-receiver") == 0)
        return test_receiver_cli(argc, argv);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--version") == 0) {
            printf("notifyd %s\n", ND_VERSION);
            return 0;
        }
        if (strcmp(a, "--print-default-config") == 0) {
            fputs(nd_config_default_text, stdout);
            return 0;
        }
        if (strcmp(a, "--check-config") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "notifyd: --check-config needs a FILE\n");
                return 2;
            }
            int rc = nd_daemon_check_config(argv[i + 1], stderr);
            if (rc == 0)
                printf("%s: ok\n", argv[i + 1]);
            return rc;
        }
        if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "notifyd: %s needs a FILE\n", a);
                return 2;
            }
            config_path = argv[++i];
            continue;
        }
        fprintf(stderr, "notifyd: unknown argument '%s'\n", a);
        usage(stderr);
        return 2;
    }

    struct nd_config *cfg = NULL;
    struct nd_config_errors errs;
    nd_config_errors_init(&errs);
    int rc = config_path ? nd_config_load_file(config_path, &cfg, &errs)
                         : nd_config_load_string(nd_config_default_text, "<default>", &cfg, &errs);
    if (rc != 0) {
        for (size_t i = 0; i < errs.n; i++)
            fprintf(stderr, "%s\n", errs.msgs[i]);
        nd_config_errors_deinit(&errs);
        return 1;
    }
    nd_config_errors_deinit(&errs);
    return nd_daemon_run_take(cfg);
}
