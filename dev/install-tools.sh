#!/usr/bin/env bash
# Installs what `make test` needs when it is missing, and nothing that is present:
# the Python tools of dev/requirements.txt (moto, cfn-lint, aws-sam-translator)
# into the project's .venv, the AWS CLI into it when `aws` is missing,
# aws-lambda-rie (go install), and shellcheck and Chromium (apt, when missing).
# With --local, only what `make local` needs: the .venv (moto) and aws-lambda-rie.
set -euo pipefail

local_only=
case "${1:-}" in
-h | --help)
  sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'
  echo "Usage: dev/install-tools.sh [--local]   (make tools; apt needs root or sudo)"
  exit 0
  ;;
--local) local_only=1 ;;
esac
cd "$(dirname "$0")/.."

RIE_VERSION=v0.0.0-20261030222936-bef5c4ba774d
AWSCLI_VERSION=1.45.11
VENV=.venv
have() { command -v "$1" >/dev/null 2>&1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif have sudo; then sudo "$@"; else echo "install-tools: need root for: $*" >&2; return 1; fi; }
apt_updated=
apt_install() {
  have apt-get || { echo "install-tools: no apt-get; install $* yourself" >&2; return 1; }
  [ -n "$apt_updated" ] || { as_root apt-get update -qq; apt_updated=1; }
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Python tools: a project-local virtual environment, so no system Python is
# touched (Debian, Ubuntu and Homebrew Pythons refuse pip: PEP 668). It sees
# the system's site-packages, so tools already installed at the pinned
# versions are used as they are. A stamp skips pip when nothing changed.
have python3 || { echo "install-tools: python3 is needed (3.9 or later)" >&2; exit 1; }
if [ ! -x "$VENV/bin/python" ]; then
  echo "install-tools: creating $VENV (Python tools of the tests)"
  if ! python3 -m venv --system-site-packages "$VENV" >/dev/null 2>&1; then
    # Debian and Ubuntu ship venv's ensurepip as a package of its own.
    rm -rf "$VENV"
    echo "install-tools: python3-venv (apt; Debian's python3 cannot make a venv without it)"
    apt_install python3-venv || { echo "install-tools: python3 -m venv fails; install your Python's venv module" >&2; exit 1; }
    python3 -m venv --system-site-packages "$VENV"
  fi
fi
if ! cmp -s dev/requirements.txt "$VENV/.requirements"; then
  echo "install-tools: $VENV: moto, cfn-lint, aws-sam-translator (dev/requirements.txt)"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r dev/requirements.txt
  cp dev/requirements.txt "$VENV/.requirements"
fi
gobin=$(go env GOBIN); [ -n "$gobin" ] || gobin="$(go env GOPATH)/bin"
if ! have aws-lambda-rie && [ ! -x "$gobin/aws-lambda-rie" ]; then
  echo "install-tools: aws-lambda-rie (go install; runs the built bootstrap as Lambda does)"
  go install "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$RIE_VERSION"
fi
[ -z "$local_only" ] || exit 0

if ! have aws && [ ! -x "$VENV/bin/aws" ]; then
  echo "install-tools: $VENV: the AWS CLI (the script tests run it against moto)"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "awscli==$AWSCLI_VERSION"
fi
if ! have shellcheck; then
  echo "install-tools: shellcheck (apt; lints scripts/)"
  apt_install shellcheck || echo "install-tools: shellcheck unavailable; its test will skip" >&2
fi
if ! have chromium && ! have chromium-browser && ! have google-chrome; then
  echo "install-tools: chromium (apt; the browser tests of the example site)"
  apt_install chromium || echo "install-tools: chromium unavailable; install Chrome or Chromium yourself" >&2
fi
