#!/usr/bin/env bash
# Installs what `make test` needs when it is missing, and nothing that is present:
# aws-lambda-rie (go install), moto_server, cfn-lint and aws-sam-translator (pip),
# the AWS CLI (Debian's awscli, else pip), shellcheck and Chromium (Debian's).
set -euo pipefail

case "${1:-}" in
-h | --help)
  sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'
  echo "Usage: scripts/install-tools.sh   (make tools; apt needs root or sudo)"
  exit 0
  ;;
esac

RIE_VERSION=v0.0.0-20261030222936-bef5c4ba774d
have() { command -v "$1" >/dev/null 2>&1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif have sudo; then sudo "$@"; else echo "install-tools: need root for: $*" >&2; return 1; fi; }
apt_updated=
apt_install() {
  have apt-get || { echo "install-tools: no apt-get; install $* yourself" >&2; return 1; }
  [ -n "$apt_updated" ] || { as_root apt-get update -qq; apt_updated=1; }
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

gobin=$(go env GOBIN); [ -n "$gobin" ] || gobin="$(go env GOPATH)/bin"
if ! have aws-lambda-rie && [ ! -x "$gobin/aws-lambda-rie" ]; then
  echo "install-tools: aws-lambda-rie"
  go install "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$RIE_VERSION"
fi
if ! have moto_server; then
  echo "install-tools: moto_server"
  python3 -m pip install -q 'moto[server]==5.2.1'
fi
if ! have cfn-lint || ! python3 -c 'import samtranslator' 2>/dev/null; then
  echo "install-tools: cfn-lint and aws-sam-translator"
  python3 -m pip install -q 'cfn-lint==1.51.0' aws-sam-translator
fi
if ! have aws; then
  echo "install-tools: aws CLI"
  apt_install awscli || python3 -m pip install -q awscli
fi
if ! have shellcheck; then
  echo "install-tools: shellcheck"
  apt_install shellcheck || echo "install-tools: shellcheck unavailable; its test will skip" >&2
fi
if ! have chromium && ! have chromium-browser && ! have google-chrome; then
  echo "install-tools: chromium"
  apt_install chromium
fi
