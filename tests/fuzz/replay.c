/* replay.c - main() of a fuzz target built without libFuzzer: runs every file
 * of the corpus directories (and files) named on the command line through
 * LLVMFuzzerTestOneInput, one TAP line each, so that the inputs that once
 * crashed stay tested in every build (gcc, ASan+UBSan) as plain meson tests.
 * A crash or a failed FUZZ_CHECK aborts the run, which fails the test; no
 * input at all is a failure too ("Bail out!"), never a pass.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Larger than any seed; libFuzzer's own -max_len default is 4096. */
#define REPLAY_MAX_INPUT (16u << 20)

struct names {
    char **v;
    size_t n, cap;
};

static void add(struct names *ns, char *path)
{
    if (ns->n == ns->cap) {
        ns->cap = ns->cap ? ns->cap * 2 : 64;
        ns->v = realloc(ns->v, ns->cap * sizeof *ns->v);
        if (!ns->v)
            abort();
    }
    ns->v[ns->n++] = path;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (!p)
        abort();
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* Regular files of `dir` (not recursive; names starting with '.' and
 * README.md are not inputs), sorted. */
static int list_dir(const char *dir, struct names *ns)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    size_t first = ns->n;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "README.md") == 0)
            continue;
        char *p = join(dir, e->d_name);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
            add(ns, p);
        else
            free(p);
    }
    closedir(d);
    qsort(ns->v + first, ns->n - first, sizeof *ns->v, cmp);
    return 0;
}

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *buf = malloc(REPLAY_MAX_INPUT);
    if (!buf)
        abort();
    *len = fread(buf, 1, REPLAY_MAX_INPUT, f);
    int bad = ferror(f) || !feof(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    return buf;
}

int main(int argc, char **argv)
{
    struct names ns = {0};
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            printf("Bail out! %s: %s\n", argv[i], strerror(errno));
            return 1;
        }
        if (S_ISDIR(st.st_mode)) {
            if (list_dir(argv[i], &ns) != 0) {
                printf("Bail out! %s: %s\n", argv[i], strerror(errno));
                return 1;
            }
        } else {
            add(&ns, strdup(argv[i]));
        }
    }
    if (ns.n == 0) {
        printf("Bail out! no corpus file given (usage: %s DIR|FILE...)\n", argv[0]);
        free(ns.v);
        return 1;
    }
    LLVMFuzzerInitialize(&argc, &argv);
    printf("1..%zu\n", ns.n);
    int rc = 0;
    for (size_t i = 0; i < ns.n; i++) {
        size_t len = 0;
        unsigned char *data = read_file(ns.v[i], &len);
        if (!data) {
            printf("not ok %zu - %s: cannot read (or larger than %u bytes)\n", i + 1, ns.v[i],
                   REPLAY_MAX_INPUT);
            rc = 1;
        } else {
            /* Announced first: if it crashes, the log names the input. */
            fprintf(stderr, "# %s (%zu bytes)\n", ns.v[i], len);
            LLVMFuzzerTestOneInput(data, len);
            printf("ok %zu - %s (%zu bytes)\n", i + 1, ns.v[i], len);
            fflush(stdout);
            free(data);
        }
        free(ns.v[i]);
    }
    free(ns.v);
    fuzz_cleanup();
    return rc;
}
