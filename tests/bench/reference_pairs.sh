#!/bin/sh
# reference_pairs.sh — makes the folders for measuring colour from a
# reference on pairs of different photos (reference_pairs.txt): OUT/photos
# holds the paired photos, OUT/references the reference of each under the
# photo's name (links into PHOTO_DIR). Then, side by side:
#   colorize-train eval --photos OUT/photos
#   colorize-train eval --photos OUT/photos --reference OUT/references
#   python3 tests/bench/plain_transfer.py OUT/photos OUT/references
# Usage: reference_pairs.sh PHOTO_DIR OUT
set -eu
[ $# -eq 2 ] || { echo "usage: $0 PHOTO_DIR OUT" >&2; exit 2; }
photos=$(cd "$1" && pwd)
mkdir -p "$2/photos" "$2/references"
grep -v '^#' "$(dirname "$0")/reference_pairs.txt" | while read -r photo reference; do
    [ -n "$photo" ] || continue
    for f in "$photo" "$reference"; do
        [ -f "$photos/$f" ] || { echo "$0: $photos/$f is missing" >&2; exit 1; }
    done
    ln -sf "$photos/$photo" "$2/photos/$photo"
    ln -sf "$photos/$reference" "$2/references/$photo"
done
echo "$0: $(ls "$2/photos" | wc -l) pairs in $2"
