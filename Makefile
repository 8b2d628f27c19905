# Huaying: the two set-up commands are `make run` and `make test` (see README.md).
# Both install what a fresh Debian machine with Swift lacks, then build.
# `make release` + `make install` put huayingd on a machine as a systemd service
# (README.md, "Run as a service").

SWIFT ?= swift
CONFIG ?= etc/huaying.yaml
APT_PACKAGES := libuv1-dev libsqlite3-dev pkg-config
# The tests run `systemd-analyze verify` on the unit file, and open the printable pages
# (`report --html`, `board --html`) in headless Chromium, with a font for Chinese.
APT_TEST_PACKAGES := systemd chromium fonts-wqy-microhei

# Installation. DESTDIR stages the whole tree elsewhere (packaging, tests): then no user is
# created and systemd is not touched. The configuration always lives in /etc/huaying (the
# unit's ConfigurationDirectory=), whatever PREFIX is.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
PKGLIBDIR ?= $(PREFIX)/lib/huaying
PLUGINDIR ?= $(PKGLIBDIR)/plugins
# /etc/systemd/system is searched whatever PREFIX is; packagers may prefer /usr/lib/systemd/system.
UNITDIR ?= /etc/systemd/system
# Man pages (English in man1, Chinese in zh_CN/man1) and shell completion, generated from the
# installed huaying's own commands (scripts/generate-manual.py, --generate-completion-script).
MANDIR ?= $(PREFIX)/share/man
BASH_COMPLETION_DIR ?= $(PREFIX)/share/bash-completion/completions
ZSH_COMPLETION_DIR ?= $(PREFIX)/share/zsh/site-functions
CONFDIR := /etc/huaying
# The binaries `make install` copies: `make release` builds them here. Tests pass their own
# (debug) build directory, so installing never compiles.
BUILT_BINARIES ?= .build/release
SERVICE_USER := huaying

.PHONY: run test test-systemd build release deps test-deps install uninstall clean demo bench \
	fuzz soak test-sanitizers test-asan-libraries

## Run the daemon in the foreground with the development config (state under ./var/).
run: build
	.build/debug/huayingd --config $(CONFIG)

## Build everything and run every test. The loop-responsiveness suite runs alone afterwards:
## it times the daemon's answers to 100 ms, and suites running beside it would time the machine.
test: deps test-deps
	$(SWIFT) test --skip BacklogResponsivenessTests
	$(SWIFT) test --skip-build --filter BacklogResponsivenessTests

## The service under a real systemd: boots Debian 12 in systemd-nspawn (debootstrap, once, into
## .build-systemd/) and checks install, readiness, reload, watchdog, journal, permissions,
## upgrade and uninstall through `make install` and systemctl inside it. As root.
test-systemd: release
	scripts/test-systemd.sh

build: deps
	$(SWIFT) build

## Optimised binaries with the Swift runtime linked in, so the service does not depend on
## where the toolchain is installed (a home directory is invisible under ProtectHome=yes).
## Also writes the man pages (English, zh_CN) beside them, generated from the CLI's own help, so
## that `make install` copies them on a server without python3.
release: deps
	$(SWIFT) build -c release --static-swift-stdlib
	@if command -v python3 >/dev/null; then \
	    python3 scripts/generate-manual.py .build/release/huaying .build/release/man/man1 en >/dev/null && \
	    python3 scripts/generate-manual.py .build/release/huaying .build/release/man/zh_CN/man1 zh >/dev/null; \
	else echo "release: python3 not found: no man pages"; fi

# Standing defences (docs/operations.md, "Standing defences"); none of them is part of `make test`.
FUZZ_SECONDS ?= 60
# debug builds fast and keeps every check; FUZZ_CONFIGURATION=release runs many times more inputs.
FUZZ_CONFIGURATION ?= debug
# The library and engine suites: they start no daemon or CLI binary (only the test plugins' /bin/sh
# and python3 scripts), so this pass is quick and AddressSanitizer sees our own code in-process.
ASAN_SUITES := EventLoopTests|SQLiteStoreTests|WorkflowEngineTests|WorkflowModelTests|ControlProtocolTests
# libXCTest itself leaks under LeakSanitizer; the suites are Swift Testing, so XCTest is not needed.
SANITIZER_TEST_FLAGS := --disable-xctest

