#!/usr/bin/env bash
# Opens the lesson side by side in one tmux window: a server, two client-v2s
# (from ports 50000 and 60000, as in the lesson's pictures) and peek --watch,
# which shows what the kernel holds for the server's port. `--help` says how.
#
# Works with bash 3.2 (macOS) and later, and tmux 2.6 or later, on Linux and
# macOS. Windows has no tmux: the README shows the same lesson in four
# terminals.
#
# Each pane runs this script again as `side-by-side.sh --pane ROLE ...` (an
# internal mode, not for people): the server's pane copies the server's output
# into a log file, and the clients wait on that log, which every system
# writes, rather than on the kernel's table, which not every system can read
# the same way (macOS cannot tell an accepted connection from a queued one).
set -euo pipefail

me=side-by-side.sh
synopsis="usage: $me [--v2 | --v3] [--port N] [--client-ports A,B] [--detached] [--replace] [--tmux-socket NAME]"

# The smallest terminal the layout is readable in. peek's table is about 70
# columns wide; at 80 columns, with two clients, it takes 12 lines on Linux
# and 15 on macOS, whose table adds "not reported" notes. Above it: the server
# (3 lines), the two clients side by side (4 lines), a title line for each
# row of panes, and tmux's status line.
case "$(uname -s)" in
  Linux) peek_lines=12 ;;
  *) peek_lines=15 ;;
esac
min_cols=80
min_lines=$((peek_lines + 3 + 4 + 3 + 1))
[ "$min_lines" -ge 24 ] || min_lines=24
# How long anything waits for the server, in tenths of a second.
patience=300
# The line the server's pane appends to the log when the server has exited.
end_marker='#side-by-side: the server exited with status'

usage() {
  cat <<EOT
$synopsis

Opens the lesson in one tmux window: server-v2 (or server-v3) on port N, two
client-v2s connecting from ports A and B, and peek --watch, the kernel's view
of port N. Type in the clients' panes; each pane's title says what to do.

  --v2                the lesson's problem: the second client is never answered
                      (the default)
  --v3                a thread per client: both clients are answered
  --port N            the server's port, 1 to 65535 (default 12345)
  --client-ports A,B  the two clients' local ports (default 50000,60000)
  --detached          open it without switching to it: from outside tmux, a
                      detached session (tmux attach -t lesson-v2-N to see it)
  --replace           close a window this script opened before for the same
                      version and port, and open it anew
  --tmux-socket NAME  use the tmux server named NAME (tmux -L NAME) instead of
                      the default one; the tests use it to keep off yours
  -h, --help          print this text

From inside tmux it opens a window in the current session; from outside, a new
session, and attaches to it. Either is named lesson-v2-N (or lesson-v3-N), so
v2 and v3, or two ports, can be open at once; if that name is already open it
says so and stops (or, with --replace, closes it first).

The terminal must be at least 80x24 (columns x lines) on Linux, 80x26 on
macOS, where peek's table has more to say; on a taller one, a pane at the top
says what to do.

It starts the server, and stops (closing everything it opened) if the server
cannot listen: if the port is taken, one line says by what. Two servers cannot
share a port: run v2 and v3 side by side with different --port values.

Close the window with Ctrl-b & (or tmux kill-window -t lesson-v2-N).
EOT
}

usage_error() {
  echo "$me: $1" >&2
  echo "$synopsis (--help says more)" >&2
  exit 2
}

# A port number from 1 to 65535, or nothing.
port_number() {
  case "$1" in
    '' | *[!0-9]* | ??????*) return 1 ;;
  esac
  [ "$((10#$1))" -ge 1 ] && [ "$((10#$1))" -le 65535 ] && echo "$((10#$1))"
}

# $1 quoted for the shell that tmux runs a pane's command with (sh, bash,
# zsh, fish all read '...' with '\'' inside the same way).
quote() {
  local q="'" rest=$1 quoted=
  while :; do
    case "$rest" in
      *"$q"*)
        quoted="$quoted${rest%%"$q"*}$q\\$q$q"
        rest=${rest#*"$q"}
        ;;
      *) break ;;
    esac
  done
  printf "'%s'" "$quoted$rest"
}

# --- The panes (the internal --pane mode) ------------------------------------

# Keeps a pane on screen after its program ended, until Enter.
hold() {
  echo "($1: press Enter to close)"
  read -r _ || true
}

