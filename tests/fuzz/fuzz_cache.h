/* fuzz_cache.h — the folder listing that the photo-cache fuzz target reads
 * its inputs against, shared with make_seeds (which writes valid caches
 * for it): three photos, their sizes and times, and the cache's side. Constants
 * only: no .c implements it. */
#ifndef FUZZ_CACHE_H
#define FUZZ_CACHE_H

#include "trainer.h"

#define FUZZ_CACHE_SIDE 16
static const found_photo FUZZ_CACHE_LISTING[] = {
    {"/photos/a.png", 1000, 1000000001, 8},
    {"/photos/more/b.jpg", 2000, 2000000002, 8},
    {"/photos/c.png", 3000, 3000000003, 8},
};
#define FUZZ_CACHE_PHOTOS 3

#endif
