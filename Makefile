# Quick start: `make demo` (set up, run the reviewer on a bundled example repository)
# and `make test` (set up, run the whole suite). Both work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXTRAS := dev,llm,mlx,rag,github,treesitter
STAMP := $(VENV)/.installed

.PHONY: venv demo test lint typecheck unit bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt torch==2.13.0
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[$(EXTRAS)]'
	touch $(STAMP)

demo: venv
	$(BIN)/python examples/make_demo.py demo-repo
	@echo "--- reviewer check --staged in demo-repo/ (exit 1 = findings, as expected) ---"
	cd demo-repo && { ../$(BIN)/reviewer check --staged; test $$? -le 1; }
	@echo "--- the embedded model (SmolLM2-135M) explains three findings (check --explain) ---"
	cd demo-repo && { ../$(BIN)/reviewer check --staged --explain --max-explained 3 \
		--select RV101,RV201,RV602 --quiet; test $$? -le 1; }
	@echo "--- the validated fixes (reviewer fix --diff; add --unsafe-fixes for the model's) ---"
	cd demo-repo && { ../$(BIN)/reviewer fix --staged --diff; test $$? -le 1; }

lint: venv
	$(BIN)/ruff check reviewer tests bench
	$(BIN)/mypy

unit: venv
	$(BIN)/python -m pytest -q -n 2

test: venv lint unit

bench: venv
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) demo-repo .pytest_cache .mypy_cache .ruff_cache
