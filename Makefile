# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-spark lint typecheck unit bench fuzz browser postgres java clean
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/agreementdsl check agreements/
	@echo
	$(BIN)/agreementdsl run agreements/herefordshire.yaml \
	  --ledger agreements/herefordshire-2005-06.csv \
	  --disputes agreements/herefordshire-disputes.csv \
	  --measures agreements/herefordshire-measures.csv
	@echo
	$(BIN)/agreementdsl render agreements/herefordshire.yaml --format all --annotate --output build
	@echo
	$(BIN)/agreementdsl report agreements/herefordshire.yaml \
	  --ledger agreements/herefordshire-2005-06.csv \
	  --disputes agreements/herefordshire-disputes.csv \
	  --measures agreements/herefordshire-measures.csv \
	  --as-of 2006-01-31 --output build/report

test: $(STAMP) browser postgres lint typecheck unit

# The HTML rendering test opens pages in headless Chromium (Debian packages chromium, chromium-driver).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing chromium for the rendering tests"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver >/dev/null; }

# The SQL tests start a throwaway PostgreSQL cluster (Debian package postgresql: initdb, pg_ctl).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || { \
	  echo "installing postgresql for the SQL tests"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql >/dev/null; }

# Spark's tests (pytest marker `spark`, left out of `make unit`): pyspark (the `spark` extra,
# large) and a Java runtime (Debian's openjdk-17-jre-headless, or default-jre-headless).
java:
	@command -v java >/dev/null 2>&1 || { \
	  echo "installing a Java runtime for Spark"; \
	  $(SUDO) apt-get update -qq && { DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq openjdk-17-jre-headless >/dev/null \
	  || DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq default-jre-headless >/dev/null; }; }

test-spark: $(STAMP) java
	$(BIN)/python -c 'import pyspark' 2>/dev/null || $(BIN)/python -m pip install --quiet -e '.[dev,spark]'
	$(BIN)/pytest -m spark tests/test_engine_sql_spark.py

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc

bench: $(STAMP)
	$(BIN)/python bench/run_ledger.py
	$(BIN)/python bench/run_sql.py \
	  $$(ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && echo --postgres) \
	  $$($(BIN)/python -c 'import pyspark' 2>/dev/null && command -v java >/dev/null && echo --spark)

# The long fuzz run (docs/robustness.md): FUZZ_INPUTS inputs over FUZZ_WORKERS processes. The
# corpus and totals in build/fuzz make it resumable: run it again and it goes on from there.
FUZZ_INPUTS ?= 1000000
FUZZ_WORKERS ?= 2
FUZZ_MAX_LEN ?= 20000
fuzz: $(STAMP)
	$(BIN)/python -c 'import atheris' 2>/dev/null || $(BIN)/python -m pip install --quiet 'atheris>=2.3'
	$(BIN)/python bench/fuzz.py --seed-only build/fuzz/corpus
	for i in $$(seq $(FUZZ_WORKERS)); do \
	  $(BIN)/python bench/fuzz.py --inputs=$$(( $(FUZZ_INPUTS) / $(FUZZ_WORKERS) )) \
	    -max_len=$(FUZZ_MAX_LEN) -rss_limit_mb=2048 -timeout=60 build/fuzz/corpus \
	    > build/fuzz/worker-$$i.log 2>&1 & \
	done; wait
	$(BIN)/python bench/fuzz.py --report

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
