#!/usr/bin/env bash
# Runs the kernel tests (and the engine's PyTorch parity tests) once per SIMD tier: default (AVX-512 here), AVX-512 off, AVX2 off, and no hardware
# intrinsics at all. Each run asserts (GemmTests.RunsTheExpectedTier) that the runtime really switched micro-kernel.
#
# Note: .NET 10 names the AVX-512 switch DOTNET_EnableAVX512 and ignores the older DOTNET_EnableAVX512F; both
# are set. DOTNET_EnableAVX2=0 also turns off FMA, so that tier runs Vector128 with separate multiply and add.
#
# Usage: tools/kernel-tiers.sh [extra dotnet test arguments, e.g. --artifacts-path /tmp/art]
set -euo pipefail
cd "$(dirname "$0")/.."

# The kernels against their references, and the whole float engine against PyTorch, on each tier; the refine
# gate's element-wise passes in double against finite differences too.
filter="FullyQualifiedName~Smnist.Tests.Kernels|FullyQualifiedName~Smnist.Tests.Nn.PyTorchParityTests|FullyQualifiedName~Smnist.Tests.Nn.GradientCheckTests.GateVariants"
dotnet build tests/Smnist.Tests "$@"

run_tier() {
    local expected="$1"
    shift
    echo "=== tier ${expected} ($*) ==="
    env "$@" SMNIST_EXPECT_TIER="${expected}" \
        dotnet test tests/Smnist.Tests --no-build --filter "${filter}" "${extra_args[@]}"
}

extra_args=("$@")
default_tier="Vector128"
if grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
    default_tier="Vector512"
elif grep -qw avx2 /proc/cpuinfo 2>/dev/null; then
    default_tier="Vector256"
fi

run_tier "${default_tier}" SMNIST_TIER_RUN=default
if [[ "${default_tier}" == "Vector512" ]]; then
    run_tier Vector256 DOTNET_EnableAVX512=0 DOTNET_EnableAVX512F=0
fi
if [[ "${default_tier}" != "Vector128" ]]; then
    run_tier Vector128 DOTNET_EnableAVX2=0
fi
run_tier Scalar DOTNET_EnableHWIntrinsic=0
echo "=== all kernel tiers passed ==="
