#!/usr/bin/env bash
# screenshot.sh - takes a screenshot of sipc-demo-client.exe's window after its
# automatic demo script (Connect, AddInt 1 2, AddString, Sum 19) ran against
# the Swift host (`sipc-host demo --top-level`, when SIPB_HOST_EXE names it, as
# `make demo-gui` does) or else sipc-demo-server.exe, all on a private Xvfb
# display.
#
#   demo/screenshot.sh [OUT.png]        (default: <repo>/docs/demo-client.png)
#
# Environment: BUILD (default <win32-shim>/build, must hold both .exe files),
# WINE (default /usr/lib/wine/wine64), WINESERVER (default next to it),
# WINEPREFIX (the prefix to copy; default <repo>/.wine-prefix).
# Needs Xvfb, xwd and ImageMagick's convert (apt: xvfb x11-apps imagemagick);
# a CJK font (e.g. fonts-wqy-microhei) makes the Chinese test text readable.
#
# It starts Xvfb on a free display, copies the prefix to a temporary folder
# (a top-level window under Wine needs a wineserver started with the display
# available, so the shared prefix's wineserver cannot be used), runs the server
# and the client there, captures the screen once the client prints
# "script=done window=X,Y,W,H", crops to that rectangle, and stops everything
# it started (by pid; the temporary prefix's wineserver with -k).
set -u

here=$(cd "$(dirname "$0")" && pwd)
shim=$(dirname "$here")
repo=$(dirname "$shim")
out=${1:-$repo/docs/demo-client.png}
build=${BUILD:-$shim/build}
wine=${WINE:-/usr/lib/wine/wine64}
wineserver=${WINESERVER:-$(dirname "$wine")/wineserver}
src_prefix=${WINEPREFIX:-$repo/.wine-prefix}

die() { echo "screenshot.sh: $*" >&2; exit 1; }

for f in "$build/sipc-demo-client.exe" "$build/sipc-demo-server.exe"; do
    [ -f "$f" ] || die "missing $f (run make first)"
done
for t in Xvfb xwd convert; do
    command -v "$t" >/dev/null || die "missing $t (apt-get install -y xvfb x11-apps imagemagick)"
done
[ -x "$wine" ] || die "missing $wine"
[ -d "$src_prefix" ] || die "missing Wine prefix $src_prefix"
if command -v fc-list >/dev/null && [ -z "$(fc-list :lang=zh 2>/dev/null)" ]; then
    echo "screenshot.sh: note: no CJK font installed; the Chinese text will show as boxes" \
         "(apt-get install -y fonts-wqy-microhei)" >&2
fi

