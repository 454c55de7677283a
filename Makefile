# Two commands for a fresh Debian machine with Rust: `make dev` and `make test`.
# Each installs what it needs (Java, npm packages from the lockfile, Python tools in a
# venv under .tools/) and is safe to run again.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .tools/venv
CHECKOV_VENV := .tools/checkov
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SAM := SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 $(VENV)/bin/sam
CFN_LINT := AWS_DEFAULT_REGION=us-east-1 $(VENV)/bin/cfn-lint
EVENTS := infra/local/events
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)

.PHONY: help dev test bench soak deps check-events release deploy deploy-check clean-tools

help:
	@echo "make dev      the local stack with demo data on http://127.0.0.1:$${PORT:-3000} (PORT, ADMIN_TOKEN to change)"
	@echo "make test     everything that proves it works"
	@echo "make release  release build of every function for x86_64, zipped (arm64: sam build)"
	@echo "make deploy   build for arm64 and deploy to your AWS account with SAM (see README: Deploying)"
	@echo "make deploy-check  sam validate --lint, cfn-lint and checkov on the template (part of make test)"
	@echo "make bench    sizes, cold starts, load, the viral day, a pledge's fan-out; writes bench/results.md (about 75 min, 60 once built)"
	@echo "make soak     the 60 s load test (200 clients), then 60 s fuzz runs of request parsing and of stored items"

dev: deps
	cargo run --package local-stack

test: deps
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo test --workspace
	cargo build --package local-stack --package rally-cli
	LOCAL_STACK_BIN="$(TARGET_DIR)/debug/local-stack" RALLY_BIN="$(TARGET_DIR)/debug/rally" node --test --test-concurrency=1 tests/browser/widget.test.mjs tests/browser/console.test.mjs
	tests/schemathesis/run "$(TARGET_DIR)/debug/local-stack" $(VENV)/bin/st
	$(MAKE) --no-print-directory deploy-check
	$(MAKE) --no-print-directory check-events

# The template as a careful operator would check it; checkov's accepted failures are
# listed, each with its reason, in infra/checkov-exceptions.yaml.
deploy-check: deps $(CHECKOV_VENV)/.stamp
	$(SAM) validate --lint --template-file infra/template.yaml
	$(CFN_LINT) infra/template.yaml
	$(CHECKOV_VENV)/bin/python infra/checks/checkov.py $(CHECKOV_VENV)/bin/checkov infra/template.yaml infra/checkov-exceptions.yaml

# Build every function for arm64 (cargo-lambda, with Zig as the cross-linker) and deploy:
# guided the first time (answers kept in samconfig.toml), then with those answers.
# The admin token is made once, into .deploy/ (git-ignored): back it up.
STACK ?= rally
deploy: deps .tools/deploy.stamp
	@mkdir -p .deploy && chmod 700 .deploy
	@test -s .deploy/admin-token || { umask 077; openssl rand -hex 32 > .deploy/admin-token; \
	  echo "made .deploy/admin-token: keep a copy somewhere safe (a password manager); it is the only one"; }
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" SAM_CLI_TELEMETRY=0 $(VENV)/bin/sam build --beta-features --template-file infra/template.yaml
	@hash=$$(tr -d '\n' < .deploy/admin-token | sha256sum | cut -d' ' -f1); \
	if [ -f samconfig.toml ] && [ -z "$(GUIDED)" ]; then \
	  SAM_CLI_TELEMETRY=0 $(VENV)/bin/sam deploy; \
	else \
	  SAM_CLI_TELEMETRY=0 $(VENV)/bin/sam deploy --guided --stack-name $(STACK) --capabilities CAPABILITY_IAM \
	    --parameter-overrides AdminTokenSha256=$$hash; \
	fi

# Cross-compiling to arm64: Rust's aarch64 target and Zig (from PyPI) as the linker.
.tools/deploy.stamp: $(VENV)/.stamp
	rustup target add aarch64-unknown-linux-gnu
	$(VENV)/bin/pip install --quiet --disable-pip-version-check ziglang==0.13.0
	@touch $@

