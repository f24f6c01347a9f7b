#!/usr/bin/env bash
# Installs the Debian packages nomoat needs to build, test and benchmark.
# Idempotent: packages already present are skipped. Uses sudo when not root.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config   # toolchain
  libcli11-dev nlohmann-json3-dev                # command line, JSON
  libpcre2-dev libutf8proc-dev                   # tokenizer regexes, Unicode normalization
  libgtest-dev libgmock-dev libbenchmark-dev     # tests and benchmarks
  clang libclang-rt-dev                          # libFuzzer targets (make fuzz)
  python3-jinja2                                 # chat-template reference (tests/reference/chat_template_ref.py)
  python3-numpy                                  # reference checks written in Python
  g++-aarch64-linux-gnu qemu-user               # make test-arm: ARM cross build, run under qemu
)

# The tokenizer tests compare against a JavaScript reference from npm; use the
# machine's Node.js when it has one, else Debian's.
if ! command -v npm >/dev/null 2>&1; then PACKAGES+=(nodejs npm); fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "setup: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "setup: done"
