#!/usr/bin/env bash
# A single-node GlusterFS volume on loopback, mounted twice with FUSE, for the scale tests:
# two httpfs processes on two mounts of one volume behave as two hosts sharing it.
#
#   gluster.sh up DIR     glusterd, a 2-brick distribute volume (DIR/b1, DIR/b2) and two
#                         coherent FUSE mounts on DIR/m1 and DIR/m2
#   gluster.sh down DIR   unmount, stop and delete the volume, stop glusterd; safe after a
#                         partial or failed `up`, and when nothing is up at all
#
# Needs root, /dev/fuse and GlusterFS 10 (Debian: glusterfs-server glusterfs-client). No
# systemd: glusterd runs in the foreground of its own session with a private working
# directory and socket, so the host's /var/lib/glusterd is never touched. Bricks and FUSE
# clients daemonize themselves: they are tracked by pid file, never by name.
#
# Only one such setup per machine (glusterd's port 24007 and the bricks' sockets are fixed):
# `up` refuses to start beside a glusterd it did not start, and first tears down one that an
# earlier `up` left behind (a killed test run), which it finds through kStateFile: the
# setup's directory on the first line, the pid of the process that asked for it (the test or
# benchmark) on the second. A setup whose owner still runs is in use: `up` then refuses.
set -uo pipefail
# glusterd and glusterfs live in /usr/sbin, which a non-login shell may not have in PATH.
export PATH=$PATH:/usr/sbin:/sbin

readonly kVolume=httpfs_scale
readonly kHost=127.0.0.2             # the CLI refuses bricks on 127.0.0.1 and localhost
readonly kStateFile=/run/httpfs-scale-gluster.dir
readonly kStartTimeout=30            # seconds for glusterd to answer (about 15 s when loaded)
readonly kCliTimeout=60              # seconds for one gluster CLI command
readonly kMountTimeout=30            # seconds for a mount to come up and see both bricks

say() { printf 'gluster.sh: %s\n' "$*" >&2; }
# The directory of the setup recorded in kStateFile, if any.
state_dir() { sed -n 1p "$kStateFile" 2>/dev/null; }
die() {
  say "$*"
  exit 1
}

# --- processes, by pid file ------------------------------------------------------------------

# True when pid $1 runs and its command line contains $2 (a recycled pid is not ours, and a
# zombie is as good as gone).
alive() {
  local pid=$1 name=$2 state
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$name"
}

pid_in() { [[ -r $1 ]] && tr -dc 0-9 <"$1"; }

# Ends pid $1 (named $2): TERM, then KILL after $3 seconds.
stop_pid() {
  local pid=$1 name=$2 grace=${3:-10} i
  alive "$pid" "$name" || return 0
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < grace * 10; i++)); do
    alive "$pid" "$name" || return 0
    sleep 0.1
  done
  say "$name (pid $pid) ignored SIGTERM for ${grace}s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null
  for ((i = 0; i < 50; i++)); do
    alive "$pid" "$name" || return 0
    sleep 0.1
  done
  say "$name (pid $pid) is still there after SIGKILL"
  return 1
}

# --- the layout under DIR --------------------------------------------------------------------

setup_paths() {
  DIR=$(realpath -m -- "$1")
  WD=$DIR/glusterd            # glusterd's private working directory
  LOGS=$DIR/logs
  VOLFILE=$DIR/glusterd.vol
  SOCK=$DIR/glusterd.socket   # the CLI's way in (not the host's /run/glusterd.socket)
  GLUSTERD_PID=$DIR/glusterd.pid
}

