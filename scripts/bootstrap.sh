#!/usr/bin/env bash
# Install what the lab and the tests need on a fresh Debian/Ubuntu machine, as root.
# Idempotent and quick when everything is already there.
#   scripts/bootstrap.sh            apt packages + the project venv (.venv)
#   scripts/bootstrap.sh --sanity   also prepare ansible-test (get-pip stand-in when offline)
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(iproute2 nftables iptables iputils-ping openssh-server openssh-client util-linux procps curl nginx-light
              rsync git make iperf3 shellcheck python3-venv containernetworking-plugins
              mmdebstrap systemd-container socat dpkg-dev graphviz etcd-server)
# etcd-server: the etcd binary the tests of linuxnet_ipam (backend etcd) start on free loopback ports, as members of
# their own; Debian's etcd.service is left as the package sets it up.
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

log() { printf '[bootstrap] %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
  echo "bootstrap: run as root (the lab creates namespaces)" >&2
  exit 1
fi

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "apt: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

stamp="$VENV/.requirements.stamp"
if [ ! -x "$VENV/bin/python" ]; then
  log "creating $VENV with $($PYTHON --version)"
  "$PYTHON" -m venv "$VENV"
fi
if [ ! -f "$stamp" ] || [ requirements.txt -nt "$stamp" ] || [ requirements-dev.txt -nt "$stamp" ] || [ constraints.txt -nt "$stamp" ]; then
  log "pip: installing requirements-dev.txt (pinned by constraints.txt)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
  touch "$stamp"
fi

# The collection must sit under .../ansible_collections/linuxnet/container for Ansible to load it
# from the checkout.
mkdir -p .build/collections/ansible_collections/linuxnet
ln -sfn ../../../.. .build/collections/ansible_collections/linuxnet/container

if [ "${1:-}" = "--sanity" ]; then
  # ansible-test bootstraps pip in each sanity virtualenv with a script it downloads. Where that
  # host is unreachable, use the local stand-in (ensurepip + the package index), and only then.
  pip_version=$("$VENV/bin/python" - <<'PY'
import re, ansible_test, os
src = open(os.path.join(os.path.dirname(ansible_test.__file__), '_internal', 'python_requirements.py')).read()
print(re.search(r"pip='([0-9.]+)'", src).group(1))
PY
)
  cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
  if [ ! -s "$cache" ]; then
    url="https://ci-files.testing.ansible.com/ansible-test/get-pip-${pip_version}.py"
    mkdir -p "$(dirname "$cache")"
    if "$VENV/bin/python" -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=10).read()" "$url" 2>/dev/null; then
      log "ansible-test: get-pip ${pip_version} is reachable; ansible-test downloads it itself"
    else
      log "ansible-test: get-pip download unreachable; installing the local stand-in at $cache"
      cp scripts/get_pip_standin.py "$cache"
    fi
  fi
fi
log "ready"
