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
all: swift shim

help:
	@echo "make            build the Swift package and the Windows programs"
	@echo "make demo       the Swift host serves the SOUI ipcdemo protocol; the Windows client calls it under Wine"
	@echo "make demo-gui   the demo client's window under Xvfb (or DISPLAY), screenshot in docs/demo-client.png"
	@echo "make test       install what is missing, build, prepare the Wine prefix, run every test"
	@echo "make soak       4 Windows clients x SOAK_OPS (25000) mixed calls against the host, one killed and replaced"
	@echo "make bench      run the benchmarks (Benchmarks/ package) and write docs/BENCHMARKS.md"
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
test: deps shim prefix
	$(SWIFT) build $(SWIFT_FLAGS) --build-tests
	$(RUN_ENV) SIPB_REQUIRE_WINE=1 $(SWIFT) test --no-parallel $(SWIFT_FLAGS)

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

clean:
	rm -rf .build Benchmarks/.build
	$(MAKE) -C win32-shim clean

distclean: clean
	rm -rf .wine-prefix
