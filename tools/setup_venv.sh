#!/usr/bin/env bash
# Create .venv/ in the clone and install the pinned stack + mmecho (editable).
# mmcv 2.1.0 has no wheel on PyPI: it is built from source with compiled ops
# (~25 min on 2 cores) unless a local wheel folder (MMECHO_WHEELS=DIR, default
# ../shared/wheels beside the clone) or pip's cache has it.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
VENV=.venv
PIP="$VENV/bin/python -m pip"
start=$(date +%s)

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
FIND_LINKS=()
WHEELS=${MMECHO_WHEELS:-../shared/wheels}
if [ -d "$WHEELS" ]; then
  FIND_LINKS=(--find-links "$WHEELS")
elif [ -n "${MMECHO_WHEELS:-}" ]; then
  echo "MMECHO_WHEELS=$MMECHO_WHEELS is not a folder" >&2
  exit 2
fi
# 1. torch first (a newer torch from the registry would pull CUDA wheels),
#    then the build requirements of mmcv.
$PIP install --disable-pip-version-check "torch==2.13.0" numpy wheel ninja "setuptools<81"
# 2. mmcv with compiled ops.
if ! "$VENV/bin/python" -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '2.1.0'" >/dev/null 2>&1; then
  MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS=${MAX_JOBS:-2} \
    $PIP install --disable-pip-version-check --no-build-isolation \
    "${FIND_LINKS[@]}" mmcv==2.1.0
fi
# 3. the rest of the stack, the test tools and mmecho itself.
$PIP install --disable-pip-version-check -r requirements/runtime.txt -r requirements/tests.txt
$PIP install --disable-pip-version-check --no-build-isolation --no-deps -e .
"$VENV/bin/python" -c "import mmecho, mmdet.models, mmseg.models, mmcv.ops; print('mmecho', mmecho.__version__, 'installed')"
echo "setup_venv.sh: done in $(( $(date +%s) - start )) s"
