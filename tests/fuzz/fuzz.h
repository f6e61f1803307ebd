/* fuzz.h - the interface of every fuzz target under tests/fuzz.
 *
 * A target defines LLVMFuzzerInitialize (once per process), LLVMFuzzerTestOneInput
 * (one input; never keeps state that changes the next input's outcome) and
 * fuzz_cleanup (frees what Initialize made). It is linked either with
 * libFuzzer (-Dfuzz=true, clang) or with replay.c, whose main() runs every
 * file of the corpus directories it is given, as a meson test in every build.
 * A broken invariant aborts through FUZZ_CHECK: libFuzzer saves the input,
 * the replay test fails.
 */
#ifndef NOTIFYD_FUZZ_H
#define NOTIFYD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void fuzz_cleanup(void);

#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz check failed: %s: ", #cond);                                     \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
