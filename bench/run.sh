#!/usr/bin/env bash
# Times a full `imds-lint --format json` scan against `rg -l` with the endpoint patterns on the
# repeatable corpus from ../shared/bench/gen_corpus.py (30,000 files by default), and reports the
# wall-time ratio and imds-lint's peak memory.
#
# usage: bench/run.sh [FILES] [CORPUS_DIR]
# needs: python3, ripgrep (rg), hyperfine, GNU time (/usr/bin/time); `apt-get install ripgrep
# hyperfine time` on Debian.
set -euo pipefail
cd "$(dirname "$0")/.."
files=${1:-30000}
corpus=${2:-target/bench-corpus-$files}
generator=../shared/bench/gen_corpus.py

for tool in python3 rg hyperfine /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing" >&2; exit 2; }
done
if [ ! -d "$corpus" ]; then
  python3 "$generator" "$corpus" "$files"
fi
cargo build --release --quiet
bin=target/release/imds-lint

# The endpoint spellings imds-lint's prefilter looks for, as one rg pattern set.
patterns=(-e 169.254.169.254 -e fd00:ec2::254 -e instance-data -e 2852039166 -i -e 0xa9fea9fe)

echo "corpus: $corpus ($(find "$corpus" -type f | wc -l) files)"
echo "imds-lint: $($bin --format json --statistics "$corpus" 2>&1 >/dev/null | tr -s ' ' | paste -sd ';')"
hyperfine --warmup 2 --runs 10 --ignore-failure --export-json target/bench.json \
  --command-name ripgrep "rg -l ${patterns[*]} $corpus" \
  --command-name imds-lint "$bin --format json $corpus"
python3 - <<'PY'
import json
runs = {r["command"]: r for r in json.load(open("target/bench.json"))["results"]}
rg, lint = runs["ripgrep"]["mean"], runs["imds-lint"]["mean"]
print(f"ratio imds-lint / ripgrep (mean wall time): {lint / rg:.2f}x  ({lint*1000:.0f} ms vs {rg*1000:.0f} ms)")
PY
/usr/bin/time -f "imds-lint peak memory: %M KiB" "$bin" --format json "$corpus" >/dev/null
