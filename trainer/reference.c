/* reference.c — colour references for `colorize` and `eval --photos`:
 * colour photos (read through gdk-pixbuf, shrunk to NN_REFERENCE_SIDE) and
 * GIMP palettes (.gpl) turned into the engine's nn_reference. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>

#include "trainer.h"

static nn_reference *new_reference(nn_colorizer *c, GError **error) {
    nn_reference *r = NULL;
    nn_error err = {0};
    if (nn_reference_create(&r, c, &err) != NN_OK) g_set_error(error, TRAINER_ERROR, 1, "%s", err.msg);
    return r;
}

/* Counts an 8-bit image, rows `stride` bytes apart; `what` names it in errors. */
static gboolean add_image(nn_reference *r, const uint8_t *px, int channels, int w, int h, size_t stride,
                          const char *what, GError **error) {
    nn_error err = {0};
    if (nn_reference_add_image(r, px, channels, w, h, stride, &err) == NN_OK) return TRUE;
    g_set_error(error, TRAINER_ERROR, 1, "%s: %s", what, err.msg);
    return FALSE;
}

/* Counts the opaque pixels of an 8-bit RGB(A) pixbuf, shrunk to
 * NN_REFERENCE_SIDE on its long side as every reference is. */
static gboolean add_pixbuf(nn_reference *r, GdkPixbuf *pb, const char *what, GError **error) {
    const int w = gdk_pixbuf_get_width(pb), h = gdk_pixbuf_get_height(pb), side = MAX(w, h);
    GdkPixbuf *small = side > NN_REFERENCE_SIDE ? gdk_pixbuf_scale_simple(pb, MAX(1, w * NN_REFERENCE_SIDE / side),
                                                                       MAX(1, h * NN_REFERENCE_SIDE / side),
                                                                       GDK_INTERP_BILINEAR)
                                             : g_object_ref(pb);
    if (!small) {
        g_set_error(error, TRAINER_ERROR, 1, "%s: out of memory while shrinking it", what);
        return FALSE;
    }
    gboolean ok = add_image(r, gdk_pixbuf_read_pixels(small), gdk_pixbuf_get_n_channels(small),
                            gdk_pixbuf_get_width(small), gdk_pixbuf_get_height(small),
                            (size_t)gdk_pixbuf_get_rowstride(small), what, error);
    g_object_unref(small);
    return ok;
}

/* Counts the opaque pixels of one photo file. */
static gboolean add_photo(nn_reference *r, const char *path, double max_mpx, GError **error) {
    GdkPixbuf *pb = NULL;
    gboolean ok = image_size_acceptable(path, max_mpx, "--max-megapixels", error) &&
                  (pb = gdk_pixbuf_new_from_file(path, error)) != NULL;
    if (ok && !(gdk_pixbuf_get_bits_per_sample(pb) == 8 && gdk_pixbuf_get_n_channels(pb) >= 3))
        g_set_error(error, TRAINER_ERROR, 1, "%s: unsupported pixel format", path), ok = FALSE;
    ok = ok && add_pixbuf(r, pb, path, error);
    if (pb) g_object_unref(pb);
    if (!ok) g_prefix_error(error, "--reference: "); /* each message names the file */
    return ok;
}

/* Counts the colours of a GIMP palette file (nn_palette_add_to_reference). */
static gboolean add_palette(nn_reference *r, const char *path, GError **error) {
    gchar *text = NULL;
    gsize len = 0;
    GStatBuf st;
    nn_error err = {0};
    gboolean ok = is_regular_file(path, error);
    if (ok && g_stat(path, &st) == 0 && st.st_size > NN_PALETTE_MAX_BYTES)
        g_set_error(error, TRAINER_ERROR, 1, "%s: %lld bytes, too large for a palette (at most %d)", path,
                    (long long)st.st_size, NN_PALETTE_MAX_BYTES), ok = FALSE;
    ok = ok && g_file_get_contents(path, &text, &len, error);
    if (ok && nn_palette_add_to_reference(r, text, len, &err) != NN_OK)
        g_set_error(error, TRAINER_ERROR, 1, "%s: %s", path, err.msg), ok = FALSE;
    if (!ok) g_prefix_error(error, "--palette: "); /* each message names the file */
    g_free(text);
    return ok;
}

/* Finishes r; a reference with no colour is named by `what`. */
static gboolean finish(nn_reference *r, const char *what, GError **error) {
    nn_error err = {0};
    if (nn_reference_finish(r, &err) == NN_OK) return TRUE;
    g_set_error(error, TRAINER_ERROR, 1, "%s: %s", what, err.msg);
    return FALSE;
}

/* "what" for a finished reference's error: the photos and palettes, joined. */
static char *reference_names(const char *const *photos, const char *const *palettes) {
    GString *what = g_string_new(NULL);
    for (int k = 0; k < 2; k++)
        for (const char *const *f = k ? palettes : photos; f && *f; f++)
            g_string_append_printf(what, "%s%s", what->len ? ", " : "", *f);
    return g_string_free(what, FALSE);
}

nn_reference *reference_load(nn_colorizer *c, const char *const *photos, const char *const *palettes, double max_mpx,
                             GError **error) {
    if (!(photos && *photos) && !(palettes && *palettes)) {
        g_set_error(error, TRAINER_ERROR, 1, "--reference: no file given");
        return NULL;
    }
    nn_reference *r = new_reference(c, error);
    gboolean ok = r != NULL;
    for (const char *const *f = photos; ok && f && *f; f++) ok = add_photo(r, *f, max_mpx, error);
    for (const char *const *f = palettes; ok && f && *f; f++) ok = add_palette(r, *f, error);
    if (ok) {
        char *what = reference_names(photos, palettes);
        ok = finish(r, what, error);
        g_free(what);
    }
    if (!ok) nn_reference_free(r), r = NULL;
    return r;
}

nn_reference *reference_from_pixbuf(nn_colorizer *c, GdkPixbuf *pb, const char *what, GError **error) {
    nn_reference *r = new_reference(c, error);
    if (!r) return NULL;
    if (add_pixbuf(r, pb, what, error) && finish(r, what, error)) return r;
    nn_reference_free(r);
    return NULL;
}

char **reference_list(char **given, const char *option, GError **error) {
    GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
    gboolean ok = TRUE;
    for (char **g = given; ok && g && *g; g++) {
        if (!**g) { /* "" (a script's unset variable): split, it would be no name at all */
            g_set_error(error, TRAINER_ERROR, 1, "%s \"\": an empty file name", option);
            ok = FALSE;
            break;
        }
        gchar **items = g_strsplit(*g, ",", -1);
        for (int i = 0; ok && items[i]; i++) {
            char *name = g_strstrip(items[i]); /* "a.png, b.png" as a user types it */
            if (*name) g_ptr_array_add(files, g_strdup(name));
            else g_set_error(error, TRAINER_ERROR, 1, "%s \"%s\": an empty file name in the list", option, *g), ok = FALSE;
        }
        g_strfreev(items);
    }
    g_ptr_array_add(files, NULL);
    char **list = (char **)g_ptr_array_free(files, FALSE);
    if (!ok) g_strfreev(list), list = NULL;
    return list;
}
