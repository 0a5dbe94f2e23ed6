# Quick start: `make demo` (set up, run the reviewer on a bundled example repository)
# and `make test` (set up, run the whole suite). Both work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXTRAS := dev,llm,mlx,rag,github,treesitter,serve,lsp,fixes
STAMP := $(VENV)/.installed

.PHONY: venv demo test lint typecheck unit bench clean lock

venv: $(STAMP)

# constraints.txt is the lock: every direct and transitive dependency at the versions the
# suite passed with. `make lock` refreshes it on purpose (pyproject.toml keeps ranges).
LOCK := constraints.txt
# llama.cpp is compiled for a portable x86-64 level, not for this CPU (-march=native): a
# virtual machine can advertise instructions it does not let a process run (AMX under some
# hypervisors), and a native build then dies with "Illegal instruction" at the first token.
# The build skips pip's cache so that a wheel built otherwise is never reused.
X86 := $(filter x86_64 amd64,$(shell uname -m))
LLAMA_CMAKE_ARGS ?= $(if $(X86),-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON)

$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c $(LOCK) --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(LOCK) torch==2.13.0
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip install --quiet --no-cache-dir \
		-c $(LOCK) 'llama-cpp-python[server]'
	$(BIN)/python -m pip install --quiet -c $(LOCK) -e '.[$(EXTRAS)]'
	touch $(STAMP)

# Re-resolve every dependency from pyproject.toml's ranges in a scratch venv and write the
# lock (then run `make test` before committing it).
LOCK_VENV := .venv-lock
lock:
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LOCK_VENV)/bin/python -m pip install --quiet torch==2.13.0
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(LOCK_VENV)/bin/python -m pip install --quiet \
		--no-cache-dir 'llama-cpp-python[server]'
	$(LOCK_VENV)/bin/python -m pip install --quiet -e '.[$(EXTRAS)]'
	{ echo "# The lock: every dependency of every extra at the versions make test passed with."; \
	  echo "# make uses it as pip's constraints file; refresh on purpose with make lock."; \
	  echo "# torch is the CPU build (an unpinned torch pulls a multi-GB CUDA build)."; \
	  $(LOCK_VENV)/bin/python -m pip freeze --all --exclude-editable | sed 's/+[A-Za-z0-9.]*$$//'; \
	} > $(LOCK)
	rm -rf $(LOCK_VENV)

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
	$(BIN)/lint-imports

unit: venv
	$(BIN)/python -m pytest -q -n 2

test: venv lint unit

bench: venv
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) demo-repo .pytest_cache .mypy_cache .ruff_cache
