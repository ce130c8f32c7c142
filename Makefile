# Each target bootstraps .venv itself, so a fresh checkout needs only python3 (3.11+).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-deps lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/sitbreak demo

# test-deps first: a machine without mosquitto or dbus-daemon stops in seconds with the command to run.
test: test-deps lint typecheck pytest

test-deps:
	@sh tools/test-deps

lint: $(STAMP)
	$(BIN)/ruff check monitor firmware_sim tests bench
	$(BIN)/ruff format --check monitor firmware_sim tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) test-deps
	$(BIN)/pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/throughput.py
	$(BIN)/python bench/link_cpu.py
	$(BIN)/python bench/nudge_latency.py
	$(BIN)/python bench/crash_loss.py
	$(BIN)/python bench/live_agreement.py
	$(BIN)/python bench/service.py
	$(BIN)/python bench/store_reports.py
	$(BIN)/python bench/accuracy.py $${SITBREAK_DATA:-../shared/data}/hugadb --format hugadb
	$(BIN)/python bench/accuracy.py $${SITBREAK_DATA:-../shared/data}/hapt --format hapt

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build *.egg-info
