/* colorize-outline.c — the hints' outline in the preview: see colorize-outline.h. */
#include "colorize-outline.h"

#include <string.h>

#define OUTLINE_CLEAN_PASSES 8 /* at most: each pass merges the specks into their neighbours */

/* Fills the 4-connected part of `labels` around `start` (pixels of its
 * label), marking it in `seen`; its pixels go to `part`. Returns how many. */
static gsize fill_part(const gint *labels, gint w, gint h, gsize start, guint8 *seen, gint *part) {
    const gint value = labels[start];
    gsize len = 0;
    part[len++] = (gint)start, seen[start] = 1;
    for (gsize k = 0; k < len; k++) {
        const gint i = part[k], x = i % w, y = i / w;
        const gint next[4] = {x > 0 ? i - 1 : -1, x + 1 < w ? i + 1 : -1, y > 0 ? i - w : -1, y + 1 < h ? i + w : -1};
        for (gint m = 0; m < 4; m++)
            if (next[m] >= 0 && !seen[next[m]] && labels[next[m]] == value) seen[next[m]] = 1, part[len++] = next[m];
    }
    return len;
}

/* The label most of the part's outside neighbours carry (the part has
 * `len` pixels, all of one label; others exist around it). */
static gint label_around(const gint *labels, gint w, gint h, const gint *part, gsize len) {
    GHashTable *votes = g_hash_table_new(g_direct_hash, g_direct_equal);
    const gint own = labels[part[0]];
    gint best = own;
    guint best_votes = 0;
    for (gsize k = 0; k < len; k++) {
        const gint i = part[k], x = i % w, y = i / w;
        const gint next[4] = {x > 0 ? i - 1 : -1, x + 1 < w ? i + 1 : -1, y > 0 ? i - w : -1, y + 1 < h ? i + w : -1};
        for (gint m = 0; m < 4; m++) {
            if (next[m] < 0 || labels[next[m]] == own) continue;
            const gint other = labels[next[m]];
            const guint n = GPOINTER_TO_UINT(g_hash_table_lookup(votes, GINT_TO_POINTER(other + 1))) + 1;
            g_hash_table_insert(votes, GINT_TO_POINTER(other + 1), GUINT_TO_POINTER(n));
            if (n > best_votes) best_votes = n, best = other;
        }
    }
    g_hash_table_destroy(votes);
    return best;
}

/* One pass over the parts in scan order, each small one taking the label
 * around it (merging it into a neighbour: fewer parts after each pass).
 * Returns whether any was relabelled. */
static gboolean clean_pass(gint *labels, gint w, gint h, gint min_area, guint8 *seen, gint *part) {
    const gsize n = (gsize)w * h;
    gboolean changed = FALSE;
    memset(seen, 0, n);
    for (gsize start = 0; start < n; start++) {
        if (seen[start]) continue;
        const gsize len = fill_part(labels, w, h, start, seen, part);
        if (len >= (gsize)min_area || len == n) continue;
        const gint to = label_around(labels, w, h, part, len);
        for (gsize k = 0; k < len; k++) labels[part[k]] = to;
        changed = TRUE;
    }
    return changed;
}

void colorize_outline_clean(gint *labels, gint w, gint h, gint min_area) {
    const gsize n = (gsize)w * h;
    guint8 *seen = g_malloc(n);
    gint *part = g_new(gint, n);
    /* again until no part is small: a speck that joined another speck,
     * itself relabelled later in the pass, is a speck again */
    for (gint pass = 0; pass < OUTLINE_CLEAN_PASSES && clean_pass(labels, w, h, min_area, seen, part); pass++) {
    }
    g_free(part), g_free(seen);
}

gboolean colorize_outline_at(const gint *labels, gint w, gint h, gint x, gint y) {
    const gint here = labels[(gsize)y * w + x];
    return (x + 1 < w && labels[(gsize)y * w + x + 1] != here) || (y + 1 < h && labels[(gsize)(y + 1) * w + x] != here);
}
