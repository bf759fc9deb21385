#!/usr/bin/env bash
# Installs the system packages Silkledger's distributed mode and its tests need: the etcd
# server (/usr/bin/etcd, Debian package etcd-server) and its command-line client (etcdctl,
# Debian package etcd-client), and the browser the web UI's tests drive (/usr/bin/chromium,
# Debian package chromium). Idempotent: when all three are present it exits at once without
# calling apt-get. Run as root, or as a user who may use sudo.
set -euo pipefail

missing=()
command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || missing+=(etcd-client)
[ -x /usr/bin/chromium ] || missing+=(chromium)

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "install-system-packages: ${missing[*]} missing and this user can neither install packages (not root) nor use sudo without a password." >&2
  echo "install-system-packages: install them as root: apt-get install -y ${missing[*]}" >&2
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system-packages: ${missing[*]} missing and apt-get is not available on this system; install etcd 3.4 or later (etcd and etcdctl on PATH) and Chromium (/usr/bin/chromium) by other means." >&2
  exit 1
fi

echo "install-system-packages: installing ${missing[*]} with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
if ! "${as_root[@]}" apt-get update -qq; then
  echo "install-system-packages: apt-get update failed; check the network access to the Debian package mirror." >&2
  exit 1
fi
if ! "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
  echo "install-system-packages: apt-get install ${missing[*]} failed (see above)." >&2
  exit 1
fi

# Debian's etcd-server package starts a system etcd on 127.0.0.1:2379/2380 where a service
# manager runs; Silkledger starts its own members on ports it picks, so that one is not needed.
for cmd in etcd etcdctl; do
  if ! command -v "$cmd" >/dev/null 2>&1; then
    echo "install-system-packages: $cmd still missing after installing ${missing[*]}." >&2
    exit 1
  fi
done
if [ ! -x /usr/bin/chromium ]; then
  echo "install-system-packages: /usr/bin/chromium still missing after installing ${missing[*]}." >&2
  exit 1
fi
echo "install-system-packages: $(etcd --version | head -n 1); $(/usr/bin/chromium --version 2>/dev/null | head -n 1)" >&2
