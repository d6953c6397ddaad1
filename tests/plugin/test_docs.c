/* test_docs.c — the examples in the user's documents agree with the
 * program: every batch call of the plug-in written out in the README, the
 * help page and setup.sh passes the default vividness, saturation and
 * working resolution (the ones the text recommends), and the default
 * reference weight, so that a user who copies an example gets what the
 * dialog gives by default.
 * Usage: test_docs FILE… */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "testlib.h"

/* The next whitespace-separated word at *p (a "…" string stays one word). */
static char *next_word(const char **p) {
    const char *q = *p;
    while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r') q++;
    const char *start = q;
    if (*q == '"') {
        for (q++; *q && *q != '"'; q++) {}
        if (*q) q++;
    } else {
        while (*q && !strchr(" \t\n\r()", *q)) q++;
    }
    *p = q;
    return g_strndup(start, (gsize)(q - start));
}

/* Checks the call after "(plug-in-nn-colorize…": run mode, image, drawable,
 * model, then vividness, saturation and resolution; with a reference (the
 * -reference procedure), its weight too (after the hint layer, the points
 * and the reference). */
#define CALL_WORDS 11
static int check_call(const char *file, const char *call, gboolean with_reference) {
    const char *p = call;
    char *words[CALL_WORDS];
    for (int i = 0; i < CALL_WORDS; i++) words[i] = next_word(&p);
    int checked = 0;
    if (strcmp(words[0], "RUN-NONINTERACTIVE") == 0) {
        const double vividness = g_ascii_strtod(words[4], NULL), saturation = g_ascii_strtod(words[5], NULL);
        const int resolution = atoi(words[6]);
        printf("%s: vividness %s, saturation %s, resolution %s\n", file, words[4], words[5], words[6]);
        CHECK(vividness == NN_DEFAULT_VIVIDNESS, "%s: an example passes vividness %s, not the default %g", file, words[4],
              (double)NN_DEFAULT_VIVIDNESS);
        CHECK(saturation == 1.0, "%s: an example passes saturation %s, not 1", file, words[5]);
        CHECK(resolution == NN_DEFAULT_RESOLUTION, "%s: an example passes resolution %s, not the default %d", file,
              words[6], NN_DEFAULT_RESOLUTION);
        if (with_reference) {
            const double weight = g_ascii_strtod(words[10], NULL);
            printf("%s: reference weight %s\n", file, words[10]);
            CHECK(weight == NN_DEFAULT_REFERENCE_WEIGHT, "%s: an example passes reference weight %s, not the default "
                  "%g", file, words[10], (double)NN_DEFAULT_REFERENCE_WEIGHT);
        }
        checked = 1;
    }
    for (int i = 0; i < CALL_WORDS; i++) g_free(words[i]);
    return checked;
}

int main(int argc, char **argv) {
    int calls = 0;
    for (int f = 1; f < argc; f++) {
        gchar *text = NULL;
        CHECK(g_file_get_contents(argv[f], &text, NULL, NULL), "cannot read %s", argv[f]);
        for (const char *p = text; p && (p = strstr(p, "(plug-in-nn-colorize")); p++) {
            const char *call = p + strlen("(plug-in-nn-colorize");
            const gboolean with_reference = g_str_has_prefix(call, "-reference");
            while (*call && !strchr(" \t\n", *call)) call++; /* -points, -reference */
            calls += check_call(argv[f], call, with_reference);
        }
        g_free(text);
    }
    printf("%d batch examples checked\n", calls);
    CHECK(calls >= 4, "only %d batch examples found: were they moved?", calls);
    return test_finish("test_docs");
}
