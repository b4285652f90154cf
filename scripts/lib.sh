# Shared by scripts/serve, scripts/test and .ci/run. Sourced, not run.

# Debian 12 packages for building, testing and the real peers the tests talk to.
HTTPFS_PACKAGES=(
  meson ninja-build pkg-config g++ python3
  libuv1-dev libspdlog-dev libfmt-dev libssl-dev libcrypt-dev libexpat1-dev
  doctest-dev nlohmann-json3-dev libhttp-parser-dev
  curl nginx-light openssl ca-certificates litmus rclone
  zlib1g-dev libzstd-dev libbrotli-dev zstd brotli unzip libarchive-tools p7zip-full
  libnghttp2-dev nghttp2-client python3-h2 tinyproxy apache2-bin lighttpd wget
  glusterfs-server glusterfs-client haproxy slowhttptest libfaketime
  chromium
)

# Installs whichever of HTTPFS_PACKAGES is missing; does nothing when all are there.
ensure_packages() {
  local missing=() p
  for p in "${HTTPFS_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    ensure_npm_packages
    return
  fi
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "error: run as root or install sudo (missing: ${missing[*]})" >&2; return 1; }
    sudo=sudo
  fi
  echo "Installing: ${missing[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
  ensure_npm_packages
}

# npm packages of the real peers the tests talk to, pinned: tus-js-client judges the resumable
# uploads (tests/integration/resumable_tus_test.cpp), with 4.x's protocol 'ietf-draft-05';
# playwright-core drives Debian's chromium (never a downloaded browser) to judge compression
# (tests/integration/browser_test.cpp).
HTTPFS_NPM_PACKAGES=(tus-js-client@4.3.1 playwright-core@1.64.1)
# Where they go: beside the script that loads them, gitignored (node finds them from there;
# tests/integration/browser/fetch.cjs through NODE_PATH).
HTTPFS_NPM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/integration/tus

# Installs HTTPFS_NPM_PACKAGES into HTTPFS_NPM_DIR/node_modules when one of them is missing or
# at another version; does nothing when all are there. Brings Debian's nodejs and npm only when
# there is no npm at all (a machine's own Node.js, e.g. NodeSource's, is kept). A failure here
# only warns: the tests that need these say so (and fail under CI=true) while the rest run.
ensure_npm_packages() {
  local spec name version stale=0
  for spec in "${HTTPFS_NPM_PACKAGES[@]}"; do
    name=${spec%@*}
    version=${spec##*@}
    grep -qs "\"version\": *\"$version\"" "$HTTPFS_NPM_DIR/node_modules/$name/package.json" ||
      stale=1
  done
  [ $stale -eq 0 ] && return 0
  if ! command -v npm >/dev/null; then
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo=sudo
    echo "Installing: nodejs npm"
    { $sudo apt-get update -q &&
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends nodejs npm; } ||
      { echo "warning: could not install nodejs and npm" >&2; return 0; }
  fi
  # All of them at once: an install without a package.json drops what it was not given.
  echo "Installing (npm): ${HTTPFS_NPM_PACKAGES[*]}"
  npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
    --prefix "$HTTPFS_NPM_DIR" "${HTTPFS_NPM_PACKAGES[@]}" ||
    echo "warning: npm could not install ${HTTPFS_NPM_PACKAGES[*]} into $HTTPFS_NPM_DIR" >&2
}

# Configures build directory $1 with the remaining arguments, once; later calls keep it.
configure_build() {
  local dir=$1
  shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@"
  fi
}
