#!/usr/bin/env bash
# One entry point for a fresh machine (Debian/Ubuntu, Python 3.11):
#   bash run.sh repro   # install everything, then `dvc repro` on the default corpus
#   bash run.sh test    # install everything, then the test suite
#   bash run.sh setup   # install only
# Installs Debian packages (espeak-ng, sox, ffmpeg) when missing and a virtual
# environment in $EMOREPRO_VENV (default .venv) from requirements.txt; both steps
# are skipped when already satisfied, so re-running is cheap.
set -euo pipefail
cd "$(dirname "$0")"
VENV=${EMOREPRO_VENV:-.venv}
export DVC_NO_ANALYTICS=1

install_system_packages() {
  local missing=()
  for tool in espeak-ng sox ffmpeg; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "[run.sh] installing Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
}

install_python_packages() {
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  local want have
  want=$(sha256sum requirements.txt | cut -d' ' -f1)
  have=$(cat "$VENV/.requirements.sha256" 2>/dev/null || true)
  [ "$want" = "$have" ] && return 0
  echo "[run.sh] installing Python packages into $VENV (a few minutes the first time)"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -r requirements.txt
  echo "$want" > "$VENV/.requirements.sha256"
}

setup() {
  install_system_packages
  install_python_packages
  # dvc stage commands call `python`: put the venv first on PATH (EMOREPRO_VENV may be absolute).
  export PATH="$(cd "$VENV" && pwd)/bin:$PATH"
}

case "${1:-}" in
  setup) setup ;;
  repro) setup; dvc repro ;;
  # two workers by default (EMOREPRO_TEST_WORKERS: more, or 0 for one process): tests/conftest.py
  # orders the modules so that the two end-to-end ones start first, one on each
  test)  setup; python -m pytest tests -n "${EMOREPRO_TEST_WORKERS:-2}" --dist loadfile --no-loadscope-reorder "${@:2}" ;;
  *) echo "usage: bash run.sh {repro|test|setup} [pytest args]" >&2; exit 2 ;;
esac
