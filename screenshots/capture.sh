#!/usr/bin/env bash
# capture.sh: regenerate the PNG screenshots in screenshots/ from the real
# paydesk binary, running headless in tmux against the embedded sandbox.
#
#   bash screenshots/capture.sh            # all shots
#   bash screenshots/capture.sh order help # walk everything, write only these
#
# Needs go, tmux and DejaVu Sans Mono (apt-get install -y tmux fonts-dejavu-core:
# the embedded Go Mono lacks ▸ ✓ ◑ ⊘ ↺, which would otherwise be drawn as empty
# boxes). Builds the console and
# screenshots/ansi2png into a temporary directory, starts the console in a
# private tmux server (socket "paydesk-shots"), walks the screens below with
# send-keys, and renders each `tmux capture-pane -e` with ansi2png.
#
# Environment: SHOT_TIMEOUT (seconds to wait for a text, default 15),
# PAYDESK_ARGS (extra arguments for the console, e.g. "--refresh 1h"),
# PAYDESK_BIN (use this binary instead of building the one in the repo),
# KEEP_ANSI=1 (also write screenshots/<name>.ansi, the raw capture).

# ============================================================================
# SHOTS: edit here. One directive per line; '#' starts a comment.
#
#   start COLSxROWS            (re)start the console in a fresh COLSxROWS pane
#   shot NAME | KEYS | TEXT    send KEYS, wait until TEXT is on screen and the
#                              screen has stopped changing, save NAME.png
#   keys KEYS | TEXT           the same without saving a picture (to navigate)
#
# KEYS are tmux key names separated by spaces, sent one at a time: Enter,
# Escape, Tab, BTab, Up, Down, PageDown, Home, C-c, single characters (R, ?, /).
# Special tokens (no spaces inside a token; write a space as '_'):
#   text:customer_request      type literal text ('_' becomes a space)
#   wait:Some_text             wait until that text is on screen
#   sleep:0.5                  pause (use wait: where possible)
# TEXT may contain spaces. An empty KEYS field sends nothing.
# ============================================================================
SHOTS='
start 100x30
# Forage, the default provider; wait for the first page of orders
shot orders             |                                         | loaded
# the newest succeeded order (seed 1: 8fd32e06ce, paid by EBT SNAP + EBT Cash)
keys                      / text:succeeded                        | / succeeded
keys                      Enter                                   | esc clears
shot order              | Enter                                   | Payments (2)
shot payment            | Enter                                   | Metadata
keys                      Escape                                  | Payments (2)
shot help               | ?                                       | Keys
keys                      Escape                                  | Payments (2)
# refund the whole order behind the typed confirmation; the sandbox settles
# refunds after 3s and the console re-reads every 2s, so "processing" is on
# screen long enough for the capture
shot refund-confirm     | R wait:Reason text:customer_never_received_order Enter Enter Enter | and press enter to confirm
shot refund-live        | text:8fd32e06ce Enter                   | processing
shot refund-settled     |                                         | ↺ refunded
# hostile text from the sandbox (an OSC 52 clipboard write in the metadata
# of a payment) drawn harmlessly, with a visible placeholder
keys                      Escape                                  | loaded
keys                      g text:dabea11237 Enter                 | Order dabea11237
shot hostile            | Enter                                   | Metadata
# the other two providers
shot moyasar            | Tab wait:▸Moyasar_PG                    | loaded
shot digitalriver       | Tab wait:▸Digital_River                 | loaded
# g searches every provider, not only the tab on screen: the last four of a card
# and the amount, which Moyasar PG answers itself (seed 1: ••3935, 40.00 SAR)
shot search             | g C-u text:3935_40.00 Enter             | 1 found

start 80x24
shot orders-80x24       |                                         | loaded
# an 80x24 terminal running tmux with its status line gives an 80x23 pane
start 80x23
shot orders-80x23       |                                         | loaded
'
# ============================================================================

set -euo pipefail

