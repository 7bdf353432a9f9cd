#!/usr/bin/env bash
# Times a full `imds-lint --format json` scan against `rg -l` with the endpoint patterns on the
# same trees, with hyperfine, and prints the wall-time ratio and imds-lint's peak memory for each:
#   - the repeatable corpus from ../shared/bench/gen_corpus.py (30,000 files by default);
#   - every repository directory given as an argument (public snapshots kept outside the project,
#     e.g. kubernetes/kops and kubernetes-sigs/cluster-api-provider-aws: never commit them);
#   - with --scaling, a synthetic infrastructure tree at 1x, 4x and 16x (Terraform launch
#     templates whose user data is a script in another file, shell scripts with requests, pods),
#     to show that the time per file stays flat as the tree grows (the pass across files joins
#     every setting with every script, so a quadratic step shows here first).
#
# usage: bench/run.sh [--files N] [--runs N] [--scaling] [--generator PATH] [REPOSITORY...]
# (--generator names gen_corpus.py where ../shared is not beside the checkout, as in a git
# worktree elsewhere.)
# needs: python3, ripgrep (rg), hyperfine, GNU time (/usr/bin/time); `apt-get install ripgrep
# hyperfine time` on Debian.
set -euo pipefail
cd "$(dirname "$0")/.."
files=30000
runs=10
generator=../shared/bench/gen_corpus.py
scaling=false
repositories=()
while [ $# -gt 0 ]; do
  case "$1" in
    --files) files=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --scaling) scaling=true; shift ;;
    --generator) generator=$2; shift 2 ;;
    -*) echo "bench: unknown option $1" >&2; exit 2 ;;
    *) repositories+=("$1"); shift ;;
  esac
done
[ -f "$generator" ] || { echo "bench: $generator is missing (--generator PATH)" >&2; exit 2; }

for tool in python3 rg hyperfine /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing" >&2; exit 2; }
done
corpus=target/bench-corpus-$files
if [ ! -d "$corpus" ]; then
  python3 "$generator" "$corpus" "$files"
fi
cargo build --release --quiet
bin=$PWD/target/release/imds-lint

# The endpoint spellings imds-lint's prefilter looks for, as one rg pattern set.
patterns=(-e 169.254.169.254 -e fd00:ec2::254 -e instance-data -e 2852039166 -i -e 0xa9fea9fe)

# bench NAME DIR: one hyperfine comparison, its ratio and imds-lint's peak memory, as a row.
rows=()
bench() {
  local name=$1 dir=$2 json=target/bench-$1.json
  echo "== $name: $dir ($(find "$dir" -type f | wc -l) files)" >&2
  echo "   imds-lint: $($bin --format json --statistics "$dir" 2>&1 >/dev/null | grep -E '^ *(files walked|parsed|findings|time)' | tr -s ' ' | paste -sd ';')" >&2
  hyperfine --warmup 2 --runs "$runs" --ignore-failure --export-json "$json" --style basic \
    --command-name ripgrep "rg -l ${patterns[*]} '$dir'" \
    --command-name imds-lint "$bin --format json '$dir'" >&2
  local peak
  peak=$( (/usr/bin/time -f "%M" "$bin" --format json "$dir" 2>&1 >/dev/null || true) | tail -1)
  rows+=("$(python3 - "$json" "$name" "$peak" <<'PY'
import json, sys
runs = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
rg, lint = runs["ripgrep"]["mean"], runs["imds-lint"]["mean"]
print(f"| {sys.argv[2]} | {rg*1000:.0f} ms | {lint*1000:.0f} ms | {lint / rg:.2f}x | {int(sys.argv[3]) / 1024:.1f} MB |")
PY
)")
}

bench generated-$files "$corpus"
for repo in "${repositories[@]}"; do
  bench "$(basename "$repo")" "$repo"
done

if $scaling; then
  for scale in 1 4 16; do
    tree=target/bench-iac-$scale
    [ -d "$tree" ] || python3 bench/gen_iac.py "$tree" "$scale"
    bench "iac-x$scale" "$tree"
  done
fi

echo
echo "| tree | ripgrep | imds-lint | ratio | imds-lint peak memory |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
