#!/usr/bin/env bash
# Opens the lesson side by side in one tmux window: a server, two client-v2s
# (from ports 50000 and 60000, as in the lesson's pictures) and peek --watch,
# which shows what the kernel holds for the server's port.
#
#   docs/side-by-side.sh          server-v2: the second client is never answered
#   docs/side-by-side.sh --v3     server-v3: both clients are answered
#
# Other options: --port N (default 12345), --client-ports A,B (default
# 50000,60000), --detached (start the tmux session without attaching to it).
set -euo pipefail

version=v2
port=12345
client_ports=50000,60000
attach=yes
while [ $# -gt 0 ]; do
  case "$1" in
    --v2) version=v2 ;;
    --v3) version=v3 ;;
    --port) port="${2:?--port needs a number}"; shift ;;
    --client-ports) client_ports="${2:?--client-ports needs two ports, e.g. 50000,60000}"; shift ;;
    --detached) attach=no ;;
    -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "side-by-side.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

if ! command -v tmux >/dev/null; then
  echo "side-by-side.sh: tmux is not installed; install it (Debian/Ubuntu: sudo apt-get install tmux, macOS: brew install tmux) and run this again" >&2
  exit 1
fi

first_port="${client_ports%,*}"
second_port="${client_ports#*,}"

root="$(cd "$(dirname "$0")/.." && pwd)"
cargo build --quiet --workspace --bins --manifest-path "$root/Cargo.toml"
bin="${CARGO_TARGET_DIR:-$root/target}/debug"

# The first client waits for the server to listen, and the second for the
# first to be accepted, so that the first is the one server-v2 serves.
wait_for() { echo "until $bin/peek --port $port --json | grep -q '$1'; do sleep 0.1; done"; }
client() {
  echo "$(wait_for "$2"); $bin/client-v2 --port $port --local-port $1; echo '(client ended: press Enter to close)'; read -r _"
}

session="lesson-$version-$port"
tmux kill-session -t "$session" 2>/dev/null || true
tmux new-session -d -s "$session" -x 200 -y 50 -n lesson \
  "$bin/server-$version --port $port; echo '(server ended: press Enter to close)'; read -r _"
tmux split-window -h -t "$session:lesson" "$bin/peek --port $port --watch"
tmux split-window -v -t "$session:lesson.0" "$(client "$first_port" '"listeners":\[{')"
tmux split-window -v -t "$session:lesson.2" "$(client "$second_port" "\"client_port\":$first_port,\"stage\":\"accepted\"")"
tmux select-pane -t "$session:lesson.1"

cat <<EOT
tmux session "$session": server-$version on port $port (top left), peek --watch
(top right), client-v2 from port $first_port (bottom left), client-v2 from port
$second_port (bottom right).

Type a line in the $first_port client and press Enter: it is answered.
Move to the $second_port client (Ctrl-b, then an arrow key) and type a line:
EOT
if [ "$version" = v2 ]; then
  cat <<EOT
  it is never answered. peek shows why: that connection is not accepted, and its
  bytes wait unread in the server's receive buffer. Type exit in the $first_port client
  and watch the server end and the $second_port client's connection reset.
EOT
else
  cat <<EOT
  it is answered too, by its own session thread (see the server's log).
EOT
fi
cat <<EOT
Ctrl-b d leaves the window; tmux kill-session -t $session ends everything.
EOT

if [ "$attach" = yes ]; then
  exec tmux attach -t "$session"
fi
