# Huaying: the two set-up commands are `make run` and `make test` (see README.md).
# Both install what a fresh Debian machine with Swift lacks, then build.

SWIFT ?= swift
CONFIG ?= etc/huaying.yaml
APT_PACKAGES := libuv1-dev libsqlite3-dev pkg-config

.PHONY: run test build deps clean

## Run the daemon in the foreground with the development config (state under ./var/).
run: build
	.build/debug/huayingd --config $(CONFIG)

## Build everything and run every test.
test: deps
	$(SWIFT) test

build: deps
	$(SWIFT) build

## Install the system libraries when pkg-config cannot find them (apt, as root or via sudo).
deps:
	@if pkg-config --exists libuv sqlite3 2>/dev/null; then exit 0; fi; \
	echo "Installing $(APT_PACKAGES) ..."; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	command -v apt-get >/dev/null || { echo "apt-get not found: install libuv and SQLite development files (with pkg-config) by hand" >&2; exit 1; }; \
	$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES)

clean:
	rm -rf .build var
