#!/usr/bin/env bash
# Runs each cargo-fuzz target of tests/fuzz for a bounded time, then replays everything on the
# stable toolchain.
#
#   .ci/fuzz.sh [seconds-per-target]      (default 60)
#
# libFuzzer needs nightly-only rustc flags (-Zsanitizer, sancov passes). This machine has the
# stable toolchain only, so the script sets RUSTC_BOOTSTRAP=1, which lets stable rustc accept
# them; FUZZ_TOOLCHAIN=nightly runs `cargo +nightly fuzz` instead where a nightly exists.
# Seeds come from fixtures/hostile, fixtures/patients and cds-hooks/rules. A crash or hang is
# written to tests/fuzz/artifacts/<target>/ and makes the script fail: minimise it
# (`cargo fuzz tmin`), then add it to fixtures/hostile/generate.py (hook requests) or
# fixtures/hostile/rules/ (rule files) as a `fuzz-*` regression with its expected status.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzz=tests/fuzz

seconds="${1:-60}"
sanitizer="${FUZZ_SANITIZER:-address}"
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi
toolchain=()
if [[ -n "${FUZZ_TOOLCHAIN:-}" ]]; then
  toolchain=("+${FUZZ_TOOLCHAIN}")
else
  export RUSTC_BOOTSTRAP=1
fi

mkdir -p "$fuzz/corpus/hook_request" "$fuzz/corpus/rule_file" "$fuzz/artifacts"
cp fixtures/hostile/*.json "$fuzz/corpus/hook_request/"
rm -f "$fuzz/corpus/hook_request/manifest.json"
find fixtures/patients -name '*.request.json' -exec cp {} "$fuzz/corpus/hook_request/" \;
cp cds-hooks/rules/*.yaml "$fuzz/corpus/rule_file/"
if compgen -G 'fixtures/hostile/rules/*.yaml' >/dev/null; then
  cp fixtures/hostile/rules/*.yaml "$fuzz/corpus/rule_file/"
fi

status=0
for target in hook_request rule_file; do
  echo "fuzz: ${target} for ${seconds}s (sanitizer ${sanitizer})"
  cargo "${toolchain[@]}" fuzz run --fuzz-dir "$fuzz" --sanitizer "${sanitizer}" "${target}" \
    "$fuzz/corpus/${target}" -- \
    -max_total_time="${seconds}" -timeout=10 -rss_limit_mb=4096 -max_len=1048576 \
    -print_final_stats=1 || status=1
done

found=$(find "$fuzz/artifacts" -type f 2>/dev/null | wc -l)
echo "fuzz: ${found} artifact(s) under tests/fuzz/artifacts"
echo "fuzz: replaying corpora and artifacts on the stable toolchain"
(cd "$fuzz" && env -u RUSTC_BOOTSTRAP cargo test --quiet) || status=1
exit "${status}"