# Waits until the server's log has a line containing $1, saying that it waits
# for $2. Fails, saying why, if the server ends first or the wait runs out.
wait_in_log() {
  local log=$1 needle=$2 what=$3 tenths=0
  echo "waiting for $what..."
  while [ "$tenths" -lt "$patience" ]; do
    if [ ! -e "$log" ]; then
      echo "$me: the server's pane is gone: nothing to wait for."
      return 1
    fi
    if grep -qF -- "$needle" "$log"; then
      return 0
    fi
    if grep -qF -- "$end_marker" "$log"; then
      echo "$me: the server ended first: see its pane."
      return 1
    fi
    sleep 0.1
    tenths=$((tenths + 1))
  done
  echo "$me: no sign of it after $((patience / 10)) s: see the server's pane."
  return 1
}

pane_server() {
  local bin=$1 log=$2 version=$3 port=$4 status
  # The log's directory is this pane's: it goes when the pane does, also
  # when the pane is killed (rm, in the pane's process group, ignoring the
  # hang-up that killing it sends).
  # shellcheck disable=SC2064 # the path is known now, and is what to remove
  trap "trap '' HUP TERM; rm -rf '${log%/*}'" EXIT
  "$bin/server-$version" --port "$port" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  echo "$end_marker $status" >>"$log"
  hold "server ended"
}

pane_client() {
  local bin=$1 log=$2 version=$3 port=$4 local_port=$5 after=${6:-}
  if ! wait_in_log "$log" "] listening on " "server-$version to listen on port $port"; then
    hold "client not started"
    return
  fi
  # server-v2 serves the first client it accepts: the second connects only
  # once the server's log says it accepted the first.
  if [ -n "$after" ] &&
    ! wait_in_log "$log" "] connected: client 127.0.0.1:$after ->" "server-$version to accept the client from :$after"; then
    hold "client not started"
    return
  fi
  # The pane is small: the waits' lines go, the client's stay.
  tput clear 2>/dev/null || printf '\033[H\033[2J'
  "$bin/client-v2" --port "$port" --local-port "$local_port" || true
  hold "client ended"
}

pane_peek() {
  local bin=$1 port=$2
  "$bin/peek" --port "$port" --watch || true
  hold "peek ended"
}

pane_notes() {
  stty -echo 2>/dev/null || true
  tput civis 2>/dev/null || true
  printf '%s' "$1"
  while :; do sleep 3600; done
}

if [ "${1:-}" = --pane ]; then
  set +e
  role=${2:-}
  shift 2
  case "$role" in
    server) pane_server "$@" ;;
    client) pane_client "$@" ;;
    peek) pane_peek "$@" ;;
    notes) pane_notes "$@" ;;
    *) echo "$me: no pane $role" >&2 ;;
  esac
  exit 0
fi

# --- Options -------------------------------------------------------------------

version=v2
port=12345
client_ports=50000,60000
attach=yes
replace=no
socket=
while [ $# -gt 0 ]; do
  case "$1" in
    --v2) version=v2 ;;
    --v3) version=v3 ;;
    --port)
      [ $# -ge 2 ] || usage_error "--port needs a port number, 1 to 65535"
      port=$(port_number "$2") || usage_error "--port needs a port number, 1 to 65535, not '$2'"
      shift
      ;;
    --client-ports)
      [ $# -ge 2 ] || usage_error "--client-ports needs two port numbers, e.g. 50000,60000"
      client_ports=$2
      shift
      ;;
    --detached) attach=no ;;
    --replace) replace=yes ;;
    --tmux-socket)
      [ -n "${2:-}" ] || usage_error "--tmux-socket needs a name, as tmux -L takes"
      socket=$2
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) usage_error "unknown option '$1'" ;;
  esac
  shift
done

case "$client_ports" in
  *,*) ;;
  *) usage_error "--client-ports needs two port numbers, e.g. 50000,60000, not '$client_ports'" ;;
esac
if ! first_port=$(port_number "${client_ports%%,*}") || ! second_port=$(port_number "${client_ports#*,}") ||
  [ "$first_port" = "$second_port" ]; then
  usage_error "--client-ports needs two different port numbers, e.g. 50000,60000, not '$client_ports'"
fi

# --- tmux, and where the window goes -------------------------------------------

if ! command -v tmux >/dev/null; then
  echo "$me: tmux is not installed; install it (Debian/Ubuntu: sudo apt-get install tmux, macOS: brew install tmux), or run the four programs in four terminals as the README shows" >&2
  exit 1
fi
tmux_version=$(tmux -V 2>/dev/null | sed -n 's/^[^0-9]*\([0-9][0-9]*\)\.\([0-9][0-9]*\).*/\1 \2/p')
if [ -n "$tmux_version" ]; then
  read -r major minor <<<"$tmux_version"
  if [ "$major" -lt 2 ] || { [ "$major" -eq 2 ] && [ "$minor" -lt 6 ]; }; then
    echo "$me: this is tmux $major.$minor; the lesson's window needs tmux 2.6 or later (pane titles)" >&2
    exit 1
  fi
