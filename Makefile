# Thin wrapper around CMake. `make test` and `make demo` are all a user needs.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
SHELL := /bin/bash
GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")

.PHONY: all setup configure build test demo bench fuzz test-asan test-arm clean

all: build

setup:
	@bash scripts/setup.sh

configure:
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD) -j $(JOBS)

# Install, build and run every test.
# ctest lists skipped tests after its summary; repeat the summary so it is the last line.
test: setup
	@$(MAKE) --no-print-directory build
	@cd $(BUILD) && set -o pipefail && ctest --output-on-failure -j $(JOBS) 2>&1 | tee ctest.log; \
	  status=$$?; grep -E "tests passed|tests failed" ctest.log | tail -1; exit $$status

# Run the main job on something that needs no download.
demo: setup
	@$(MAKE) --no-print-directory build
	$(BUILD)/nomoat gen-model -o $(BUILD)/demo-q4_k.gguf --type q4_k --n-embd 512 --n-ff 1536 --n-layer 4 --n-head 8 --n-head-kv 4 --n-vocab 4096
	$(BUILD)/nomoat info $(BUILD)/demo-q4_k.gguf
	@echo "(random weights: the text below is noise; it shows the whole path runs)"
	$(BUILD)/nomoat run $(BUILD)/demo-q4_k.gguf -p "Hello" -n 16 --seed 1 -v

bench: setup
	@$(MAKE) --no-print-directory build
	$(BUILD)/bench/nomoat_bench

# libFuzzer targets for the file readers (clang), each run for a minute
# (FUZZ_SECONDS) on its seed corpus; FUZZ_TARGETS picks some of them.
FUZZ_TARGETS ?= gguf safetensors jinja
fuzz: setup
	@test -f build-fuzz/CMakeCache.txt || CC=clang CXX=clang++ cmake -S . -B build-fuzz $(GENERATOR) \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNOMOAT_FUZZ=ON -DNOMOAT_TESTS=OFF
	cmake --build build-fuzz -j $(JOBS) --target make_seed $(addprefix fuzz_,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do \
	  corpus=build-fuzz/corpus-$$t; dict=tests/fuzz/$$t.dict; \
	  mkdir -p $$corpus && build-fuzz/tests/fuzz/make_seed $$t $$corpus || exit 1; \
	  echo "fuzz: $$t for $${FUZZ_SECONDS:-60} s"; \
	  maxlen=$$(test $$t = jinja && echo 16384 || echo 65536); \
	  build-fuzz/tests/fuzz/fuzz_$$t -max_total_time=$${FUZZ_SECONDS:-60} -max_len=$$maxlen -rss_limit_mb=2048 -timeout=10 \
	    $$(test -f $$dict && echo -dict=$$dict) $$corpus || exit 1; \
	done

# libFuzzer target for the chat-template parser and interpreter (clang), with
# a dictionary of Jinja2 syntax, run for a minute on its seed templates.
	build-fuzz/tests/fuzz/fuzz_jinja -max_total_time=$${FUZZ_SECONDS:-60} -max_len=16384 -rss_limit_mb=2048 \
	  -timeout=10 -dict=tests/fuzz/jinja.dict build-fuzz/corpus-jinja

# The whole test suite under AddressSanitizer and UndefinedBehaviorSanitizer.
test-asan: setup
	@$(MAKE) --no-print-directory build BUILD=build-asan CMAKE_FLAGS="-DNOMOAT_SANITIZE=ON -DNOMOAT_BENCH=OFF"
	cd build-asan && ctest --output-on-failure -j $(JOBS)

# The kernel layers (src/base, tensor, kernels) cross-compiled for 64-bit ARM
# (cmake/aarch64-linux-gnu.cmake) and their tests run under qemu twice: on a
# CPU without the dot-product extension (Cortex-A72, the Raspberry Pi 4's:
# plain NEON path), then on qemu's "max" CPU (SDOT path). Timing tests
# (Peak.*) are left out: emulated speed means nothing.
ARM_BUILD ?= build-arm
ARM_QEMU := qemu-aarch64 -L /usr/aarch64-linux-gnu
ARM_TEST_FILTER ?= -Peak.*
test-arm: setup
	@test -f $(ARM_BUILD)/CMakeCache.txt || cmake -S . -B $(ARM_BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=Release \
	  -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DNOMOAT_KERNELS_ONLY=ON -DNOMOAT_BENCH=OFF $(CMAKE_FLAGS)
	cmake --build $(ARM_BUILD) -j $(JOBS) --target nomoat_tests
	@for cpu in cortex-a72 max; do \
	  log=$(ARM_BUILD)/test-$$cpu.log; \
	  echo "test-arm: qemu-aarch64 -cpu $$cpu"; \
	  if ! $(ARM_QEMU) -cpu $$cpu $(ARM_BUILD)/tests/nomoat_tests --gtest_brief=1 \
	      --gtest_filter='$(ARM_TEST_FILTER)' >$$log 2>&1; then cat $$log; exit 1; fi; \
	  grep -E "NEON path|tests ran|PASSED|SKIPPED \]\s+[0-9]+ test" $$log; \
	done

clean:
	rm -rf build build-asan build-fuzz build-arm
