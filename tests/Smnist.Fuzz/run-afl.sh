#!/usr/bin/env bash
# Fuzzes one parser of user files with AFL++ for a given time:
#   tests/Smnist.Fuzz/run-afl.sh safetensors|idx|idx-gzip|image|png-data SECONDS [WORKDIR]
# Needs Debian's afl++ (apt-get install afl++) and SharpFuzz's instrumenter
# (dotnet tool install --global SharpFuzz.CommandLine --version 2.3.0). Findings land in WORKDIR/out-TARGET;
# copy any crash or hang into corpus/TARGET/ once its cause is fixed, so CI replays it.
set -euo pipefail
target=$1 seconds=$2 work=${3:-/tmp/smnist-fuzz}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"
if [ ! -f "$work/bin/Smnist.Fuzz.dll" ]; then
    dotnet publish "$here" -c Release -o "$work/bin"
    # Instrument our assemblies and the image decoder, so AFL sees their branches.
    for assembly in Smnist.Core.dll smnist.dll StbImageSharp.dll; do
        "${SHARPFUZZ:-$HOME/.dotnet/tools/sharpfuzz}" "$work/bin/$assembly"
    done
fi
export AFL_SKIP_BIN_CHECK=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1
# The memory bound of the invariant: a 1 GiB heap. An input that needs more ends in OutOfMemoryException, a crash.
export DOTNET_GCHeapHardLimit=0x40000000 DOTNET_TieredCompilation=0
rm -rf "$work/out-$target"
exec nice -n 10 afl-fuzz -V "$seconds" -i "$here/corpus/$target" -o "$work/out-$target" -t 10000 -m none \
    -- dotnet "$work/bin/Smnist.Fuzz.dll" "$target"