SOCKET=paydesk-shots
SESSION=shots
SHOT_TIMEOUT=${SHOT_TIMEOUT:-15}
KEY_DELAY=0.15 # between keys, so Escape and the next key are not read as alt+key

die() {
	echo "capture.sh: $*" >&2
	exit 1
}

if ! command -v tmux >/dev/null 2>&1; then
	die "tmux is not installed; install it with: apt-get install -y tmux"
fi
command -v go >/dev/null 2>&1 || die "go is not installed"
# the fallback font ansi2png draws the status glyphs with; required, so the
# pictures do not silently lose them on a machine without it
fallback_font=""
for f in /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf \
	/usr/share/fonts/TTF/DejaVuSansMono.ttf \
	/usr/share/fonts/dejavu/DejaVuSansMono.ttf; do
	if [ -f "$f" ]; then
		fallback_font=$f
		break
	fi
done
[ -n "$fallback_font" ] || die "DejaVu Sans Mono is not installed; install it with: apt-get install -y fonts-dejavu-core"

# run from the repository root, wherever we were called from
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -f go.mod ] || die "cannot find the repository root (no go.mod in $(pwd))"
outdir=screenshots

only=("$@")

tmp=$(mktemp -d)
tm() { tmux -u -L "$SOCKET" -f "$tmp/tmux.conf" "$@"; }
cleanup() {
	tm kill-server >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$tmp/tmux.conf" <<'EOF'
set -g status off
set -g remain-on-exit on
set -g history-limit 0
EOF
# a server left over from an interrupted run would keep old settings
tm kill-server >/dev/null 2>&1 || true

echo "building paydesk and ansi2png..."
if [ -n "${PAYDESK_BIN:-}" ]; then
	[ -x "$PAYDESK_BIN" ] || die "PAYDESK_BIN=$PAYDESK_BIN is not an executable"
	cp "$PAYDESK_BIN" "$tmp/paydesk"
else
	go build -o "$tmp/paydesk" . || die "go build of the console failed"
fi
go build -o "$tmp/ansi2png" ./screenshots/ansi2png || die "go build of ansi2png failed"

# no provider configured: the console runs its embedded sandbox (seed 1, so
# the same orders every run; the refs in SHOTS depend on that)
mkdir -p "$tmp/home"

cols=0 rows=0

pane_text() { tm capture-pane -p -t "$SESSION" 2>/dev/null || true; }
pane_ansi() { tm capture-pane -p -e -N -t "$SESSION"; }
pane_dead() { [ "$(tm display-message -p -t "$SESSION" '#{pane_dead}' 2>/dev/null || echo 1)" = 1 ]; }

show_pane() {
	echo "---- pane ($cols x $rows) ----" >&2
	pane_text >&2
	echo "------------------------------" >&2
}

# wait_for TEXT [TIMEOUT]: poll the pane until TEXT appears
wait_for() {
	local text=$1 timeout=${2:-$SHOT_TIMEOUT} i
	for ((i = 0; i < timeout * 10; i++)); do
		if pane_text | grep -qF -- "$text"; then
			return 0
		fi
		if pane_dead; then
			show_pane
			die "the console exited while waiting for \"$text\""
		fi
		sleep 0.1
	done
	show_pane
	die "timed out after ${timeout}s waiting for \"$text\""
}

# settle: wait until two captures 0.2s apart are the same (at most ~3s, so
# a spinner cannot hold us up for ever)
settle() {
	local prev cur i
	prev=$(pane_ansi)
	for ((i = 0; i < 15; i++)); do
		sleep 0.2
		cur=$(pane_ansi)
		[ "$cur" = "$prev" ] && return 0
		prev=$cur
	done
}

start_console() {
	local size=$1
	[[ $size =~ ^([0-9]+)x([0-9]+)$ ]] || die "bad size \"$size\" (want COLSxROWS)"
	cols=${BASH_REMATCH[1]} rows=${BASH_REMATCH[2]}
	tm kill-session -t "$SESSION" >/dev/null 2>&1 || true
	# shellcheck disable=SC2086 # PAYDESK_ARGS is split on purpose
	# a clean environment and a throw-away HOME: no provider configured (from
	# the environment or a credentials file), no NO_COLOR or read-only mode
	# leaking in, and the refunds made here go to a throw-away audit log and
	# journal instead of the user's
	tm new-session -d -s "$SESSION" -x "$cols" -y "$rows" \
		"env -i PATH=$PATH HOME=$tmp/home LANG=C.UTF-8 TERM=xterm-256color COLORTERM=truecolor $tmp/paydesk ${PAYDESK_ARGS:-}"
	local size_now
	size_now=$(tm display-message -p -t "$SESSION" '#{pane_width}x#{pane_height}')
	[ "$size_now" = "$cols"x"$rows" ] || die "pane is $size_now, wanted ${cols}x$rows"
	echo "started the console in a ${cols}x$rows pane"
}

send_keys() {
	local tok
	for tok in "$@"; do
		case $tok in
		text:*) tm send-keys -t "$SESSION" -l -- "${tok#text:}" ;;
		wait:*) wait_for "${tok#wait:}" ;;
		sleep:*) sleep "${tok#sleep:}" ;;
		*) tm send-keys -t "$SESSION" -- "$tok" ;;
		esac
		sleep "$KEY_DELAY"
	done
}

