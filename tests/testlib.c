/* testlib.c — implementation of the test helpers in testlib.h. */
#include "testlib.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn.h"

int test_failures, test_checks;

int check_close(const char *name, const float *got, const float *want, size_t n, double tol) {
    double max_err = 0.0, max_ref = 0.0;
    size_t worst = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - (double)want[i]);
        if (!(e <= max_err)) { /* also catches NaN */
            max_err = isnan(e) ? INFINITY : e;
            worst = i;
        }
        if (fabs(want[i]) > max_ref) max_ref = fabs(want[i]);
    }
    double scale = max_ref > 1e-3 ? max_ref : 1e-3;
    int ok = max_err <= tol * scale;
    printf("%-40s n=%-7zu max abs err %.3g (rel %.3g, tol %.1g)%s\n", name, n, max_err,
           max_err / scale, tol, ok ? "" : "  <-- FAIL");
    CHECK(ok, "%s: element %zu is %.9g, expected %.9g", name, worst, n ? got[worst] : 0.0f,
          n ? want[worst] : 0.0f);
    return ok;
}

int check_abs(const char *name, const float *got, const float *want, size_t n, double tol) {
    double max_err = 0.0;
    size_t worst = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - (double)want[i]);
        if (!(e <= max_err)) {
            max_err = isnan(e) ? INFINITY : e;
            worst = i;
        }
    }
    int ok = max_err <= tol;
    printf("%-40s n=%-7zu max abs err %.3g (tol %.1g)%s\n", name, n, max_err, tol, ok ? "" : "  <-- FAIL");
    CHECK(ok, "%s: element %zu is %.9g, expected %.9g", name, worst, n ? got[worst] : 0.0f,
          n ? want[worst] : 0.0f);
    return ok;
}

int test_finish(const char *name) {
    printf("%s: %d checks, %d failed\n", name, test_checks, test_failures);
    return test_failures ? 1 : 0;
}

static int read_exact(FILE *f, void *p, size_t n) { return fread(p, 1, n, f) == n; }

int golden_load(golden_file *g, const char *path) {
    memset(g, 0, sizeof *g);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open golden file %s\n", path);
        test_failures++;
        return 0;
    }
    char magic[4];
    uint32_t version, count;
    int ok = read_exact(f, magic, 4) && memcmp(magic, "GLDN", 4) == 0 &&
             read_exact(f, &version, 4) && version == 1 && read_exact(f, &count, 4) &&
             count < 100000;
    if (ok) g->t = calloc(count, sizeof *g->t);
    for (uint32_t i = 0; ok && i < count; i++) {
        golden_tensor *t = &g->t[i];
        uint32_t len;
        ok = read_exact(f, &len, 4) && len < 1000 && (t->name = calloc(len + 1, 1)) &&
             read_exact(f, t->name, len) && read_exact(f, &t->rank, 4) && t->rank <= 8 &&
             read_exact(f, t->dims, 4 * t->rank);
        if (!ok) break;
        g->n = i + 1;
        t->numel = 1;
        for (uint32_t d = 0; d < t->rank; d++) t->numel *= t->dims[d];
        ok = t->numel < (1u << 28) && (t->data = malloc(4 * t->numel + 4)) &&
             read_exact(f, t->data, 4 * t->numel);
    }
    fclose(f);
    if (!ok) {
        fprintf(stderr, "golden file %s is malformed\n", path);
        test_failures++;
        golden_free(g);
    }
    return ok;
}

void golden_free(golden_file *g) {
    for (size_t i = 0; i < g->n; i++) {
        free(g->t[i].name);
        free(g->t[i].data);
    }
    free(g->t);
    memset(g, 0, sizeof *g);
}

const golden_tensor *golden_get(const golden_file *g, const char *name) {
    for (size_t i = 0; i < g->n; i++)
        if (strcmp(g->t[i].name, name) == 0) return &g->t[i];
    CHECK(0, "golden tensor '%s' is missing", name);
    return NULL;
}

void fill_uniform(float *x, size_t n, float lo, float hi, uint64_t seed) {
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * nn_rng_uniform(&rng);
}

void temp_path(char *out, size_t cap, const char *stem) {
    const char *dir = getenv("TMPDIR");
    static int counter;
    snprintf(out, cap, "%s/%s-%ld-%d", dir && *dir ? dir : "/tmp", stem, (long)getpid(), counter++);
}
