/* folders.c — finding the photos in the folders a user names: the one walk
 * behind train --images, eval --photos and colorize over a folder. Image
 * files are picked by name; only regular files are kept (a FIFO or a
 * device named .png is named and counted, never opened, so it cannot hang
 * or flood the run; so is a path of PHOTO_PATH_MAX bytes or more); every file and every folder counts once however many
 * links or repeated folder names lead to it (so a symbolic-link loop ends
 * and a photo is never its own validation copy); an unreadable subfolder is
 * named, counted and skipped. The result is sorted by path. */
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "trainer.h"

/* The walk's state: what has been seen, what was found. */
typedef struct {
    photo_listing *out;
    gboolean recursive;
    size_t top_len; /* the length of the folder named, where the photos' relative paths start */
    GHashTable *seen; /* "device:inode" of every folder and file taken */
} folder_walk;

static char *stat_identity(const GStatBuf *st) {
    return g_strdup_printf("%ju:%ju", (uintmax_t)st->st_dev, (uintmax_t)st->st_ino);
}

char *file_identity(const char *path) {
    GStatBuf st;
    return g_stat(path, &st) == 0 ? stat_identity(&st) : NULL;
}

/* TRUE the first time this file or folder is met; later meetings count as repeats. */
static gboolean first_visit(folder_walk *fw, const GStatBuf *st) {
    char *id = stat_identity(st);
    if (g_hash_table_contains(fw->seen, id)) {
        g_free(id);
        fw->out->repeats++;
        return FALSE;
    }
    g_hash_table_add(fw->seen, id);
    return TRUE;
}

static void take_file(folder_walk *fw, char *path, const GStatBuf *st) {
    if (!S_ISREG(st->st_mode)) {
        g_printerr("colorize-train: skipping %s: not a regular file\n", path);
        fw->out->not_regular++;
        g_free(path);
    } else if (!first_visit(fw, st)) {
        g_free(path);
    } else {
        size_t relative = fw->top_len;
        while (path[relative] == G_DIR_SEPARATOR) relative++;
        found_photo p = {path, (gint64)st->st_size,
                         (gint64)st->st_mtim.tv_sec * G_GINT64_CONSTANT(1000000000) + st->st_mtim.tv_nsec, relative};
        g_array_append_val(fw->out->photos, p);
    }
}

static gboolean walk_folder(folder_walk *fw, const char *dir, gboolean top, GError **error);

/* One name inside a folder: a subfolder to walk, an image to take, or neither. */
static void walk_entry(folder_walk *fw, const char *dir, const char *name) {
    char *path = g_build_filename(dir, name, NULL);
    GStatBuf st;
    if (strlen(path) >= PHOTO_PATH_MAX) { /* the system would refuse it too */
        if (is_image_name(name)) {
            g_printerr("colorize-train: skipping %s: a path of %zu bytes, at or past the limit of %d\n", path,
                       strlen(path), PHOTO_PATH_MAX);
            fw->out->too_long++;
        }
        g_free(path);
    } else if (g_stat(path, &st) != 0) { /* a dangling link: nothing to read */
        g_free(path);
    } else if (S_ISDIR(st.st_mode)) {
        if (fw->recursive && first_visit(fw, &st)) walk_folder(fw, path, FALSE, NULL);
        g_free(path);
    } else if (is_image_name(name)) {
        take_file(fw, path, &st);
    } else {
        g_free(path);
    }
}

static gboolean walk_folder(folder_walk *fw, const char *dir, gboolean top, GError **error) {
    GError *err = NULL;
    GDir *d = g_dir_open(dir, 0, &err);
    if (!d && top) {
        g_propagate_error(error, err);
        return FALSE;
    }
    if (!d) {
        g_printerr("colorize-train: skipping the folder %s: %s\n", dir, err->message);
        g_error_free(err);
        fw->out->unreadable_folders++;
        return TRUE;
    }
    const char *name;
    while ((name = g_dir_read_name(d))) walk_entry(fw, dir, name);
    g_dir_close(d);
    return TRUE;
}

static int compare_found(gconstpointer a, gconstpointer b) {
    return strcmp(((const found_photo *)a)->path, ((const found_photo *)b)->path);
}

gboolean photo_listing_scan(photo_listing *pl, char **folders, gboolean recursive, GError **error) {
    memset(pl, 0, sizeof *pl);
    pl->photos = g_array_new(FALSE, FALSE, sizeof(found_photo));
    folder_walk fw = {pl, recursive, 0, g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL)};
    gboolean ok = TRUE;
    for (char **f = folders; ok && *f; f++) {
        GStatBuf st;
        if (g_stat(*f, &st) != 0 || !S_ISDIR(st.st_mode)) {
            g_set_error(error, TRAINER_ERROR, 1, "%s: not a folder of photos", *f);
            ok = FALSE;
        } else if (first_visit(&fw, &st)) {
            fw.top_len = strlen(*f);
            ok = walk_folder(&fw, *f, TRUE, error);
        }
    }
    g_hash_table_destroy(fw.seen);
    if (!ok) {
        photo_listing_clear(pl);
        return FALSE;
    }
    g_array_sort(pl->photos, compare_found);
    return TRUE;
}

void photo_listing_clear(photo_listing *pl) {
    if (pl->photos) {
        for (guint i = 0; i < pl->photos->len; i++) g_free(g_array_index(pl->photos, found_photo, i).path);
        g_array_free(pl->photos, TRUE);
    }
    memset(pl, 0, sizeof *pl);
}

gboolean is_regular_file(const char *path, GError **error) {
    GStatBuf st;
    if (g_stat(path, &st) != 0 || S_ISREG(st.st_mode)) return TRUE; /* a missing file: the reader names it */
    g_set_error(error, TRAINER_ERROR, 1, "%s: not a regular file (a folder, FIFO or device): refused", path);
    return FALSE;
}

gboolean image_size_acceptable(const char *path, double max_mpx, const char *raise_with, GError **error) {
    int w = 0, h = 0;
    if (!is_regular_file(path, error)) return FALSE;
    if (!gdk_pixbuf_get_file_info(path, &w, &h)) return TRUE; /* unreadable: the decoder names the problem */
    double mpx = (double)w * h / 1e6;
    if (w > 0 && h > 0 && mpx <= max_mpx) return TRUE;
    g_set_error(error, TRAINER_ERROR, 1, "%s: %d×%d pixels (%.0f megapixels) is above the limit of %g megapixels%s%s%s",
                path, w, h, mpx, max_mpx, raise_with ? " (raise it with " : "", raise_with ? raise_with : "",
                raise_with ? ")" : "");
    return FALSE;
}

gboolean is_image_name(const char *name) {
    static const char *const ext[] = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".gif"};
    char *lower = g_ascii_strdown(name, -1);
    gboolean yes = FALSE;
    for (size_t i = 0; i < G_N_ELEMENTS(ext) && !yes; i++) yes = g_str_has_suffix(lower, ext[i]);
    g_free(lower);
    return yes;
}
