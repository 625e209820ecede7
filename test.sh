#!/usr/bin/env bash
# The test command: installs Azurite when missing, restores, builds (with the TorchSharp fix where
# the system needs it) and runs every test project. Real-log tests read FRESHET_DATA (default ../shared/data) and are skipped,
# with the reason printed, when the logs are not there.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
command -v dotnet >/dev/null || { echo "test.sh: the .NET SDK 10 is needed (dotnet was not found on PATH)" >&2; exit 1; }
if [ -z "${FRESHET_DATA:-}" ] && [ ! -d ../shared/data ]; then
  echo "test.sh: no real logs (FRESHET_DATA unset and ../shared/data missing): tests on them will be skipped"
fi
# Azurite (the Azure Storage emulator, from npm) for the integration tests, which start and stop it themselves.
build/install-azurite.sh
export FRESHET_REQUIRE_AZURITE=1
# The Bicep CLI (its NuGet package) for the infrastructure tests.
dotnet restore build/bicep/bicep.proj --nologo -v quiet
FRESHET_BICEP="$(dotnet msbuild build/bicep/bicep.proj -getProperty:NuGetPackageRoot -nologo)azure.bicep.commandline.linux-x64/0.49.2/tools/bicep"
chmod +x "$FRESHET_BICEP" 2>/dev/null || true
export FRESHET_BICEP
dotnet build Orleans.sln -c Release --nologo -v quiet
# The SDK as users install it: NuGet packages in artifacts/feed, and the sample service that takes them from there.
# The same version is packed again after every change, so its copy in the package cache is dropped first.
rm -rf artifacts/feed
dotnet pack Orleans.sln -c Release --no-build --nologo -v quiet -o artifacts/feed
version="$(dotnet msbuild src/Client/Freshet.Client.csproj -getProperty:Version -nologo)"
packages="$(dotnet nuget locals global-packages --list | sed 's/^global-packages: *//')"
for id in freshet.client freshet.abstractions freshet.core; do rm -rf "${packages%/}/$id/$version"; done
dotnet build samples/Shop -c Release --nologo -v quiet -p:FreshetVersion="$version"
# A test host that dies (a native crash prints nothing of its own) is named with the test it was running,
# and leaves a mini dump under TestResults/; the dump's threads and exception are printed last, where a
# truncated CI log still shows them.
started="$(mktemp)"
log="$(mktemp)"
# pipefail: the pipeline's status is the tests' (tee succeeds).
dotnet test Orleans.sln -c Release --no-build --nologo --logger "console;verbosity=normal" --blame-crash --blame-crash-dump-type mini "$@" 2>&1 | tee "$log" && rc=0 || rc=$?
if [ "$rc" -ne 0 ]; then
  # The failed tests with their messages, again at the end: the projects run in parallel, so in a long log they are
  # buried among the others' output, and a truncated CI log keeps only its end.
  echo "test.sh: the failed tests (their full output is above):"
  # A failed test's line only (not a log's "Failed to ..."), with enough of its trace to reach Freshet's frames past
  # Orleans' own (an exception from another silo carries that silo's frames first).
  grep -E -A 40 '^\s+Failed [A-Za-z_][A-Za-z0-9_]*\.[A-Za-z0-9_.]+ \[' "$log" | grep -v -E '^\s+at (Orleans|System|Xunit)\.' | head -n 300 || true
  mapfile -t dumps < <(find tests -path '*/TestResults/*' -name '*.dmp' -newer "$started" 2>/dev/null)
  if [ "${#dumps[@]}" -gt 0 ]; then
    dump_tool=.tools/dotnet-dump/dotnet-dump
    [ -x "$dump_tool" ] || dotnet tool install dotnet-dump --version 10.0.750501 --tool-path .tools/dotnet-dump >/dev/null || true
    for d in "${dumps[@]}"; do
      echo "test.sh: a test host crashed; its dump $d says:"
      "$dump_tool" analyze "$d" -c "clrthreads" -c "clrstack -all" -c "pe -nested" -c "clrstack" -c "exit" 2>&1 | tail -n 400 || true
    done
  fi
fi
rm -f "$started" "$log"
exit "$rc"
