/* test_i18n.c — the translations: every string the plug-in marks with _()
 * or N_() is in po/colorize-neural.pot, each built .mo file (German,
 * French) translates every entry of the .pot, and in every language the
 * dialog's mnemonics (Alt+letter) are distinct.
 * Usage: test_i18n colorize-neural.pot FILE.c… LANG.mo… */
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "testlib.h"

/* Reads a C or PO string literal starting at *p (at the opening quote),
 * joining adjacent literals; returns the unescaped text. */
static char *read_literals(const char **p) {
    GString *s = g_string_new(NULL);
    const char *q = *p;
    while (*q == '"') {
        for (q++; *q && *q != '"'; q++) {
            if (*q == '\\' && q[1]) {
                q++;
                g_string_append_c(s, *q == 'n' ? '\n' : *q == 't' ? '\t' : *q);
            } else g_string_append_c(s, *q);
        }
        if (*q == '"') q++;
        while (*q == ' ' || *q == '\n' || *q == '\t' || *q == '\r') q++;
    }
    *p = q;
    return g_string_free(s, FALSE);
}

static GHashTable *pot_ids(const char *text) {
    GHashTable *ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (const char *p = text; (p = strstr(p, "\nmsgid ")); ) {
        p += 7;
        char *id = read_literals(&p);
        if (*id) g_hash_table_add(ids, id);
        else g_free(id);
    }
    return ids;
}

static guint32 u32(const guchar *p) { return p[0] | p[1] << 8 | p[2] << 16 | (guint32)p[3] << 24; }

/* msgid -> msgstr of a little-endian .mo file, or NULL when malformed. */
static GHashTable *mo_entries(const char *path) {
    gchar *data;
    gsize len;
    if (!g_file_get_contents(path, &data, &len, NULL) || len < 28 || u32((guchar *)data) != 0x950412de) return NULL;
    const guchar *d = (const guchar *)data;
    guint32 n = u32(d + 8), orig = u32(d + 12), trans = u32(d + 16);
    GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    for (guint32 i = 0; i < n && orig + 8 * i + 8 <= len && trans + 8 * i + 8 <= len; i++) {
        guint32 ol = u32(d + orig + 8 * i), oo = u32(d + orig + 8 * i + 4);
        guint32 tl = u32(d + trans + 8 * i), to = u32(d + trans + 8 * i + 4);
        if (oo + ol > len || to + tl > len) break;
        g_hash_table_insert(t, g_strndup(data + oo, ol), g_strndup(data + to, tl));
    }
    g_free(data);
    return t;
}

/* Counts the strings marked in one source file that the .pot lacks. */
static int check_source(const char *path, GHashTable *ids, const char *pot, int *marked) {
    gchar *src;
    int missing = 0;
    CHECK(g_file_get_contents(path, &src, NULL, NULL), "cannot read %s", path);
    for (const char *p = src; p && (p = strstr(p, "_(\"")); ) {
        p += 2;
        char *s = read_literals(&p);
        (*marked)++;
        if (!g_hash_table_contains(ids, s)) {
            missing++;
            CHECK(0, "%s: '%s' is not in %s (regenerate it: ninja -C build colorize-neural-pot)", path, s, pot);
        }
        g_free(s);
    }
    g_free(src);
    return missing;
}

/* The mnemonic letter of a label ("_Vividness:" -> 'v'), or 0. */
static gunichar mnemonic(const char *label) {
    for (const char *p = label; (p = strchr(p, '_')); p += 2)
        if (p[1] && p[1] != '_') return g_unichar_tolower(g_utf8_get_char(p + 1));
    return 0;
}

/* The labels with a mnemonic marked in the dialog's source: they share one window, so within each
 * language no two may share a letter (Alt+letter would reach only the first). */
static GPtrArray *dialog_mnemonic_labels(char **files, int n) {
    GPtrArray *labels = g_ptr_array_new_with_free_func(g_free);
    for (int i = 0; i < n; i++) {
        if (!g_str_has_suffix(files[i], "colorize-dialog.c")) continue;
        gchar *src = NULL;
        CHECK(g_file_get_contents(files[i], &src, NULL, NULL), "cannot read %s", files[i]);
        for (const char *p = src; p && (p = strstr(p, "_(\"")); ) {
            p += 2;
            char *s = read_literals(&p);
            if (mnemonic(s)) g_ptr_array_add(labels, s);
            else g_free(s);
        }
        g_free(src);
    }
    return labels;
}

/* Checks that the translated labels (tr NULL: the English ones) have distinct mnemonics. */
static void check_mnemonics(const char *language, GPtrArray *labels, GHashTable *tr) {
    GHashTable *seen = g_hash_table_new(g_direct_hash, g_direct_equal);
    for (guint i = 0; i < labels->len; i++) {
        const char *label = tr && g_hash_table_lookup(tr, labels->pdata[i]) ? g_hash_table_lookup(tr, labels->pdata[i])
                                                                            : labels->pdata[i];
        gunichar m = mnemonic(label);
        const char *other = g_hash_table_lookup(seen, GUINT_TO_POINTER(m));
        CHECK(!other, "%s: the dialog's '%s' and '%s' share the mnemonic Alt+%lc", language, other ? other : "", label,
              (wint_t)m);
        if (!other) g_hash_table_insert(seen, GUINT_TO_POINTER(m), (gpointer)label);
    }
    printf("%s: %u mnemonics in the dialog, %u distinct\n", language, labels->len, g_hash_table_size(seen));
    g_hash_table_destroy(seen);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: test_i18n POT FILE.c... LANG.mo...\n");
        return 1;
    }
    gchar *pot;
    CHECK(g_file_get_contents(argv[1], &pot, NULL, NULL), "cannot read %s", argv[1]);
    if (test_failures) return test_finish("test_i18n");
    GHashTable *ids = pot_ids(pot);
    int marked = 0, missing = 0;
    for (int i = 2; i < argc; i++)
        if (g_str_has_suffix(argv[i], ".c")) missing += check_source(argv[i], ids, argv[1], &marked);
    printf("%d marked strings in the plug-in, %u entries in the .pot, %d missing\n", marked,
           g_hash_table_size(ids), missing);
    CHECK(marked >= 25, "only %d marked strings found: are the source files right?", marked);
    GPtrArray *labels = dialog_mnemonic_labels(argv + 2, argc - 2);
    CHECK(labels->len >= 10, "only %u labels with mnemonics in the dialog's source", labels->len);
    check_mnemonics("English", labels, NULL);
    for (int i = 2; i < argc; i++) {
        if (!g_str_has_suffix(argv[i], ".mo")) continue;
        GHashTable *mo = mo_entries(argv[i]);
        CHECK(mo != NULL, "%s is missing or not a .mo file", argv[i]);
        if (!mo) continue;
        GHashTableIter it;
        gpointer key;
        int untranslated = 0;
        g_hash_table_iter_init(&it, ids);
        while (g_hash_table_iter_next(&it, &key, NULL)) {
            const char *tr = g_hash_table_lookup(mo, key);
            if (!tr || !*tr) {
                untranslated++;
                CHECK(0, "%s: '%s' is not translated", argv[i], (const char *)key);
            }
        }
        printf("%s: %u translations, %d untranslated\n", argv[i], g_hash_table_size(mo) - 1, untranslated);
        check_mnemonics(argv[i], labels, mo);
        g_hash_table_destroy(mo);
    }
    g_ptr_array_free(labels, TRUE);
    g_hash_table_destroy(ids);
    g_free(pot);
    return test_finish("test_i18n");
}
