/* testlib.h — (testlib.c) tiny helpers shared by the tests: checks that count failures,
 * tensor comparison with a printed maximum error, and the reader for the
 * golden files written by the scripts in tests/golden/. */
#ifndef TESTLIB_H
#define TESTLIB_H

#include <stddef.h>
#include <stdint.h>

extern int test_failures, test_checks;

#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        test_checks++;                                                          \
        if (!(cond)) {                                                          \
            test_failures++;                                                    \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                \
            fprintf(stderr, __VA_ARGS__);                                       \
            fputc('\n', stderr);                                                \
        }                                                                       \
    } while (0)

/* Compares n floats; passes when max|got - want| <= tol * max(max|want|, 1e-3).
 * Prints the name, the maximum absolute and the relative error. */
int check_close(const char *name, const float *got, const float *want, size_t n, double tol);
/* Passes when max|got - want| <= tol (absolute). */
int check_abs(const char *name, const float *got, const float *want, size_t n, double tol);
/* Exit code: 0 when no check failed. Prints a summary line. */
int test_finish(const char *name);

typedef struct {
    char *name;
    uint32_t rank, dims[8];
    size_t numel;
    float *data;
} golden_tensor;

typedef struct {
    golden_tensor *t;
    size_t n;
} golden_file;

/* Loads a GLDN file; returns 0 on failure (after printing why). */
int golden_load(golden_file *g, const char *path);
void golden_free(golden_file *g);
/* The tensor called name, or NULL (and a failed check). */
const golden_tensor *golden_get(const golden_file *g, const char *name);

/* Fills with uniform values in [lo, hi) from a fixed-seed generator. */
void fill_uniform(float *x, size_t n, float lo, float hi, uint64_t seed);
/* Directory for temporary files (TMPDIR or /tmp), with a unique name. */
void temp_path(char *out, size_t cap, const char *stem);

#endif
