# One command to set up, one to test, one for the demo: what CI runs (`bash .ci/run` -> `make test`).
#
# The virtual environment lives outside the clone, keyed by the lock file, so every clone with
# the same uv.lock shares it and a changed lock gets a fresh one. The Kafka jars are cached
# outside the clone too (see horizon/kafka_local.py).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := test

UV_VERSION ?= 0.13.8
CACHE_HOME := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)
LOCK_HASH := $(shell sha256sum uv.lock | cut -c1-16)
export UV_PROJECT_ENVIRONMENT ?= $(CACHE_HOME)/horizon/venv-$(LOCK_HASH)
export PATH := $(HOME)/.local/bin:$(PATH)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

UV_RUN := uv run --frozen --all-extras
PYTEST_ARGS ?=

.PHONY: setup uv kafka-jars test demo kafka-start kafka-stop kafka-status up asyncapi

uv:
	@command -v uv >/dev/null || python3 -m pip install --user --quiet "uv==$(UV_VERSION)" \
	  || python3 -m pip install --user --quiet --break-system-packages "uv==$(UV_VERSION)"

setup: uv
	uv sync --frozen --all-extras
	$(MAKE) --no-print-directory kafka-jars

kafka-jars:
	$(UV_RUN) horizon kafka fetch

test: setup
	$(UV_RUN) pytest $(PYTEST_ARGS)

demo: setup
	$(UV_RUN) horizon demo --out out/demo

kafka-start: setup
	$(UV_RUN) horizon kafka start

kafka-stop:
	$(UV_RUN) horizon kafka stop

kafka-status:
	$(UV_RUN) horizon kafka status

up: kafka-start
	$(UV_RUN) horizon up

asyncapi: setup
	$(UV_RUN) horizon asyncapi