tmp=$(mktemp -d /tmp/sipc-demo-shot.XXXXXX) || die "mktemp failed"
xvfb_pid= server_pid= client_pid= prefix=
cleanup() {
    [ -n "$client_pid" ] && kill "$client_pid" 2>/dev/null
    [ -n "$server_pid" ] && kill -INT "$server_pid" 2>/dev/null && sleep 0.5 && kill "$server_pid" 2>/dev/null
    if [ -n "$prefix" ] && [ -d "$prefix" ]; then
        WINEPREFIX=$prefix "$wineserver" -k 2>/dev/null
        WINEPREFIX=$prefix "$wineserver" -w 2>/dev/null
    fi
    [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null && wait "$xvfb_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# a free display number
disp=
for n in $(seq 77 140); do
    if [ ! -e "/tmp/.X$n-lock" ] && [ ! -e "/tmp/.X11-unix/X$n" ]; then disp=$n; break; fi
done
[ -n "$disp" ] || die "no free X display number"
Xvfb ":$disp" -screen 0 1024x768x24 -nolisten tcp >"$tmp/xvfb.log" 2>&1 &
xvfb_pid=$!
for _ in $(seq 100); do
    [ -e "/tmp/.X11-unix/X$disp" ] && break
    kill -0 "$xvfb_pid" 2>/dev/null || die "Xvfb failed: $(cat "$tmp/xvfb.log")"
    sleep 0.05
done
export DISPLAY=":$disp"

prefix=$tmp/prefix
cp -a "$src_prefix" "$prefix" || die "copying the prefix failed"
rm -f "$prefix"/.update-timestamp.lock
# Only in the temporary copy: Wine draws the window frame and caption itself
# (there is no window manager on Xvfb), and, when a WenQuanYi font is
# installed, the GUI font (Tahoma) falls back to it for CJK characters.
printf '\n[Software\\\\Wine\\\\X11 Driver] 1700000000\n"Decorated"="N"\n' >>"$prefix/user.reg"
if command -v fc-list >/dev/null && fc-list | grep -q 'wqy-microhei.ttc'; then
    link='wqy-microhei.ttc,WenQuanYi Micro Hei\\0'
    sed -i -e '/^\[Software\\\\Microsoft\\\\Windows NT\\\\CurrentVersion\\\\FontLink\\\\SystemLink\]/,/^$/ {
            s/^"\(Tahoma\|Microsoft Sans Serif\)"=str(7):"/&'"$link"'/
            /^#time=/a "MS Shell Dlg"=str(7):"'"$link"'"\n"MS Shell Dlg 2"=str(7):"'"$link"'"
        }' "$prefix/system.reg"
    # Uniscribe (used by EDIT controls) falls back to fixed CJK face names
    {
        printf '\n[Software\\\\Wine\\\\Fonts\\\\Replacements] 1700000000\n'
        for face in SimSun NSimSun "MS Song" "Microsoft YaHei" "Microsoft YaHei UI" \
                    "Microsoft JhengHei" "Microsoft JhengHei UI" MingLiU PMingLiU \
                    "MS Gothic" "MS UI Gothic" "MS Mincho" Gulim Batang "Malgun Gothic"; do
            printf '"%s"="WenQuanYi Micro Hei"\n' "$face"
        done
    } >>"$prefix/user.reg"
fi
# Wine's own fonts (Tahoma, Marlett for the caption buttons; Debian package
# fonts-wine) reach a prefix only when it is created or updated after they were
# installed: copy the missing ones into the temporary prefix.
fontdir=$prefix/drive_c/windows/Fonts
if [ -d /usr/share/wine/fonts ] && [ -d "$fontdir" ]; then
    for f in /usr/share/wine/fonts/*.ttf; do
        [ -e "$f" ] && [ ! -e "$fontdir/$(basename "$f")" ] && cp "$f" "$fontdir/"
    done
fi
[ -e "$fontdir/tahoma.ttf" ] ||
    echo "screenshot.sh: note: Wine's fonts are missing (apt-get install -y fonts-wine)" >&2
export WINEPREFIX=$prefix WINEDEBUG=${WINEDEBUG:--all}

# wait_for FILE PATTERN SECONDS PID: wait until FILE has a line matching PATTERN
wait_for() {
    local i
    for i in $(seq $(($3 * 20))); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        kill -0 "$4" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

if [ -n "${SIPB_HOST_EXE:-}" ] && [ -x "$SIPB_HOST_EXE" ]; then
    # The Swift host; its shim runs in the temporary prefix, on this display.
    "$SIPB_HOST_EXE" demo --top-level --duration 120 ${SIPB_SHIM:+--shim "$SIPB_SHIM"} \
        >"$tmp/server.out" 2>"$tmp/server.err" &
    server_pid=$!
    wait_for "$tmp/server.out" '^listening' 90 "$server_pid" ||
        die "sipc-host did not start: $(cat "$tmp/server.err")"
    disconnect_pattern='client disconnected'
    server_log=$tmp/server.err
else
    "$wine" "$build/sipc-demo-server.exe" --top-level --seconds 120 \
        >"$tmp/server.out" 2>&1 &
    server_pid=$!
    wait_for "$tmp/server.out" '^listening=1' 60 "$server_pid" ||
        die "server did not start: $(cat "$tmp/server.out")"
    disconnect_pattern='^event=disconnect.*reason=disconnect'
    server_log=$tmp/server.out
fi

"$wine" "$build/sipc-demo-client.exe" gui --screenshot-after 700 \
    --exit-after 6000 >"$tmp/client.out" 2>&1 &
client_pid=$!
wait_for "$tmp/client.out" '^script=done' 30 "$client_pid" ||
    die "client script did not finish: $(cat "$tmp/client.out")"
sleep 0.5 # let the last repaint land

geom=$(sed -n 's/^script=done window=\([-0-9,]*\).*/\1/p' "$tmp/client.out" | head -n1)
IFS=, read -r x y w h <<<"$geom"
xwd -root -silent -display ":$disp" >"$tmp/screen.xwd" || die "xwd failed"
crop=()
if [ -n "${w:-}" ] && [ "$w" -gt 0 ] && [ "$h" -gt 0 ]; then
    [ "$x" -lt 0 ] && { w=$((w + x)); x=0; }
    [ "$y" -lt 0 ] && { h=$((h + y)); y=0; }
    crop=(-crop "${w}x${h}+${x}+${y}" +repage)
fi
mkdir -p "$(dirname "$out")"
convert "xwd:$tmp/screen.xwd" "${crop[@]}" -strip -define png:compression-level=9 "png:$out" ||
    die "convert failed"
echo "screenshot.sh: wrote $out (window $geom on display :$disp)"

# the client closes itself (--exit-after); then check that it said goodbye
for _ in $(seq 300); do kill -0 "$client_pid" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$client_pid" 2>/dev/null; then
    echo "screenshot.sh: client did not exit by itself; stopping it" >&2
else
    wait "$client_pid" 2>/dev/null
    client_pid=
fi
grep -q '^status=ok' "$tmp/client.out" || echo "screenshot.sh: client output: $(cat "$tmp/client.out")" >&2
sleep 0.2
grep -q "$disconnect_pattern" "$server_log" ||
    echo "screenshot.sh: server saw no orderly disconnect: $(cat "$server_log")" >&2
exit 0
