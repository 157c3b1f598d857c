#!/usr/bin/env bash
# The ways smnist ships, checked as a user meets them: packs the library and the tool, installs the tool into a
# temporary --tool-path and runs it from outside the repository, then publishes the one-file linux-x64 build
# and trains a few steps with it in an environment without .NET. Run after `dotnet build smnist.slnx -c Release`.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
data="$repo/tests/Smnist.Tests/Fixtures/mnist"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
short_run=(--data-dir "$data" --epochs 1 --max-steps 10 --hidden 32 --limit-test 200 --threads 2)

dotnet pack src/Smnist -c Release --no-build -o "$work/packages"
# Not --no-build: the per-platform tool packages each build the tool for their runtime identifier.
dotnet pack src/Smnist.Cli -c Release -o "$work/packages"
ls -l "$work/packages"

# A package cache of its own, so that an smnist of the same version installed earlier cannot stand in for this one.
(cd "$work" && NUGET_PACKAGES="$work/nuget" dotnet tool install smnist --tool-path "$work/tool" --add-source "$work/packages")
# The install fetched this platform's package only: one SkiaSharp library, not every platform's.
skia=$(find "$work/tool" -name 'libSkiaSharp*' | wc -l)
[ "$skia" = 1 ] || { echo "ship-check: the installed tool holds $skia SkiaSharp libraries, not this platform's one" >&2; exit 1; }
du -sb "$work/tool"
cd "$work"
"$work/tool/smnist" --help
"$work/tool/smnist" train "${short_run[@]}" --out "$work/tool-run"
"$work/tool/smnist" export --model "$work/tool-run/model.safetensors" --onnx "$work/tool-run/model.onnx"
cd "$repo"

dotnet publish src/Smnist.Cli -c Release -r linux-x64 -o "$work/onefile"
files=$(ls "$work/onefile")
[ "$files" = smnist ] || { echo "ship-check: the one-file build wrote more than one file: $files" >&2; exit 1; }
ls -l "$work/onefile/smnist"
# An empty PATH and no DOTNET_ROOT, so no installed .NET can be found: the file must carry its own runtime.
mkdir "$work/empty"
env -i HOME="$work" PATH="$work/empty" "$work/onefile/smnist" train "${short_run[@]}" --out "$work/onefile-run"
test -s "$work/onefile-run/model.safetensors"
