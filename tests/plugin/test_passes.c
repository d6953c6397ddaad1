/* test_passes.c — the order of the dialog's preview passes
 * (plugin/colorize-passes.c), driven as the dialog drives it, without GIMP:
 * the quick pass is shown before the full one even when both are asked for
 * while a slow, cancelled pass still runs (what happened at a high working
 * resolution on a slow machine: the full request replaced the quick one),
 * and a dragged point's passes follow one another without cancelling. */
#include <stdio.h>

#include "../../plugin/colorize-passes.h"
#include "testlib.h"

static const char *name(ColorizePass p) {
    return p == COLORIZE_PASS_QUICK ? "quick" : p == COLORIZE_PASS_FULL ? "full" : "none";
}

/* A full pass runs; the user changes a setting, so a quick and then a full
 * pass are asked for before the running one has noticed its cancellation. */
static void quick_not_lost_behind_cancelled_full(void) {
    ColorizePassesWaiting w = {0};
    CHECK(colorize_passes_wait(&w, COLORIZE_PASS_FULL, COLORIZE_PASS_QUICK), "a new quick pass cancels a running full one");
    CHECK(colorize_passes_wait(&w, COLORIZE_PASS_FULL, COLORIZE_PASS_FULL), "a new full pass cancels a running full one");
    ColorizePass first = colorize_passes_next(&w);
    CHECK(first == COLORIZE_PASS_QUICK, "after the cancelled pass, the quick one starts first (got %s)", name(first));
    /* the quick pass runs; the refine timer asks for the full one again: it waits, the quick one goes on */
    CHECK(!colorize_passes_wait(&w, COLORIZE_PASS_QUICK, COLORIZE_PASS_FULL), "a full pass does not cancel a quick one");
    ColorizePass second = colorize_passes_next(&w);
    CHECK(second == COLORIZE_PASS_FULL, "after the quick pass, the full one starts (got %s)", name(second));
    ColorizePass third = colorize_passes_next(&w);
    CHECK(third == COLORIZE_PASS_NONE, "then nothing waits (got %s)", name(third));
}

/* Newer requests replace older ones of their kind; a quick pass asked for
 * while a quick one runs cancels it (the settings moved on). */
static void newer_replaces_older(void) {
    ColorizePassesWaiting w = {0};
    CHECK(colorize_passes_wait(&w, COLORIZE_PASS_QUICK, COLORIZE_PASS_QUICK), "a new quick pass cancels a running quick one");
    CHECK(colorize_passes_wait(&w, COLORIZE_PASS_QUICK, COLORIZE_PASS_QUICK), "and again");
    ColorizePass first = colorize_passes_next(&w);
    CHECK(first == COLORIZE_PASS_QUICK, "one quick pass starts (got %s)", name(first));
    ColorizePass second = colorize_passes_next(&w);
    CHECK(second == COLORIZE_PASS_NONE, "only one: the requests merged (got %s)", name(second));
}

/* A point dragged: each step asks for a quick pass behind the running one,
 * which is never cancelled (else a steady drag would show nothing until it
 * stopped); the steps merge into one pass, which the full one follows. */
static void drag_waits_behind(void) {
    ColorizePassesWaiting w = {0};
    colorize_passes_wait_behind(&w);
    colorize_passes_wait_behind(&w);
    CHECK(!colorize_passes_wait(&w, COLORIZE_PASS_QUICK, COLORIZE_PASS_FULL), "the drag's rest does not cancel it either");
    ColorizePass first = colorize_passes_next(&w), second = colorize_passes_next(&w), third = colorize_passes_next(&w);
    CHECK(first == COLORIZE_PASS_QUICK && second == COLORIZE_PASS_FULL && third == COLORIZE_PASS_NONE,
          "the drag's steps merge into one quick pass, then the full one (got %s, %s, %s)", name(first), name(second),
          name(third));
}

/* Closing the dialog: nothing waits. */
static void clear_forgets(void) {
    ColorizePassesWaiting w = {0};
    colorize_passes_wait(&w, COLORIZE_PASS_FULL, COLORIZE_PASS_QUICK);
    colorize_passes_wait(&w, COLORIZE_PASS_FULL, COLORIZE_PASS_FULL);
    colorize_passes_clear(&w);
    ColorizePass next = colorize_passes_next(&w);
    CHECK(next == COLORIZE_PASS_NONE, "after clearing, nothing starts (got %s)", name(next));
}

int main(void) {
    quick_not_lost_behind_cancelled_full();
    newer_replaces_older();
    drag_waits_behind();
    clear_forgets();
    return test_finish("test_passes");
}
