#!/usr/bin/env bash
# make fuzz: runs every native Go fuzz target (func FuzzXxx in a _test.go
# file) for FUZZTIME each (default 15s). FUZZ_MATCH, an extended regular
# expression, keeps the targets whose "package-dir/FuzzName/" matches (the
# trailing slash lets a pattern end a name without "$", which make would
# eat; the CI smoke runs a few). Every target runs even after one fails; the exit
# status is 1 if any failed, and the failing inputs are in each package's
# testdata/fuzz/<FuzzName>/ (commit the ones worth keeping as seeds).
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-15s}
FUZZ_MATCH=${FUZZ_MATCH:-.}

mapfile -t targets < <(grep -r --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]*\(' . |
  sed -E 's|^\./(.*)/[^/]+_test\.go:func (Fuzz[A-Za-z0-9_]*)\(.*|\1/\2/|' | sort -u | grep -E "$FUZZ_MATCH" | sed 's|/$||' || true)
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz: no target matches FUZZ_MATCH=$FUZZ_MATCH" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, $FUZZTIME each"
failed=()
start=$SECONDS
for t in "${targets[@]}"; do
  dir=${t%/*} name=${t##*/}
  echo "== ./$dir $name"
  if ! $GO test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" "./$dir"; then
    failed+=("./$dir $name")
  fi
done
echo "fuzz: ${#targets[@]} targets in $((SECONDS - start))s; $(( ${#targets[@]} - ${#failed[@]} )) passed, ${#failed[@]} failed"
if [ ${#failed[@]} -gt 0 ]; then
  printf 'failed: %s\n' "${failed[@]}" >&2
  exit 1
fi