# The pid file glusterd gives brick $1 (a path): /run/gluster/vols/VOL/HOST-<path, / as ->.pid
brick_pid_file() {
  local mangled=${1#/}
  echo "/run/gluster/vols/$kVolume/$kHost-${mangled//\//-}.pid"
}
brick_log_file() {
  local mangled=${1#/}
  echo "/var/log/glusterfs/bricks/${mangled//\//-}.log"
}

cli() {
  timeout --kill-after=5 "$kCliTimeout" gluster --mode=script --glusterd-sock="$SOCK" \
    --log-file="$LOGS/cli.log" "$@"
}

mounted() { awk -v mp="$1" '$2 == mp {found = 1} END {exit !found}' /proc/mounts; }

# --- down ------------------------------------------------------------------------------------

down() {
  setup_paths "$1"
  local status=0 m pid b
  [[ -d $DIR ]] || { [[ $(state_dir) == "$DIR" ]] && rm -f "$kStateFile"; return 0; }
  mkdir -p "$LOGS"

  for m in m1 m2; do
    if mounted "$DIR/$m"; then
      timeout 20 umount "$DIR/$m" 2>/dev/null || {
        say "umount $DIR/$m failed: lazy unmount"
        umount -l "$DIR/$m" || status=1
      }
    fi
    # The client exits once unmounted; one that hangs (or never mounted) is ended here.
    pid=$(pid_in "$DIR/$m.pid")
    [[ -n $pid ]] && { stop_pid "$pid" glusterfs 10 || status=1; }
    rm -f "$DIR/$m.pid"
  done

  pid=$(pid_in "$GLUSTERD_PID")
  if [[ -n $pid ]] && alive "$pid" glusterd; then
    # Stopping may fail when the volume never started; deleting when it was never created.
    cli volume stop "$kVolume" force >>"$LOGS/down.log" 2>&1
    cli volume delete "$kVolume" >>"$LOGS/down.log" 2>&1
  fi
  # Bricks that outlived the stop (or a glusterd that died first).
  for b in "$DIR/b1" "$DIR/b2"; do
    pid=$(pid_in "$(brick_pid_file "$b")")
    [[ -n $pid ]] && { stop_pid "$pid" glusterfsd 10 || status=1; }
    rm -f "$(brick_pid_file "$b")" "$(brick_log_file "$b")"
  done
  pid=$(pid_in "$GLUSTERD_PID")
  [[ -n $pid ]] && { stop_pid "$pid" glusterd 15 || status=1; }
  rm -f "$GLUSTERD_PID"
  rmdir "/run/gluster/vols/$kVolume" 2>/dev/null

  # Bricks carry the volume's id in xattrs: remove them so that `up DIR` can start afresh.
  for m in m1 m2; do
    mounted "$DIR/$m" || rm -rf "${DIR:?}/$m"
  done
  [[ $status == 0 ]] && rm -rf "${DIR:?}/b1" "${DIR:?}/b2" "$WD" "$SOCK" "$VOLFILE"
  [[ $(state_dir) == "$DIR" ]] && rm -f "$kStateFile"
  return $status
}

# --- up --------------------------------------------------------------------------------------

# Waits until $1 is a glusterfs mount that sees both bricks: files written through it (their
# names hash to both bricks) are read back through mount $2 as well.
await_mount() {
  local mp=$1 other=$2 deadline=$((SECONDS + kMountTimeout)) i ok
  while ((SECONDS < deadline)); do
    if mounted "$mp" && stat "$mp/." >/dev/null 2>&1; then
      ok=1
      for i in 0 1 2 3 4 5 6 7; do
        { echo "probe $i" >"$mp/.probe-$i" && [[ $(cat "$other/.probe-$i" 2>/dev/null) == "probe $i" ]]; } ||
          ok=0
      done
      rm -f "$mp"/.probe-*
      [[ $ok == 1 ]] && return 0
    fi
    sleep 0.2
  done
  return 1
}

up() {
  setup_paths "$1"
  local previous owner pid m b i deadline

  [[ $EUID == 0 ]] || die "needs root (FUSE mounts, glusterd)"
  [[ -c /dev/fuse ]] || die "no /dev/fuse"
  for b in glusterd glusterfs gluster; do
    command -v "$b" >/dev/null || die "$b is not installed (Debian: glusterfs-server glusterfs-client)"
  done

  # A setup an earlier run left behind (killed before its `down`) is ours to end.
  previous=$(state_dir)
  owner=$(sed -n 2p "$kStateFile" 2>/dev/null)
  if [[ -n $previous && -n $owner ]] && kill -0 "$owner" 2>/dev/null; then
    die "the setup in $previous is in use by pid $owner: one setup per machine"
  fi
  if [[ -n $previous ]]; then
    say "tearing down the setup left in $previous"
    down "$previous" || die "cannot tear down the earlier setup in $previous"
    setup_paths "$1"
  fi
  # (pgrep lists zombies too: an init that reaps late keeps them for seconds.)
  for pid in $(pgrep -x glusterd); do
    alive "$pid" glusterd && die "a glusterd not started by this script runs (pid $pid): one setup per machine"
  done
  for pid in $(pgrep -f "volfile-id $kVolume\."); do
    alive "$pid" "$kVolume" && die "a brick of volume $kVolume runs (pid $pid) without its glusterd"
  done

  mkdir -p "$DIR" "$LOGS" "$WD" "$DIR/b1" "$DIR/b2" "$DIR/m1" "$DIR/m2" || die "cannot make $DIR"
  printf '%s\n%s\n' "$DIR" "$PPID" >"$kStateFile"
  cp -a /var/lib/glusterd/groups /var/lib/glusterd/hooks "$WD/" ||
    die "cannot copy groups/ and hooks/ from /var/lib/glusterd"
  # glusterd wants the hooks' directories, not the scripts (SELinux, Samba, CTDB, Ganesha,
  # glusterfind): they run detached after an operation, and the one after `volume delete`
  # outlives glusterd, asking the host's default socket.
  find "$WD/hooks" ! -type d -delete
  cat >"$VOLFILE" <<EOF
volume management
    type mgmt/glusterd
    option working-directory $WD
    option glusterd-sockfile $SOCK
    option transport-type socket
    option transport.socket.bind-address $kHost
    option transport.socket.listen-port 24007
    option transport.socket.keepalive-time 10
    option transport.socket.keepalive-interval 2
    option transport.socket.read-fail-log off
    option ping-timeout 0
    option event-threads 1
    option max-port 60999
end-volume
EOF

  # In a session of its own, so that it is nobody's job; the pid is known before glusterd
  # writes its own pid file, so a `down` after a failure here still finds it.
  setsid glusterd -N -f "$VOLFILE" --log-file="$LOGS/glusterd.log" </dev/null \
    >>"$LOGS/glusterd.out" 2>&1 &
  echo $! >"$GLUSTERD_PID"
  deadline=$((SECONDS + kStartTimeout))
  until cli pool list >/dev/null 2>&1; do
    alive "$(pid_in "$GLUSTERD_PID")" glusterd || die "glusterd exited at start: see $LOGS/glusterd.log"
    ((SECONDS < deadline)) || die "glusterd did not answer within ${kStartTimeout}s"
    sleep 0.3
  done

  # Two bricks (distribute): DHT hashing decides where a name lives, as in a real volume.
  # `force`: the bricks are on the root file system.
  cli volume create "$kVolume" "$kHost:$DIR/b1" "$kHost:$DIR/b2" force >>"$LOGS/up.log" 2>&1 ||
    die "volume create failed: $(tail -n 3 "$LOGS/up.log")"
  # Without these, two mounts disagree for about a second and show old versions in renames.
  for i in performance.stat-prefetch performance.quick-read performance.open-behind; do
    cli volume set "$kVolume" "$i" off >>"$LOGS/up.log" 2>&1 || die "volume set $i off failed"
  done
  cli volume start "$kVolume" >>"$LOGS/up.log" 2>&1 ||
    die "volume start failed: $(tail -n 3 "$LOGS/up.log")"

  # The glusterfs binary itself: `mount -t glusterfs -o fopen-keep-cache=off` passes "==off"
  # in 10.3. The client daemonizes once it has its volfile.
  for m in m1 m2; do
    timeout 30 glusterfs --volfile-server="$kHost" --volfile-id="$kVolume" \
      --fopen-keep-cache=off --attribute-timeout=0 --entry-timeout=0 --negative-timeout=0 \
      --pid-file="$DIR/$m.pid" --log-file="$LOGS/$m.log" "$DIR/$m" >>"$LOGS/up.log" 2>&1 ||
      die "mounting $DIR/$m failed: see $LOGS/$m.log"
  done
  { await_mount "$DIR/m1" "$DIR/m2" && await_mount "$DIR/m2" "$DIR/m1"; } ||
    die "the mounts did not both see the volume within ${kMountTimeout}s: see $LOGS/m1.log"
}

case "${1:-}" in
  up)
    [[ $# == 2 ]] || die "usage: gluster.sh up DIR"
    start=$SECONDS
    if ! (up "$2"); then
      say "up failed: tearing down what was started"
      down "$2"
      exit 1
    fi
    say "up in $((SECONDS - start))s: $2/m1 and $2/m2"
    ;;
  down)
    [[ $# == 2 ]] || die "usage: gluster.sh down DIR"
    down "$2" || die "down left something behind in $2"
    ;;
  *) die "usage: gluster.sh up|down DIR" ;;
esac
