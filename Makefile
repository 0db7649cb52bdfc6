# sipc-bridge: the front door. `make help` lists the targets.
SHELL := /bin/bash

# Everything a user may override.
WINE        ?= /usr/lib/wine/wine64
WINESERVER  ?= /usr/lib/wine/wineserver
WINEPREFIX  ?= $(CURDIR)/.wine-prefix
WINEDEBUG   ?= -all
MINGW_CC    ?= x86_64-w64-mingw32-gcc
SWIFT       ?= swift
SWIFT_FLAGS ?=
# Operations per soak client: `make soak` (4 clients); `make test` runs the bounded default of SoakTests.swift.
SOAK_OPS    ?= 25000
APT_PACKAGES := wine64 wine64-tools gcc-mingw-w64-x86-64 xvfb xauth
GUI_PACKAGES := x11-apps imagemagick fonts-wine fonts-wqy-microhei

SHIM_BUILD := $(CURDIR)/win32-shim/build
SHIM_EXE   := $(SHIM_BUILD)/sipc-shim.exe
PREFIX_STAMP := $(WINEPREFIX)/system.reg
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

# What the Swift tests and programs read to find Wine, the prefix and the Windows programs.
HOST_EXE = $(shell $(SWIFT) build $(SWIFT_FLAGS) --show-bin-path)/sipc-host
RUN_ENV = WINEPREFIX="$(WINEPREFIX)" WINEDEBUG="$(WINEDEBUG)" SIPB_WINE="$(WINE)" \
           SIPB_WINESERVER="$(WINESERVER)" SIPB_SHIM="$(SHIM_EXE)" SIPB_WIN_BIN="$(SHIM_BUILD)" \
           SIPB_HOST_EXE="$(HOST_EXE)"

.PHONY: all help deps deps-gui shim swift prefix test test-swift soak bench demo demo-gui clean distclean
.PHONY: test-sanitize test-asan test-tsan fuzz fuzz-short fuzz-build
all: swift shim

help:
	@echo "make            build the Swift package and the Windows programs"
	@echo "make demo       the Swift host serves the SOUI ipcdemo protocol; the Windows client calls it under Wine"
	@echo "make demo-gui   the demo client's window under Xvfb (or DISPLAY), screenshot in docs/demo-client.png"
	@echo "make test       install what is missing, build, prepare the Wine prefix, run every test"
	@echo "make soak       4 Windows clients x SOAK_OPS (25000) mixed calls against the host, one killed and replaced"
	@echo "make bench      run the benchmarks (Benchmarks/ package) and write docs/BENCHMARKS.md"
	@echo "make fuzz       every fuzz target for FUZZ_SECONDS each (default $(FUZZ_SECONDS)); make test runs $(FUZZ_SHORT_SECONDS) s each"
	@echo "make test-sanitize  the Swift tests (Wine ones included) under AddressSanitizer, then ThreadSanitizer"
	@echo "make deps       install the Debian packages ($(APT_PACKAGES))"
	@echo "make prefix     create the Wine prefix (WINEPREFIX=$(WINEPREFIX))"
	@echo "make clean      remove build outputs; distclean also removes the Wine prefix"
	@echo "Variables: WINE WINESERVER WINEPREFIX WINEDEBUG MINGW_CC SWIFT SWIFT_FLAGS SOAK_OPS"

# Install the Debian packages only when something is missing.
deps:
	@if [ -x "$(WINE)" ] && command -v $(MINGW_CC) >/dev/null 2>&1 && command -v Xvfb >/dev/null 2>&1; then \
	  echo "deps: wine64, mingw-w64 and Xvfb are installed"; \
	else \
	  echo "deps: installing $(APT_PACKAGES)"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(APT_PACKAGES) >/dev/null; \
	fi

shim: deps
	$(MAKE) -C win32-shim MINGW_CC=$(MINGW_CC)

swift:
	$(SWIFT) build $(SWIFT_FLAGS)

# The prefix is made once and kept; a WINEPREFIX the user set is respected.
prefix: $(PREFIX_STAMP)
$(PREFIX_STAMP): | deps
	@echo "prefix: creating $(WINEPREFIX) (about 20 s, once)"
	WINEPREFIX="$(WINEPREFIX)" WINEDEBUG="$(WINEDEBUG)" WINEDLLOVERRIDES="mscoree,mshtml=" \
	  $(WINE) wineboot --init >/dev/null 2>&1 || true
	WINEPREFIX="$(WINEPREFIX)" $(WINESERVER) -w
	@test -f $(PREFIX_STAMP) || { echo "prefix: wineboot did not create $(PREFIX_STAMP)"; exit 1; }