fi

tmux=(tmux)
[ -z "$socket" ] || tmux+=(-L "$socket")
tm() { "${tmux[@]}" "$@"; }

# Inside tmux (on the tmux server this script uses): a new window in the
# current session. Outside: a new session.
inside=no
if [ -n "${TMUX:-}" ]; then
  tmux_path=${TMUX%%,*}
  if [ -z "$socket" ] || [ "${tmux_path##*/}" = "$socket" ]; then
    inside=yes
  elif [ "$attach" = yes ]; then
    echo "$me: this terminal is in another tmux server than --tmux-socket $socket: pass --detached, or run it outside tmux" >&2
    exit 1
  fi
fi

name="lesson-$version-$port"
# Fails, in one line, if $2x$3 is smaller than $4x$5 (columns x lines).
need() {
  if [ "$2" -lt "$4" ] || [ "$3" -lt "$5" ]; then
    echo "$me: $1 is ${2}x$3 (columns x lines); the lesson needs at least ${4}x$5: enlarge it, or run the four programs in four terminals (README, By hand)" >&2
    exit 1
  fi
}
if [ "$inside" = yes ]; then
  format='#{session_id} #{window_width} #{window_height}'
  if [ -n "${TMUX_PANE:-}" ]; then
    info=$(tm display-message -p -t "$TMUX_PANE" "$format")
  else
    info=$(tm display-message -p "$format")
  fi
  read -r session width height <<<"$info"
  # A window's lines do not count tmux's status line; the terminal's do, and
  # the size asked for is the terminal's, as --help says.
  need "this tmux window, with its status line," "$width" $((height + 1)) "$min_cols" "$min_lines"
else
  size=
  if [ "$attach" = yes ]; then
    if ! [ -t 0 ] || ! [ -t 1 ]; then
      echo "$me: not run from a terminal, so there is nothing to show the window in: pass --detached" >&2
      exit 1
    fi
    size=$(stty size 2>/dev/null) || size="$(tput lines) $(tput cols)"
    read -r lines width <<<"$size"
    need "this terminal" "$width" "$lines" "$min_cols" "$min_lines"
  else
    # Detached: as big as this terminal, if there is one, else the minimum.
    if [ -t 0 ]; then
      size=$(stty size 2>/dev/null) || size=
    fi
    read -r lines width <<<"${size:-$min_lines $min_cols}"
    if [ "$width" -lt "$min_cols" ] || [ "$lines" -lt "$min_lines" ]; then
      lines=$min_lines width=$min_cols
    fi
  fi
  height=$((lines - 1)) # the status line takes one
fi

# One window per version and port: never replace another's.
open_windows() {
  # The ids of the windows named $name, in any session.
  { tm list-windows -a -F '#{window_id} #{window_name}' 2>/dev/null || true; } |
    awk -v name="$name" '{ id = $1; $1 = ""; sub(/^ /, "") } $0 == name { print id }'
}
session_named() {
  { tm list-sessions -F '#{session_name}' 2>/dev/null || true; } | grep -qxF -- "$name"
}
if [ -n "$(open_windows)" ] || session_named; then
  if [ "$replace" = no ]; then
    echo "$me: tmux window $name is already open: switch to it, or pass --replace to open it anew" >&2
    exit 1
  fi
  for window in $(open_windows); do
    tm kill-window -t "$window" 2>/dev/null || true
  done
  if session_named; then
    tm kill-session -t "=$name" 2>/dev/null || true
  fi
fi

# --- The programs ----------------------------------------------------------------

root="$(cd "$(dirname "$0")/.." && pwd)"
# The cargo that runs this (cargo test), or the one on PATH.
cargo=${CARGO:-cargo}
if ! command -v "$cargo" >/dev/null; then
  echo "$me: cargo is not installed: see https://rustup.rs" >&2
  exit 1
fi
self="$root/docs/$(basename "$0")"
[ -t 2 ] && printf '%s' "$me: building the programs (cargo build)..." >&2
# Only the four programs the window runs.
if ! built=$("$cargo" build --quiet --manifest-path "$root/Cargo.toml" \
  -p server-v2 -p server-v3 -p client -p socket-lesson \
  --bin server-v2 --bin server-v3 --bin client-v2 --bin peek 2>&1); then
  [ -t 2 ] && echo >&2
  printf '%s\n' "$built" >&2
  echo "$me: building the programs failed (above)" >&2
  exit 1
