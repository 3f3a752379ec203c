# Sourced: installs node_modules with `npm ci` when missing or when package-lock.json changed since.
npm_deps() {
  local root=$1 sum marker
  command -v node >/dev/null || { echo "[deps] ERROR: node not found: install Node.js 20 (https://nodejs.org or apt-get install -y nodejs)" >&2; exit 1; }
  local major; major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 20 ] || { echo "[deps] ERROR: Node.js $major found, 20 or newer needed" >&2; exit 1; }
  sum=$(cksum < "$root/package-lock.json" | cut -d' ' -f1)
  marker="$root/node_modules/.qianfan-lock-$sum"
  if [ ! -f "$marker" ]; then
    echo "[deps] npm ci (package-lock.json changed or node_modules missing)"
    (cd "$root" && npm ci --no-audit --no-fund --loglevel=error) || { echo "[deps] ERROR: npm ci failed (see above); check access to the npm registry" >&2; exit 1; }
    touch "$marker"
  fi
}
