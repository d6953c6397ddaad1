#!/bin/sh
# screenshot.sh — opens the plug-in's dialog in a real GIMP on the current X
# display (run it under xvfb-run), waits for the window and its preview,
# and writes the window as XWD; then unchecks Preview (Alt+P) and writes it
# again as OUT.xwd.before, and checks it again and writes OUT.xwd.after. Usage: screenshot.sh PROFILE IMAGE OUT.xwd
set -u
profile=$1 image=$2 out=$3
GIMP2_DIRECTORY=$profile gimp-2.10 -n -d -f -s -b "(let* ((image (car (gimp-file-load RUN-NONINTERACTIVE \"$image\" \"$image\"))) (drawable (car (gimp-image-get-active-layer image)))) (plug-in-nn-colorize RUN-INTERACTIVE image drawable \"\" 0 1.0 256 -1))" >"$out.log" 2>&1 &
pid=$!
id=
for i in $(seq 1 240); do
    id=$(xwininfo -root -tree 2>/dev/null | grep '"Colorize (Neural)"' | awk '{print $1}' | head -n 1)
    [ -n "$id" ] && break
    sleep 0.5
done
status=1
if [ -n "$id" ]; then
    xdotool mousemove 0 0 # no tooltip over the controls
    sleep 6               # the preview's passes run after short delays (slow machines: give them time)
    xwd -id "$id" -silent >"$out" && status=0
    # the Preview toggle unchecked: the source, to compare with the result
    xdotool windowactivate --sync "$id" key alt+p 2>/dev/null || xdotool windowfocus --sync "$id" key alt+p
    sleep 2
    xwd -id "$id" -silent >"$out.before" || status=1
    # checked again: the result comes back
    xdotool windowactivate --sync "$id" key alt+p 2>/dev/null || xdotool windowfocus --sync "$id" key alt+p
    sleep 2
    xwd -id "$id" -silent >"$out.after" || status=1
fi
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
exit $status
