# journeymap — the two commands a fresh clone needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
DEMO_DIR ?= demo-workspace
# make test runs the suite on this many pytest-xdist workers, whole files each (0: in this process)
TEST_WORKERS ?= 2

.PHONY: demo test test-fast install install-test system-deps bench bench-app lint clean docs

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml constraints.txt | $(VENV)/bin/python
	$(PIP) install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml constraints.txt | $(VENV)/bin/python
	$(PIP) install --quiet -c constraints.txt -e '.[test,spark]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

demo: install
	$(VENV)/bin/journeymap demo $(DEMO_DIR) $(DEMO_ARGS)

test: install-test system-deps
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

# the edit loop: everything but the tests marked slow (Spark, the whole demo, big renders)
test-fast: install-test system-deps
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not slow"

# Debian's chromium renders PNG/PDF exports and runs the browser tests (never downloaded by pip);
# a headless JRE runs the Spark parity tests (pyspark needs java on PATH).
system-deps:
	@test -x /usr/bin/chromium || (apt-get update -qq && apt-get install -y -qq chromium)
	@command -v java >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq default-jre-headless)

bench: install-test
	$(PIP) install --quiet -c constraints.txt -e '.[bench]'
	$(PY) bench/run.py $(BENCH_ARGS)
	$(PY) bench/app.py
	$(PY) bench/collector.py
	$(PY) bench/store.py

# the app on the 50,000-customer demo: view from the cache, save, 20 readers for 30 s
bench-app: install
	$(PY) bench/app.py $(BENCH_APP_ARGS)

docs: install
	$(PY) -m journeymap.docs_gen

clean:
	rm -rf $(VENV) $(DEMO_DIR) build dist src/*.egg-info