wanted() {
	[ ${#only[@]} -eq 0 ] && return 0
	local n
	for n in "${only[@]}"; do
		[ "$n" = "$1" ] && return 0
	done
	return 1
}

trim() {
	local s=$1
	s=${s#"${s%%[![:space:]]*}"}
	s=${s%"${s##*[![:space:]]}"}
	printf '%s' "$s"
}

written=()
while IFS= read -r line; do
	line=${line%%#*}
	line=$(trim "$line")
	[ -z "$line" ] && continue
	verb=${line%%[[:space:]]*}
	rest=$(trim "${line#"$verb"}")
	case $verb in
	start)
		start_console "$rest"
		continue
		;;
	shot)
		IFS='|' read -r name keys text <<<"$rest"
		name=$(trim "$name")
		[[ $name =~ ^[A-Za-z0-9._-]+$ ]] || die "bad shot name \"$name\""
		;;
	keys)
		name=""
		IFS='|' read -r keys text <<<"$rest"
		;;
	*) die "unknown directive \"$verb\" in SHOTS" ;;
	esac
	[ "$cols" -gt 0 ] || die "\"$verb\" before any \"start\" in SHOTS"
	keys=$(trim "$keys")
	text=$(trim "$text")
	# spaces in text: tokens are written with '_'
	read -r -a toks <<<"$keys"
	for i in "${!toks[@]}"; do
		case ${toks[$i]} in
		text:* | wait:*) toks[i]=${toks[$i]//_/ } ;;
		esac
	done
	[ ${#toks[@]} -gt 0 ] && send_keys "${toks[@]}"
	[ -n "$text" ] && wait_for "$text"
	settle
	if [ -n "$name" ] && wanted "$name"; then
		pane_ansi >"$tmp/$name.ansi"
		"$tmp/ansi2png" -in "$tmp/$name.ansi" -out "$outdir/$name.png" -cols "$cols" -rows "$rows" -fallback-font "$fallback_font"
		[ "${KEEP_ANSI:-}" = 1 ] && cp "$tmp/$name.ansi" "$outdir/$name.ansi"
		echo "wrote $outdir/$name.png (${cols}x$rows)"
		written+=("$name")
	fi
done <<<"$SHOTS"

if [ ${#only[@]} -gt 0 ] && [ ${#written[@]} -ne ${#only[@]} ]; then
	die "asked for ${only[*]}, wrote ${written[*]:-nothing}"
fi
echo "done: ${#written[@]} screenshots"
