/* fuzz_cache.c — libFuzzer target: the photo cache reader of train
 * --images (every size checked in 64 bits against the bytes it holds,
 * every entry validated) on arbitrary bytes read from memory, against a
 * fixed folder listing (fuzz_cache.h); every usable photo it accepts must
 * lie inside the pixels it read (the check touches each one's last byte). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fuzz_cache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    FILE *f = fmemopen((void *)data, size, "rb");
    if (!f) return 0;
    found_photo listing[FUZZ_CACHE_PHOTOS];
    for (int i = 0; i < FUZZ_CACHE_PHOTOS; i++) listing[i] = FUZZ_CACHE_LISTING[i];
    photo_cache_check(f, size, listing, FUZZ_CACHE_PHOTOS, FUZZ_CACHE_SIDE);
    fclose(f);
    return 0;
}
