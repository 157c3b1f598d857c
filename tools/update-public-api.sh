#!/usr/bin/env bash
# Declares the library's current public surface: builds src/Smnist, adds every symbol the PublicApiAnalyzers
# report as undeclared (RS0016) to PublicAPI.Unshipped.txt and drops those declared but gone (RS0017). Review
# the diff: it is the change to the public API.
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
dotnet build src/Smnist -c Release --no-incremental -p:TreatWarningsAsErrors=false > "$log" 2>&1 || true
python3 - "$log" <<'PY'
import re, sys
added, removed = set(), set()
for line in open(sys.argv[1], encoding='utf-8'):
    if m := re.search(r"RS0016: Symbol '(.*)' is not part of the declared public API", line):
        added.add(m.group(1))
    elif m := re.search(r"RS0017: Symbol '(.*)' is part of the declared API, but is either not public or could not be found", line):
        removed.add(m.group(1))
path = 'src/Smnist/PublicAPI.Unshipped.txt'
lines = [l for l in open(path, encoding='utf-8').read().splitlines()[1:] if l and l not in removed]
open(path, 'w', encoding='utf-8').write('#nullable enable\n' + '\n'.join(sorted(set(lines) | added)) + '\n')
print(f'{len(added)} added, {len(removed)} removed')
PY
rm -f "$log"
