/* colorize-outline.c — the hints' outline in the preview: see colorize-outline.h. */
#include "colorize-outline.h"

#include <string.h>

/* Fills the part of `mask` holding `value` that contains `start`, marking
 * it in `seen`; its pixels go to `part`. Returns how many. */
static gsize fill_part(const guint8 *mask, gint w, gint h, gsize start, guint8 value, guint8 *seen, gint *part) {
    gsize len = 0;
    part[len++] = (gint)start, seen[start] = 1;
    for (gsize k = 0; k < len; k++) {
        const gint i = part[k], x = i % w, y = i / w;
        const gint next[4] = {x > 0 ? i - 1 : -1, x + 1 < w ? i + 1 : -1, y > 0 ? i - w : -1, y + 1 < h ? i + w : -1};
        for (gint m = 0; m < 4; m++)
            if (next[m] >= 0 && !seen[next[m]] && mask[next[m]] == value) seen[next[m]] = 1, part[len++] = next[m];
    }
    return len;
}

void colorize_outline_clean(guint8 *mask, gint w, gint h, gint min_area) {
    const gsize n = (gsize)w * h;
    guint8 *seen = g_malloc(n);
    gint *part = g_new(gint, n);
    for (gint value = 1; value >= 0; value--) { /* held islands, then holes */
        memset(seen, 0, n);
        for (gsize start = 0; start < n; start++) {
            if (seen[start] || mask[start] != value) continue;
            const gsize len = fill_part(mask, w, h, start, (guint8)value, seen, part);
            if (len < (gsize)min_area && len < n)
                for (gsize k = 0; k < len; k++) mask[part[k]] = (guint8)!value;
        }
    }
    g_free(part), g_free(seen);
}

gboolean colorize_outline_at(const guint8 *mask, gint w, gint h, gint x, gint y) {
    const guint8 here = mask[(gsize)y * w + x];
    return (x + 1 < w && mask[(gsize)y * w + x + 1] != here) || (y + 1 < h && mask[(gsize)(y + 1) * w + x] != here);
}
