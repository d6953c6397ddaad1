/* colorize-passes.c — the order of the preview's passes: see colorize-passes.h. */
#include "colorize-passes.h"

gboolean colorize_passes_wait(ColorizePassesWaiting *waiting, ColorizePass running, ColorizePass asked) {
    if (asked == COLORIZE_PASS_QUICK) waiting->quick = TRUE;
    if (asked == COLORIZE_PASS_FULL) waiting->full = TRUE;
    const gboolean full_waits_for_quick = asked == COLORIZE_PASS_FULL && running == COLORIZE_PASS_QUICK;
    return running != COLORIZE_PASS_NONE && !full_waits_for_quick;
}

void colorize_passes_wait_behind(ColorizePassesWaiting *waiting) {
    waiting->quick = TRUE;
}

ColorizePass colorize_passes_next(ColorizePassesWaiting *waiting) {
    if (waiting->quick) {
        waiting->quick = FALSE;
        return COLORIZE_PASS_QUICK;
    }
    if (waiting->full) {
        waiting->full = FALSE;
        return COLORIZE_PASS_FULL;
    }
    return COLORIZE_PASS_NONE;
}

void colorize_passes_clear(ColorizePassesWaiting *waiting) {
    waiting->quick = waiting->full = FALSE;
}