# Tests run one at a time: the Wine tests time real window-message round trips (SOUI clients give a
# server 100 ms to answer a connect), and two cores shared by several Wine suites at once make that noisy.
test: deps shim prefix fuzz-short
	$(SWIFT) build $(SWIFT_FLAGS) --build-tests
	@mkdir -p build; set -o pipefail; \
	$(RUN_ENV) SIPB_REQUIRE_WINE=1 $(SWIFT) test --no-parallel $(SWIFT_FLAGS) 2>&1 | tee build/test.log; rc=$$?; \
	if [ $$rc -ne 0 ]; then \
	  echo "test: failed (exit $$rc). What failed, from build/test.log:"; \
	  grep -E '✘|↳|Fatal error|^error:' build/test.log | grep -v -E '^✘ Test run with|Testing Library Version|Target Platform' | head -40; \
	fi; exit $$rc

# The soak test alone at full size (the bounded version runs in `make test`); prints time, rates and RSS.
soak: deps shim prefix
	$(SWIFT) build $(SWIFT_FLAGS) --build-tests
	$(RUN_ENV) SIPB_REQUIRE_WINE=1 SIPB_SOAK_OPS=$(SOAK_OPS) $(SWIFT) test --no-parallel $(SWIFT_FLAGS) \
	  --filter 'SoakTests/fourClients'

demo: deps shim prefix swift
	$(RUN_ENV) scripts/demo.sh "$(HOST_EXE)" "$(SHIM_BUILD)"

# The screenshot needs a few more packages (xwd, ImageMagick, Wine's and a CJK font).
deps-gui: deps
	@if command -v xwd >/dev/null && [ -x /usr/bin/convert ] && [ -d /usr/share/wine/fonts ] && fc-list 2>/dev/null | grep -q wqy-microhei; then \
	  echo "deps-gui: installed"; \
	else \
	  echo "deps-gui: installing $(GUI_PACKAGES)"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(GUI_PACKAGES) >/dev/null; \
	fi

demo-gui: deps-gui shim prefix swift
	$(RUN_ENV) win32-shim/demo/screenshot.sh

# The Swift tests alone (integration tests are skipped, and say so, when Wine is not set up).
test-swift:
	$(SWIFT) test $(SWIFT_FLAGS)

# Side by side, in one run on one prefix (release builds); writes docs/BENCHMARKS.md and docs/benchmarks.svg.
bench: deps shim prefix
	SWIFT="$(SWIFT)" WINE="$(WINE)" WINESERVER="$(WINESERVER)" WINEPREFIX="$(WINEPREFIX)" WINEDEBUG="$(WINEDEBUG)" \
	  scripts/bench.sh

# Fuzzing (docs/RELIABILITY.md): libFuzzer with AddressSanitizer on the Swift decoders (the Fuzz/ package)
# and, with UndefinedBehaviorSanitizer too, on the shim's pipe decoder built natively by the clang that ships with
# Swift (win32-shim/fuzz: the shim's own sources on an in-memory Win32). `make test` runs each target for
# FUZZ_SHORT_SECONDS; `make fuzz` for FUZZ_SECONDS. A crash fails the run.
FUZZ_SECONDS       ?= 300
FUZZ_SHORT_SECONDS ?= 10
FUZZ_BUILD   := $(CURDIR)/.build-fuzz
CLANG        ?= $(shell c="$$(dirname "$$(readlink -f "$$(command -v $(SWIFT))")")/clang"; \
                  if [ -x "$$c" ]; then echo "$$c"; else echo clang; fi)
