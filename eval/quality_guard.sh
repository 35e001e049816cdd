#!/usr/bin/env bash
# The relevance regression guard CI runs: scores the test half of every judged collection with MSSEARCH (the
# default ranking, exactly as the site searches) and fails if nDCG@10 or MAP@100 of any falls
# below eval/quality_floors.yaml. Deterministic: no timing is involved.
#   eval/quality_guard.sh [MSSEARCH]        (default build/release/cli/mssearch)
# The collections are read where they are kept, never copied: $MSSEARCH_RELEVANCE_DIR, else
# ../shared/relevance next to this checkout (README "Relevance" says where each comes from).
# When neither holds them, it says so on stderr and in $MSSEARCH_SUMMARY_FILE (when set), which
# scripts/test.sh prints at the end of its run.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$here/build/release/cli/mssearch}"
sets=(scifact nfcorpus cranfield cisi)

dir=""
for candidate in "${MSSEARCH_RELEVANCE_DIR:-}" "$here/../shared/relevance"; do
  if [ -n "$candidate" ] && [ -f "$candidate/cranfield/qrels.tsv" ]; then dir="$candidate"; break; fi
done
# The site's own lay questions (eval/lay, judged over corpus/) are in the repository: always scored.
paths=("$here/eval/lay")
if [ -z "$dir" ]; then
  note="RELEVANCE: the public collections (${sets[*]}) were NOT scored: none found in \$MSSEARCH_RELEVANCE_DIR or ../shared/relevance (README \"Relevance\" says where to get them); only eval/lay was scored"
  echo "quality_guard: $note" >&2
  if [ -n "${MSSEARCH_SUMMARY_FILE:-}" ]; then echo "$note" >> "$MSSEARCH_SUMMARY_FILE"; fi
else
  for s in "${sets[@]}"; do paths+=("$dir/$s"); done
  echo "quality_guard: scoring eval/lay and ${sets[*]} from $dir" >&2
fi
"$bin" eval "${paths[@]}" --split test --floors "$here/eval/quality_floors.yaml"
