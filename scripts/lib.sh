# Shared by scripts/serve, scripts/test and .ci/run. Sourced, not run.

# Debian 12 packages for building, testing and the real peers the tests talk to.
HTTPFS_PACKAGES=(
  meson ninja-build pkg-config g++ python3
  libuv1-dev libspdlog-dev libfmt-dev libssl-dev libcrypt-dev libexpat1-dev
  doctest-dev nlohmann-json3-dev libhttp-parser-dev
  curl nginx-light openssl ca-certificates litmus rclone
)

# Installs whichever of HTTPFS_PACKAGES is missing; does nothing when all are there.
ensure_packages() {
  local missing=() p
  for p in "${HTTPFS_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "error: run as root or install sudo (missing: ${missing[*]})" >&2; return 1; }
    sudo=sudo
  fi
  echo "Installing: ${missing[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# Configures build directory $1 with the remaining arguments, once; later calls keep it.
configure_build() {
  local dir=$1
  shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@"
  fi
}