## libFuzzer on the loaders, time expressions and the control protocol (Fuzz/), each harness for
## FUZZ_SECONDS (default 60). Inputs that crash, hang or blow memory land in .build-fuzz/findings/.
fuzz: deps
	$(SWIFT) build -c $(FUZZ_CONFIGURATION) --package-path Fuzz --scratch-path .build-fuzz --sanitize=fuzzer --sanitize=address
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_BIN=.build-fuzz/$(FUZZ_CONFIGURATION) python3 Fuzz/run-fuzzers.py

## Minutes of starts, acks, updates and cancels on the real clock with SIGKILLs, a full disk and
## a read-only state directory (needs root: it mounts a tmpfs). SOAK_SECONDS= changes the length.
soak: build
	python3 scripts/soak.py

## The whole suite under AddressSanitizer, then under ThreadSanitizer (separate scratch paths).
## The loop-responsiveness suite is left out: it times answers to 100 ms, which measures the
## sanitizer's overhead, not the daemon (`make test` runs it on the plain build). Leaks are
## judged in the daemons the tests start; at the test runner's exit LeakSanitizer reports what
## the test helpers read through Foundation (docs/operations.md), so the library suites' leak
## check is the CI pass below.
test-sanitizers: deps test-deps
	ASAN_OPTIONS=detect_leaks=0 HUAYING_DAEMON_ASAN_OPTIONS=detect_leaks=1 \
	    $(SWIFT) test --sanitize=address --scratch-path .build-asan $(SANITIZER_TEST_FLAGS) --skip BacklogResponsivenessTests
	$(SWIFT) test --sanitize=thread --scratch-path .build-tsan $(SANITIZER_TEST_FLAGS) --skip BacklogResponsivenessTests

## The AddressSanitizer pass CI runs besides `make test`: the library and engine suites.
test-asan-libraries: deps
	$(SWIFT) test --sanitize=address --scratch-path .build-asan $(SANITIZER_TEST_FLAGS) --filter '$(ASAN_SUITES)'

# apt-get install, as root or via sudo: $(call apt_install,PACKAGES,what is missing)
define apt_install
	echo "Installing $(1) ..."; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	command -v apt-get >/dev/null || { echo "apt-get not found: install $(2) by hand" >&2; exit 1; }; \
	$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1)
endef

## Install the system libraries when pkg-config cannot find them (apt, as root or via sudo).
deps:
	@if pkg-config --exists libuv sqlite3 2>/dev/null; then exit 0; fi; \
	$(call apt_install,$(APT_PACKAGES),libuv and SQLite development files (with pkg-config))

## Install what the tests use and a fresh machine lacks: systemd-analyze (CI containers often
## lack systemd), chromium and a Chinese font.
test-deps:
	@missing=; \
	command -v systemd-analyze >/dev/null || missing="$$missing systemd"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || fc-list 2>/dev/null | grep -qi "CJK\|WenQuanYi" || missing="$$missing fonts-wqy-microhei"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	$(call apt_install,$$missing,$(APT_TEST_PACKAGES))