# The sample events are what `sam local generate-event` makes; prove they still are.
check-events: deps
	@tmp=$$(mktemp -d); \
	$(SAM) local generate-event apigateway http-api-proxy --method GET --path posts > $$tmp/list-posts.json && \
	$(SAM) local generate-event apigateway http-api-proxy --method GET --path posts/from-api-gateway > $$tmp/get-post.json && \
	$(SAM) local generate-event apigateway http-api-proxy --method DELETE --path posts/from-api-gateway > $$tmp/delete-post.json && \
	$(SAM) local generate-event apigateway http-api-proxy --method POST --path posts \
	  --body '{"slug":"from-api-gateway","title":"Sent through API Gateway","body":"Hello","author":"Min-jun","tags":["lambda"]}' > $$tmp/create-post.json && \
	diff -r $$tmp $(EVENTS) && echo "sample events match sam local generate-event"; \
	status=$$?; rm -rf $$tmp; exit $$status

FUNCTIONS := posts comments campaigns widget events

release: deps
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cargo lambda build --release --x86-64 --output-format zip $(addprefix --package ,$(FUNCTIONS))

# Measures, never judges: the numbers go to bench/results.md and no figure fails the build.
bench: deps .tools/wrk.stamp .tools/peers/.stamp bench/peers/node_modules/.stamp
	@start=$$(date +%s); $(MAKE) --no-print-directory release && \
	cargo build --profile bench-harness --package bench --package rally-cli && \
	BENCH_BUILD_SECONDS=$$(( $$(date +%s) - start )) BENCH_LAMBDA_DIR="$(TARGET_DIR)/lambda" \
	  BENCH_BIN_DIR="$(TARGET_DIR)/x86_64-unknown-linux-gnu/release" "$(TARGET_DIR)/bench-harness/rally-bench"

# The peers the bench measures beside Rally (Isso). A peer that cannot be installed is
# reported by the bench as not measured; the rest of it runs.
.tools/peers/.stamp: bench/requirements-peers.txt
	@mkdir -p .tools
	python3 -m venv .tools/peers && .tools/peers/bin/pip install --quiet --disable-pip-version-check \
	  -r bench/requirements-peers.txt || echo "the bench's peers could not be installed: it reports them as not measured"
	@touch $@

# Waline's server and client, from the lockfile; its SQLite binding is built here against
# the Node headers Debian's nodejs ships (its prebuilt ones come from outside the registries).
bench/peers/node_modules/.stamp: bench/peers/package-lock.json
	(npm ci --prefix bench/peers --no-audit --no-fund --loglevel=error && \
	  npm rebuild sqlite3 --prefix bench/peers --nodedir=/usr --loglevel=error) || \
	  echo "Waline could not be installed: the bench reports it as not measured"
	@mkdir -p bench/peers/node_modules && touch $@

deps: .tools/java.stamp .tools/chromium.stamp node_modules/.package-lock.json $(VENV)/.stamp

.tools/java.stamp:
	@mkdir -p .tools
	@command -v java >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y default-jre-headless; }
	@command -v npm >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y nodejs npm; }
	@touch $@

# The browser tests drive Debian's Chromium; nothing downloads a browser of its own.
.tools/chromium.stamp:
	@mkdir -p .tools
	@test -x /usr/bin/chromium || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; }
	@touch $@

# Not part of `make test`: a minute of load that asserts correctness (no 5xx, counts exact
# afterwards), then a minute of fuzzing (nightly Rust and cargo-fuzz, installed under .tools).
soak: deps
	cargo build --profile bench-harness --package bench --bin soak
	"$(TARGET_DIR)/bench-harness/soak"
	@rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	@test -x .tools/cargo/bin/cargo-fuzz || cargo install cargo-fuzz --locked --root .tools/cargo
	cd fuzz && for target in request_parsing stored_items; do \
	  PATH="$(CURDIR)/.tools/cargo/bin:$$PATH" cargo +nightly fuzz run --target-dir "$(abspath $(TARGET_DIR))/fuzz" \
	    $$target -- -max_total_time=$${FUZZ_SECONDS:-60} || exit 1; done

.tools/wrk.stamp:
	@mkdir -p .tools
	@command -v wrk >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y wrk; }
	@touch $@

node_modules/.package-lock.json: package-lock.json .tools/java.stamp
	npm ci --no-audit --no-fund --loglevel=error

$(VENV)/.stamp: infra/requirements-dev.txt
	@python3 -m venv --help >/dev/null 2>&1 || { $(SUDO) apt-get update && $(SUDO) apt-get install -y python3-venv; }
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/requirements-dev.txt
	@touch $@

$(CHECKOV_VENV)/.stamp: infra/requirements-checkov.txt $(VENV)/.stamp
	python3 -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/requirements-checkov.txt
	@touch $@

clean-tools:
	rm -rf .tools node_modules
