# bi's two front-door commands: `make run` and `make test`.
# Everything installs itself on first use (scripts/setup); nothing is
# downloaded from outside the package registries.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
TARGET_DIR := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)
export CARGO_TARGET_DIR := $(TARGET_DIR)

.PHONY: run build build-debug setup setup-test test fmt-check clippy unit wasm-model e2e image image-check fmt

## run: install what is missing, build the release, start bi on http://127.0.0.1:3000
run: build
	$(TARGET_DIR)/release/bi start $(ARGS)

## build: release build of the server and the WASM/CSS bundle
# NB: `--split` is required: most pages are lazy routes whose code goes to
# their own WASM chunks (without it the bundle imports a missing module).
build: setup
	cargo leptos build --release --split

setup:
	scripts/setup

setup-test:
	scripts/setup --test

## test: everything CI runs: format, lints, unit + DB tests, wasm32 model build, browser tests, the image
test: setup-test fmt-check clippy unit wasm-model e2e image-check
	@echo "make test: all checks passed"

fmt-check:
	cargo fmt --all --check

clippy:
	cargo clippy --workspace --all-targets -- -D warnings
	# The browser side (hydrate feature) only compiles for wasm32.
	cargo clippy -p bi-frontend --features hydrate --target wasm32-unknown-unknown -- -D warnings

unit:
	cargo nextest run --workspace --no-fail-fast

wasm-model:
	cargo build -p bi-model --target wasm32-unknown-unknown

build-debug: setup
	cargo leptos build --split

e2e: build-debug
	cd end2end && BI_E2E_BINARY=$(TARGET_DIR)/debug/bi BI_E2E_SITE_ROOT=$(CURDIR)/target/site npx playwright test
	# The explorer and the timeline again, on a real kube-apiserver (../shared/realk8s).
	cd end2end && BI_E2E_BINARY=$(TARGET_DIR)/debug/bi BI_E2E_SITE_ROOT=$(CURDIR)/target/site npx playwright test -c playwright.realk8s.config.ts

## image: bi's container image (static binary + web UI) as an OCI archive, built without a container engine
image:
	scripts/image

## image-check: build the image, inspect it with skopeo and run the bi inside it
# NB: after e2e: it rebuilds target/site in release mode.
image-check:
	scripts/image --check

fmt:
	cargo fmt --all