## Install the binaries, the notifiers (notifiers/*, into PLUGINDIR), the unit, /etc/huaying and
## the huaying user. Never overwrites a file under /etc/huaying: an edited config, staff list,
## calendar or workflow is kept as it is.
install:
	@set -e; \
	if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" != 0 ]; then \
	    echo "make install: run as root (sudo make install), or stage with DESTDIR=DIR" >&2; exit 1; fi; \
	check_runtime() { \
	    command -v ldd >/dev/null || return 0; \
	    swift_runtime=$$(ldd "$$1" 2>/dev/null | grep -o 'libswiftCore\.so.*' | sed 's/ (0x[0-9a-f]*)//' | head -1); \
	    if [ -n "$$swift_runtime" ]; then \
	        if [ -n "$(DESTDIR)" ]; then echo "make install: warning: $$1 links the Swift runtime dynamically ($$swift_runtime); staged anyway" >&2; return 0; fi; \
	        echo "make install: $$1 links the Swift runtime dynamically ($$swift_runtime): the service cannot load a toolchain's libraries; run 'make release' (Swift runtime linked in) first" >&2; exit 1; fi; \
	    lacking=$$(ldd "$$1" 2>/dev/null | awk '/not found/ { print $$1 }' | tr '\n' ' '); \
	    if [ -n "$$lacking" ] && [ -z "$(DESTDIR)" ]; then \
	        echo "make install: $$1 needs $$lacking, which this machine lacks: apt-get install libuv1 libsqlite3-0" >&2; exit 1; fi; \
	}; \
	for program in huayingd huaying; do \
	    if [ ! -x "$(BUILT_BINARIES)/$$program" ]; then \
	        echo "make install: no $(BUILT_BINARIES)/$$program; run 'make release' first (as yourself)" >&2; exit 1; fi; \
	    check_runtime "$(BUILT_BINARIES)/$$program"; \
	done; \
	install -d -m 0755 "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(UNITDIR)" "$(DESTDIR)$(PLUGINDIR)"; \
	install -m 0755 "$(BUILT_BINARIES)/huayingd" "$(BUILT_BINARIES)/huaying" "$(DESTDIR)$(BINDIR)/"; \
	for plugin in notifiers/*/; do \
	    target="$(DESTDIR)$(PLUGINDIR)/$$(basename "$$plugin")"; install -d -m 0755 "$$target"; \
	    for file in "$$plugin"*; do \
	        if [ ! -f "$$file" ]; then continue; elif [ -x "$$file" ]; then mode=0755; else mode=0644; fi; \
	        install -m $$mode "$$file" "$$target/"; done; \
	    install -m 0644 notifiers/huaying_notifier.py "$$target/"; \
	done; \
	install -d -m 0755 "$(DESTDIR)$(MANDIR)/man1" "$(DESTDIR)$(MANDIR)/zh_CN/man1" \
	    "$(DESTDIR)$(BASH_COMPLETION_DIR)" "$(DESTDIR)$(ZSH_COMPLETION_DIR)"; \
	if [ -d "$(BUILT_BINARIES)/man/man1" ]; then \
	    install -m 0644 "$(BUILT_BINARIES)"/man/man1/huaying*.1 "$(DESTDIR)$(MANDIR)/man1/"; \
	    install -m 0644 "$(BUILT_BINARIES)"/man/zh_CN/man1/huaying*.1 "$(DESTDIR)$(MANDIR)/zh_CN/man1/"; \
	elif command -v python3 >/dev/null; then \
	    python3 scripts/generate-manual.py "$(BUILT_BINARIES)/huaying" "$(DESTDIR)$(MANDIR)/man1" en >/dev/null; \
	    python3 scripts/generate-manual.py "$(BUILT_BINARIES)/huaying" "$(DESTDIR)$(MANDIR)/zh_CN/man1" zh >/dev/null; \
	    chmod 0644 "$(DESTDIR)$(MANDIR)"/man1/huaying*.1 "$(DESTDIR)$(MANDIR)"/zh_CN/man1/huaying*.1; \
	else echo "make install: python3 not found and no man pages beside the binaries ('make release' writes them): none installed" >&2; fi; \
	if ! command -v python3 >/dev/null; then \
	    echo "make install: warning: python3 not found; the chat notifiers (wecom, dingtalk) need it: apt-get install python3" >&2; fi; \
	LANG=en_US.UTF-8 LC_ALL= "$(BUILT_BINARIES)/huaying" --generate-completion-script bash > "$(DESTDIR)$(BASH_COMPLETION_DIR)/huaying"; \
	LANG=en_US.UTF-8 LC_ALL= "$(BUILT_BINARIES)/huaying" --generate-completion-script zsh > "$(DESTDIR)$(ZSH_COMPLETION_DIR)/_huaying"; \
	chmod 0644 "$(DESTDIR)$(BASH_COMPLETION_DIR)/huaying" "$(DESTDIR)$(ZSH_COMPLETION_DIR)/_huaying"; \
	sed '/^Exec/s|/usr/local/bin/|$(BINDIR)/|g' etc/systemd/huayingd.service > "$(DESTDIR)$(UNITDIR)/huayingd.service"; \
	chmod 0644 "$(DESTDIR)$(UNITDIR)/huayingd.service"; \
	install -d -m 0755 "$(DESTDIR)$(CONFDIR)" "$(DESTDIR)$(CONFDIR)/calendars" "$(DESTDIR)$(CONFDIR)/workflows.d"; \
	config=$$(mktemp); trap 'rm -f "$$config"' EXIT; \
	sed 's|/usr/local/lib/huaying/plugins|$(PLUGINDIR)|' etc/huaying.installed.yaml > "$$config"; \
	keep_or_install() { \
	    if [ ! -e "$$2" ]; then install -m 0644 "$$1" "$$2"; \
	    elif ! cmp -s "$$1" "$$2"; then echo "kept $$2 (it differs from the shipped $$3)"; fi; \
	}; \
	keep_or_install "$$config" "$(DESTDIR)$(CONFDIR)/huaying.yaml" etc/huaying.installed.yaml; \
	keep_or_install etc/staff.yaml "$(DESTDIR)$(CONFDIR)/staff.yaml" etc/staff.yaml; \
	for file in etc/calendars/*.yaml; do \
	    keep_or_install "$$file" "$(DESTDIR)$(CONFDIR)/calendars/$${file##*/}" "$$file"; done; \
	for file in workflows/*.yaml; do \
	    keep_or_install "$$file" "$(DESTDIR)$(CONFDIR)/workflows.d/$${file##*/}" "$$file"; done; \
	if [ -n "$(DESTDIR)" ]; then echo "staged under $(DESTDIR); no user created, systemd not told"; exit 0; fi; \
	if ! getent group $(SERVICE_USER) >/dev/null; then groupadd --system $(SERVICE_USER); echo "created group $(SERVICE_USER)"; fi; \
	if ! getent passwd $(SERVICE_USER) >/dev/null; then \
	    useradd --system --gid $(SERVICE_USER) --home-dir /var/lib/huaying --no-create-home \
	        --shell /usr/sbin/nologin --comment "Huaying workflow daemon" $(SERVICE_USER); \
	    echo "created user $(SERVICE_USER)"; fi; \
	admin_group=$$(sed -n 's/^[[:space:]]*admin_group:[[:space:]]*\([^[:space:]#]*\).*/\1/p' "$(CONFDIR)/huaying.yaml" | tr -d "\"'" | head -1); \
	if [ -n "$$admin_group" ] && ! getent group "$$admin_group" >/dev/null; then \
	    groupadd --system "$$admin_group"; echo "created group $$admin_group (admins: usermod -aG $$admin_group,$(SERVICE_USER) USER)"; fi; \
	if [ -d /run/systemd/system ]; then \
	    systemctl daemon-reload; \
	    if systemctl is-active --quiet huayingd.service; then \
	        systemctl restart huayingd.service; echo "restarted huayingd (it was running)"; fi; fi; \
	echo "installed; next: systemctl enable --now huayingd && journalctl -u huayingd -f"

## Remove the binaries, the shipped notifiers and the unit (stopping the service first). Keeps /etc/huaying,
## /var/lib/huaying and the huaying user: configuration and governance records are not ours
## to delete.
uninstall:
	@set -e; \
	if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ] && [ -e "$(UNITDIR)/huayingd.service" ]; then \
	    systemctl disable --now huayingd.service || true; fi; \
	rm -f "$(DESTDIR)$(BINDIR)/huayingd" "$(DESTDIR)$(BINDIR)/huaying" "$(DESTDIR)$(UNITDIR)/huayingd.service"; \
	for plugin in notifiers/*/; do \
	    target="$(DESTDIR)$(PLUGINDIR)/$$(basename "$$plugin")"; \
	    for file in "$$plugin"* notifiers/huaying_notifier.py; do rm -f "$$target/$$(basename "$$file")"; done; \
	    if [ -d "$$target" ]; then rmdir --ignore-fail-on-non-empty "$$target"; fi; \
	done; \
	rm -f "$(DESTDIR)$(MANDIR)"/man1/huaying.1 "$(DESTDIR)$(MANDIR)"/man1/huaying-*.1 \
	    "$(DESTDIR)$(MANDIR)"/zh_CN/man1/huaying.1 "$(DESTDIR)$(MANDIR)"/zh_CN/man1/huaying-*.1 \
	    "$(DESTDIR)$(BASH_COMPLETION_DIR)/huaying" "$(DESTDIR)$(ZSH_COMPLETION_DIR)/_huaying"; \
	for dir in "$(DESTDIR)$(PLUGINDIR)" "$(DESTDIR)$(PKGLIBDIR)"; do \
	    if [ -d "$$dir" ]; then rmdir --ignore-fail-on-non-empty "$$dir"; fi; done; \
	if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi; \
	echo "uninstalled; kept $(DESTDIR)$(CONFDIR), the state in /var/lib/huaying and the $(SERVICE_USER) user"; \
	echo "(remove those by hand: rm -r $(CONFDIR) /var/lib/huaying; userdel $(SERVICE_USER))"

clean:
	rm -rf .build .build-fuzz .build-asan .build-tsan var

## An election for 古桥社区 and its year-end review on the simulated clock, told as a story.
demo: build
	python3 scripts/demo.py

## The W1 "durable reminders" and W2 "county year" benchmarks on a release build, one JSON
## line per run on stdout (bench/README.md). `make bench BENCH_QUICK=1` is a smoke run.
bench: release
	python3 bench/bench.py
