#!/usr/bin/env bash
# RadioMatch demo: both algorithms through qgis_process on the sample tiles.
#
#   demo/data/*.tif --Global regression--> demo/output/global/*_Global.tif
#                   --Local block adjustment--> demo/output/local/*.tif
#
# Runs QGIS's /usr/bin/qgis_process.bin (Debian's /usr/bin/qgis_process wrapper is broken)
# headless, in a throw-away profile where only this plugin is enabled, with the plugin
# loaded straight from this repository (a symlink named radiomatch -> repo root).
# Usually started by `make demo`, which installs QGIS first. Environment:
#   QGIS_PROCESS   qgis_process binary   (default /usr/bin/qgis_process.bin)
#   DEMO_OUTPUT    output folder         (default demo/output)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
QGIS_PROCESS=${QGIS_PROCESS:-/usr/bin/qgis_process.bin}
DATA=$REPO/demo/data
OUT=${DEMO_OUTPUT:-$REPO/demo/output}

if [ ! -x "$QGIS_PROCESS" ]; then
  echo "demo: $QGIS_PROCESS not found; run \`make setup\` (installs Debian's qgis)" >&2
  exit 1
fi
shopt -s nullglob
tiles=("$DATA"/*.tif)
if [ ${#tiles[@]} -lt 2 ]; then
  echo "demo: fewer than two tiles in $DATA (regenerate with /usr/bin/python3 demo/make_demo_data.py)" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/radiomatch-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/plugins" "$work/profile" "$work/xdg"
chmod 700 "$work/xdg"
ln -s "$REPO" "$work/plugins/radiomatch"
export QT_QPA_PLATFORM=offscreen
export QGIS_CUSTOM_CONFIG_PATH="$work/profile"
export QGIS_PLUGINPATH="$work/plugins"
export XDG_RUNTIME_DIR="$work/xdg"

"$QGIS_PROCESS" plugins enable radiomatch >"$work/enable.log" 2>&1 || {
  cat "$work/enable.log" >&2; echo "demo: could not enable the radiomatch plugin" >&2; exit 1; }
"$QGIS_PROCESS" list >"$work/list.log" 2>&1 || true
for alg in globalregression localblockadjustment; do
  if ! grep -q "radiomatch:$alg" "$work/list.log"; then
    cat "$work/enable.log" "$work/list.log" >&2
    echo "demo: algorithm radiomatch:$alg is not available in qgis_process" >&2
    exit 1
  fi
done

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# run_step ALGORITHM OUTPUT_FOLDER INPUT...
run_step() {
  local alg=$1 folder=$2; shift 2
  local args=() f
  for f in "$@"; do args+=("--INPUT=$f"); done
  rm -rf "$folder"
  mkdir -p "$folder"
  echo
  echo "=== radiomatch:$alg: ${#@} images -> ${folder#"$REPO"/}"
  "$QGIS_PROCESS" run "radiomatch:$alg" "${args[@]}" "--OUTPUT_FOLDER=$folder"
}

t0=$(now)
run_step globalregression "$OUT/global" "${tiles[@]}"
t1=$(now)
global_out=("$OUT/global"/*.tif)
if [ ${#global_out[@]} -ne ${#tiles[@]} ]; then
  echo "demo: expected ${#tiles[@]} rasters in $OUT/global, found ${#global_out[@]}" >&2
  exit 1
fi
run_step localblockadjustment "$OUT/local" "${global_out[@]}"
t2=$(now)
local_out=("$OUT/local"/*.tif)
if [ ${#local_out[@]} -ne ${#tiles[@]} ]; then
  echo "demo: expected ${#tiles[@]} rasters in $OUT/local, found ${#local_out[@]}" >&2
  exit 1
fi

echo
echo "=== Seams: difference of band means between overlapping images"
/usr/bin/python3 "$REPO/demo/compare.py" "$DATA" "$OUT/global" "$OUT/local"

echo
echo "=== Done"
echo "Global regression       $(elapsed "$t0" "$t1") s  -> $OUT/global"
for f in "${global_out[@]}"; do echo "    $f"; done
echo "Local block adjustment  $(elapsed "$t1" "$t2") s  -> $OUT/local"
for f in "${local_out[@]}"; do echo "    $f"; done
echo "Open the three folders in QGIS (same RGB style) to compare the seams."