FUZZ_SWIFT_FLAGS := -c release --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address
FUZZ_SWIFT_BIN = $(FUZZ_BUILD)/swift/release
SHIM_FUZZ_SRC  := $(addprefix win32-shim/src/,log.c wire.c reader.c ring.c wait.c requests.c messages.c objects.c window.c)
SHIM_FUZZ_SRC  += $(wildcard win32-shim/fuzz/*.c)
SHIM_FUZZ_DEPS := $(SHIM_FUZZ_SRC) $(wildcard win32-shim/src/*.h win32-shim/include/*.h win32-shim/fuzz/*.h \
                    win32-shim/fuzz/win32/*.h)
FUZZ_TARGETS = fuzz-sipc-frames=$(FUZZ_SWIFT_BIN)/fuzz-sipc-frames=$(CURDIR)/Fuzz/Corpus/sipc-frames \
               fuzz-pipe-protocol=$(FUZZ_SWIFT_BIN)/fuzz-pipe-protocol=$(CURDIR)/Fuzz/Corpus/pipe-protocol \
               fuzz-shim=$(FUZZ_BUILD)/fuzz-shim=$(CURDIR)/win32-shim/fuzz/corpus

# ld.gold prints one line per sanitizer symbol it cannot export; nothing is wrong.
GOLD_NOISE := warning: Cannot export local symbol

$(FUZZ_BUILD)/fuzz-shim: $(SHIM_FUZZ_DEPS)
	@mkdir -p $(FUZZ_BUILD)
	set -o pipefail; $(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fshort-wchar \
	  -Iwin32-shim/fuzz/win32 -Iwin32-shim/fuzz -Iwin32-shim/include -Iwin32-shim/src \
	  -Wall -Wextra -Werror -Wno-unused-parameter -o $@ $(SHIM_FUZZ_SRC) 2>&1 | { grep -v "$(GOLD_NOISE)" || true; }

fuzz-build: $(FUZZ_BUILD)/fuzz-shim
	set -o pipefail; $(SWIFT) build --package-path Fuzz --scratch-path $(FUZZ_BUILD)/swift $(FUZZ_SWIFT_FLAGS) 2>&1 \
	  | { grep -v "$(GOLD_NOISE)" || true; }

fuzz-short: fuzz-build
	scripts/fuzz.sh $(FUZZ_SHORT_SECONDS) $(FUZZ_BUILD) $(FUZZ_TARGETS)

fuzz: fuzz-build
	scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_BUILD) $(FUZZ_TARGETS)

# The Swift tests, Wine integration tests included, under a sanitizer, each in its own build folder so that the
# normal build is left alone. LeakSanitizer is on, with the toolchain's own libraries suppressed (scripts/lsan.supp).
# Timed tests keep their bounds: run these on an otherwise idle machine. See docs/RELIABILITY.md.
SAN_BIN = $(shell $(SWIFT) build $(SWIFT_FLAGS) --scratch-path $(CURDIR)/.build-$(1) --sanitize=$(2) --show-bin-path)
SAN_ENV = WINEPREFIX="$(WINEPREFIX)" WINEDEBUG="$(WINEDEBUG)" SIPB_WINE="$(WINE)" \
           SIPB_WINESERVER="$(WINESERVER)" SIPB_SHIM="$(SHIM_EXE)" SIPB_WIN_BIN="$(SHIM_BUILD)" SIPB_REQUIRE_WINE=1
ASAN_OPTIONS_TEST ?= detect_leaks=1:halt_on_error=1
LSAN_OPTIONS_TEST ?= suppressions=$(CURDIR)/scripts/lsan.supp:print_suppressions=0
TSAN_OPTIONS_TEST ?= halt_on_error=1:second_deadlock_stack=1

test-sanitize: test-asan test-tsan

test-asan: deps shim prefix
	$(SWIFT) build $(SWIFT_FLAGS) --build-tests --scratch-path .build-asan --sanitize=address
	$(SAN_ENV) SIPB_HOST_EXE="$(call SAN_BIN,asan,address)/sipc-host" ASAN_OPTIONS="$(ASAN_OPTIONS_TEST)" \
	  LSAN_OPTIONS="$(LSAN_OPTIONS_TEST)" \
	  $(SWIFT) test --no-parallel $(SWIFT_FLAGS) --scratch-path .build-asan --sanitize=address

test-tsan: deps shim prefix
	$(SWIFT) build $(SWIFT_FLAGS) --build-tests --scratch-path .build-tsan --sanitize=thread
	$(SAN_ENV) SIPB_HOST_EXE="$(call SAN_BIN,tsan,thread)/sipc-host" TSAN_OPTIONS="$(TSAN_OPTIONS_TEST)" \
	  $(SWIFT) test --no-parallel $(SWIFT_FLAGS) --scratch-path .build-tsan --sanitize=thread

clean:
	rm -rf .build Benchmarks/.build .build-fuzz .build-asan .build-tsan
	$(MAKE) -C win32-shim clean

distclean: clean
	rm -rf .wine-prefix