fi
[ -t 2 ] && printf '\r\033[K' >&2
target=$("$cargo" metadata --format-version 1 --no-deps --manifest-path "$root/Cargo.toml" 2>/dev/null |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p') || true
bin="${target:-${CARGO_TARGET_DIR:-$root/target}}/debug"

# With --replace, the old window's server may take a moment to let go.
tenths=0
while [ "$replace" = yes ] && [ "$tenths" -lt 50 ] &&
  "$bin/peek" --port "$port" --json 2>/dev/null | grep -q '"listeners":\[{'; do
  sleep 0.1
  tenths=$((tenths + 1))
done

# --- The window ------------------------------------------------------------------

dir=$(mktemp -d "${TMPDIR:-/tmp}/side-by-side.XXXXXX")
log="$dir/server.log"
: >"$log"

# Whatever goes wrong from here, nothing half-started stays behind.
window=
cleanup() {
  if [ -n "$window" ]; then
    if [ "$inside" = yes ]; then
      tm kill-window -t "$window" 2>/dev/null || true
    else
      tm kill-session -t "$session" 2>/dev/null || true
    fi
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

pane() {
  local command word
  command="$(quote "$BASH") $(quote "$self") --pane"
  for word in "$@"; do
    command="$command $(quote "$word")"
  done
  printf '%s' "$command"
}

# The user's tmux prefix key (the server reads its configuration as it starts).
prefix=$(tm start-server \; show-options -gv prefix 2>/dev/null) || prefix=C-b
prefix=${prefix/C-/Ctrl-}
if [ "$version" = v2 ]; then
  server_title="server-v2 on :$port: serves one client; exit in :$first_port ends it"
  second_title="client :$second_port: type: no reply"
  notes="server-v2 serves one client at a time. In client :$first_port, type a line
and press Enter: it is answered. Then type one in client :$second_port: it is never
answered. peek shows why: one connection waits in the accept queue, and its
bytes lie unread in the server's receive buffer. Type exit in :$first_port:
server-v2 ends, and client :$second_port's connection is reset."
else
  server_title="server-v3 on :$port: a session thread per client"
  second_title="client :$second_port: type: answered"
  notes="server-v3's main thread only accepts; each client gets its own session
thread. In client :$first_port, type a line and press Enter: it is answered.
Then type one in client :$second_port: it is answered too, by another thread
(the server's log names it). peek shows no connection left in the accept queue."
fi
if [ "$inside" = yes ]; then
  keys="$prefix arrow: move; $prefix &: close"
else
  keys="$prefix arrow: move; $prefix d: detach; $prefix &: close"
fi
notes="$notes
$keys"
notes_lines=$(($(printf '%s\n' "$notes" | wc -l)))

# The layout, top to bottom, each pane under a title line:
#   [notes: what to do, when there is room]
#   the server's log, full width
#   client A | client B
#   peek --watch, full width (its table is about 70 columns wide)
# At 80x24 there is no room for the notes pane: the titles and the status line
# say what to do.
# Lines for the panes' contents, without their title lines; the notes pane
# when the others still get 4 lines for the server and 6 for the clients.
if [ $((height - 4 - notes_lines - peek_lines)) -ge 10 ]; then
  with_notes=yes
  rest=$((height - 4 - notes_lines - peek_lines))
else
  with_notes=no
  rest=$((height - 3 - peek_lines))
fi
server_lines=$((rest * 2 / 5))
[ "$server_lines" -ge 3 ] || server_lines=3
client_lines=$((rest - server_lines))

if [ "$with_notes" = yes ]; then
  first=$(pane notes "$notes")
else
  first=$(pane server "$bin" "$log" "$version" "$port")
fi
if [ "$inside" = yes ]; then
  created=$(tm new-window -d -t "$session:" -n "$name" -P -F '#{window_id} #{pane_id}' "$first")
else
  created=$(tm new-session -d -s "$name" -n "$name" -x "$width" -y "$height" \
    -P -F '#{session_id} #{window_id} #{pane_id}' "$first")
  session=${created%% *}
  created=${created#* }
fi
window=${created%% *}
top=${created#* }

tm set-window-option -t "$window" pane-border-status top >/dev/null
tm set-window-option -t "$window" pane-border-format ' #{pane_title} ' >/dev/null
split() {
  local target=$1 direction=$2 size=$3
  shift 3
  tm split-window -d "$direction" -t "$target" -l "$size" -P -F '#{pane_id}' "$(pane "$@")"
}
peek=$(split "$top" -v "$peek_lines" peek "$bin" "$port")
client_a=$(split "$top" -v "$client_lines" client "$bin" "$log" "$version" "$port" "$first_port")
client_b=$(split "$client_a" -h "$(((width - 1) / 2))" \
  client "$bin" "$log" "$version" "$port" "$second_port" "$first_port")
if [ "$with_notes" = yes ]; then
  server=$(split "$top" -v "$server_lines" server "$bin" "$log" "$version" "$port")
  tm select-pane -t "$top" -T "what to do" >/dev/null
else
  server=$top
fi
tm select-pane -t "$server" -T "$server_title"
tm select-pane -t "$client_a" -T "client :$first_port: type a line, Enter"
tm select-pane -t "$client_b" -T "$second_title"
if [ "$inside" = yes ]; then
  # The status line is the user's: the keys go in a title.
  tm select-pane -t "$peek" -T "peek: the kernel's view of :$port; $keys"
else
  tm select-pane -t "$peek" -T "peek: the kernel's view of :$port"
fi
tm select-pane -t "$client_a"
if [ "$inside" = no ]; then
  tm set-option -t "$session" status-left "" >/dev/null
  tm set-option -t "$session" status-right " $keys " >/dev/null
  tm set-option -t "$session" status-right-length 80 >/dev/null
fi

# --- Is this server the one listening? -------------------------------------------

# The server says `listening on 127.0.0.1:PORT`, or exits with
# `cannot listen on ...: Address already in use`.
outcome=timeout
tenths=0
while [ "$tenths" -lt "$patience" ]; do
  if grep -qF "] listening on " "$log"; then
    outcome=listening
    break
  elif grep -qF -- "$end_marker" "$log"; then
    outcome=ended
    break
  fi
  sleep 0.1
  tenths=$((tenths + 1))
done

# "NAME (pid PID[, tmux window W])" for what listens on the port, or nothing.
port_holder() {
  local found='' pid command panes ancestor steps=0 window_name
  if command -v lsof >/dev/null; then
    found=$(lsof -nP -iTCP:"$port" -sTCP:LISTEN -Fpc 2>/dev/null |
      awk '/^p/ && !p { p = substr($0, 2) } /^c/ && !c { c = substr($0, 2) } END { if (p) print p, c }') || true
  fi
  if [ -z "$found" ] && command -v ss >/dev/null; then
    found=$(ss -ltnp "sport = :$port" 2>/dev/null |
      sed -n 's/.*users:(("\([^"]*\)",pid=\([0-9]*\),.*/\2 \1/p' | head -n 1) || true
  fi
  [ -n "$found" ] || return 0
  pid=${found%% *}
  command=${found#* }
  # If it runs in a tmux pane (another lesson window), name the window.
  panes=$(tm list-panes -a -F '#{pane_pid} #{window_name}' 2>/dev/null) || panes=
  ancestor=$pid
  window_name=
  while [ -n "$panes" ] && [ "$steps" -lt 4 ] && [ -n "$ancestor" ] && [ "$ancestor" -gt 1 ]; do
    window_name=$(awk -v pid="$ancestor" '$1 == pid { $1 = ""; sub(/^ /, ""); print; exit }' <<<"$panes")
    [ -z "$window_name" ] || break
    ancestor=$(ps -o ppid= -p "$ancestor" 2>/dev/null | tr -d ' ') || ancestor=
    steps=$((steps + 1))
  done
  if [ -n "$window_name" ]; then
    echo "$command (pid $pid, tmux window $window_name)"
  else
    echo "$command (pid $pid)"
  fi
}

case "$outcome" in
  listening) ;;
  ended)
    error=$(grep -v -F -- "$end_marker" "$log" | grep -F 'error:' | head -n 1) || true
    case "$error" in
      *"already in use"*)
        what=$(port_holder)
        echo "$me: port $port is taken by ${what:-another program}: stop it or pass --port N" >&2
        ;;
      *)
        echo "$me: server-$version did not start: ${error:-it exited without saying why}" >&2
        ;;
    esac
    exit 1
    ;;
  timeout)
    echo "$me: server-$version did not say it was listening on port $port within $((patience / 10)) s" >&2
    exit 1
    ;;
esac

# Started: from here the window is the learner's, and the server's pane owns
# the log's directory.
trap - EXIT HUP INT TERM

if [ "$inside" = yes ]; then
  echo "$me: opened tmux window $name (server-$version on port $port)"
  [ "$attach" = no ] || tm select-window -t "$window"
elif [ "$attach" = yes ]; then
  exec "${tmux[@]}" attach-session -t "$session"
else
  echo "$me: opened tmux session $name (server-$version on port $port): tmux${socket:+ -L $socket} attach -t $name"
fi
