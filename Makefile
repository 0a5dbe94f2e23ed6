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

# The findings the demo has the model explain (tests/test_demo.py runs the same selection).
DEMO_SELECT = RV101,RV201,RV605

demo: venv
	$(BIN)/python examples/make_demo.py demo-repo
	@echo "--- reviewer check --staged in demo-repo/ (exit 1 = findings, as expected) ---"
	cd demo-repo && { ../$(BIN)/reviewer check --staged; test $$? -le 1; }
	@echo "--- the embedded model (SmolLM2-135M) explains three findings and proposes fixes;"
	@echo "    only fixes that pass validation are shown (check --explain) ---"
	cd demo-repo && { ../$(BIN)/reviewer check --staged --explain --max-explained 3 \
		--llm-timeout 300 --select $(DEMO_SELECT) --quiet; test $$? -le 1; }
	@echo "--- every validated fix: the rule's own and the model's (fix --diff --unsafe-fixes;"
	@echo "    the model's answers come from the cache) ---"
	cd demo-repo && { ../$(BIN)/reviewer fix --staged --diff --unsafe-fixes --max-explained 3 \
		--llm-timeout 300 --select $(DEMO_SELECT); test $$? -le 1; }

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
