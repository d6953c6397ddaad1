#!/usr/bin/env bash
# setup.sh — the Quick start: installs the missing Debian 12 packages, builds,
# installs the GIMP plug-in for the current user and colorizes data/samples/
# through gimp-console (`./setup.sh`), or runs the whole test suite, in a
# normal and a sanitizer build (`./setup.sh test`), or runs the fuzz targets
# for a while each (`./setup.sh fuzz [SECONDS]`). Run as root or as a user
# who may use sudo.
set -euo pipefail
cd "$(dirname "$0")"

# gtk2-engines-pixbuf draws GIMP's themes: without it GIMP (and the dialog
# the GUI tests see) falls back to plain drawing, greyed labels doubled.
BUILD_PACKAGES=(build-essential pkg-config meson ninja-build gettext libopenblas-dev
                libgimp2.0-dev libgtk2.0-dev gimp gtk2-engines-pixbuf xvfb xauth x11-apps x11-utils xdotool
                libopenmpi-dev openmpi-bin)

install_missing() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "setup.sh: installing ${missing[*]}"
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -q
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
}

configure() { # dir, meson options...
    local dir=$1
    shift
    if [ -f "$dir/build.ninja" ]; then meson setup --reconfigure "$dir" "$@" >/dev/null
    else meson setup "$dir" "$@" >/dev/null; fi
    ninja -C "$dir" >/dev/null
}

# Runs meson test in a build dir; adds its counts to PASSED / FAILED / SKIPPED.
PASSED=0 FAILED=0 SKIPPED=0
run_tests() {
    local dir=$1
    meson test -C "$dir" --print-errorlogs --num-processes 2 || true
    local log="$dir/meson-logs/testlog.json"
    [ -f "$log" ] || { FAILED=$((FAILED + 1)); return; }
    local ok fail skip
    ok=$(grep -c '"result": "OK"' "$log" || true)
    skip=$(grep -c '"result": "SKIP"' "$log" || true)
    fail=$(grep -c '"result": "\(FAIL\|ERROR\|TIMEOUT\|UNEXPECTEDPASS\)"' "$log" || true)
    PASSED=$((PASSED + ok)) FAILED=$((FAILED + fail)) SKIPPED=$((SKIPPED + skip))
}

case "${1:-run}" in
test)
    install_missing "${BUILD_PACKAGES[@]}"
    configure build
    configure build-sanitize -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized
    run_tests build
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 run_tests build-sanitize
    if [ "$SKIPPED" -gt 0 ]; then echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
    else echo "$PASSED passed, $FAILED failed"; fi
    [ "$FAILED" -eq 0 ]
    ;;
run)
    install_missing "${BUILD_PACKAGES[@]}"
    # a user install: the plug-in into GIMP's per-user folder, the trainer into ~/.local/bin
    plugins="$HOME/.config/GIMP/2.10/plug-ins"
    configure build --prefix="$HOME/.local" -Dgimp_plugin_dir="$plugins"
    meson install -C build --quiet
    echo "setup.sh: installed the plug-in into $plugins/colorize-neural and colorize-train into $HOME/.local/bin"
    case ":$PATH:" in
    *":$HOME/.local/bin:"*) ;;
    *) echo "setup.sh: warning: $HOME/.local/bin is not on your PATH; add it to run colorize-train by name," \
            "e.g. echo 'export PATH=\"\$HOME/.local/bin:\$PATH\"' >> ~/.profile" ;;
    esac
    mkdir -p colorized "$HOME/.config/GIMP/2.10/"{brushes,dynamics,gradients,palettes,patterns,tool-presets}
    # the batch example from README.md: colorize data/samples/*.png into colorized/
    gimp-console-2.10 -i -b '
      (for-each
        (lambda (in)
          (let* ((image (car (gimp-file-load RUN-NONINTERACTIVE in in)))
                 (source (car (gimp-image-get-active-layer image)))
                 (layer (car (plug-in-nn-colorize RUN-NONINTERACTIVE image source "" 0 1.0 256 -1)))
                 (out (string-append "colorized/" (car (reverse (strbreakup in "/"))))))
            (gimp-file-save RUN-NONINTERACTIVE image layer out out)
            (gimp-image-delete image)))
        (cadr (file-glob "data/samples/*.png" 1)))' -b '(gimp-quit 0)'
    echo "setup.sh: colorized $(ls colorized/*.png | wc -l) sample photos into colorized/"
    ;;
fuzz)
    # the libFuzzer targets of tests/fuzz, built with clang and the sanitizers,
    # each run for SECONDS (default 60) from a copy of its committed seed corpus
    seconds=${2:-60}
    install_missing "${BUILD_PACKAGES[@]}" clang libclang-rt-dev
    CC=clang configure build-fuzz -Dfuzz=enabled -Dplugin=disabled -Db_sanitize=address,undefined \
        -Db_lundef=false -Dbuildtype=debugoptimized
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    failed=0
    # a single allocation above 2 GB fails (returns NULL) as on a machine short of
    # memory, instead of counting as a crash: gdk-pixbuf's TGA loader allocates
    # what a header declares whatever size the caller asks for, and fails cleanly
    # when it cannot; our own code must handle such a failure too (g_new aborts,
    # which the fuzzer does report). The resident-memory limit stays at 2 GB.
    for target in weights cifar png engine checkpoint cache points; do
        mkdir -p "$work/$target"
        cp tests/fuzz/corpus/"$target"/* "$work/$target/"
        if UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
            ASAN_OPTIONS=allocator_may_return_null=1:max_allocation_size_mb=2048 \
            build-fuzz/tests/fuzz/fuzz_"$target" -malloc_limit_mb=1000000 -rss_limit_mb=2048 \
            -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$work/" "$work/$target" \
            >"$work/$target.log" 2>&1; then
            echo "fuzz $target: $(grep -o 'stat::number_of_executed_units: [0-9]*' "$work/$target.log" | grep -o '[0-9]*$') inputs in ${seconds} s, clean"
        else
            echo "fuzz $target: FAILED"
            tail -n 40 "$work/$target.log"
            ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* 2>/dev/null || true
            failed=1
        fi
    done
    [ "$failed" -eq 0 ]
    ;;
*)
    echo "usage: ./setup.sh [run|test|fuzz [SECONDS]]" >&2
    exit 2
    ;;
esac
