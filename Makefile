# distillnb: the README's commands. Everything runs offline inside .venv (created on first use).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
export HF_HUB_OFFLINE := 1
export MPLBACKEND := Agg
export PYTHONWARNINGS := ignore::UserWarning:nbdev.doclinks

VENV := .venv
BIN := $(VENV)/bin
SCALE ?= ci
ONLY ?=
TIMEOUT ?= 600
JOBS ?=

.PHONY: help venv reproduce test bench lab docs clean
help:  ## list the commands
	@grep -E '^[a-z]+:.*##' Makefile | sed 's/:.*##/\t/'

$(VENV)/.installed: settings.ini setup.py pyproject.toml
	@test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q -e ".[dev]"
	@# Liger's chunked losses are plain torch; its triton dependency (1 GB) serves GPU kernels only (tests/test_compat.py)
	$(BIN)/python -m pip install -q --no-deps "liger-kernel>=0.6"
	@touch $@

venv: $(VENV)/.installed  ## create .venv and install distillnb with its dev tools

reproduce: venv  ## run every paper notebook (SCALE=ci|gpu|paper, ONLY="slug ...", JOBS=N) into reports/ and write the scorecard
	$(BIN)/distillnb reproduce --scale $(SCALE) --timeout $(TIMEOUT) $(if $(ONLY),--only $(ONLY)) $(if $(JOBS),--jobs $(JOBS))

test: venv  ## export + sync check, the notebooks' tests, then pytest
	@rm -rf /tmp/distillnb-sync.$$$$ && cp -r distillnb /tmp/distillnb-sync.$$$$ && \
	  $(BIN)/nbdev_export && \
	  if ! diff -r -q -x __pycache__ /tmp/distillnb-sync.$$$$ distillnb; then \
	    rm -rf /tmp/distillnb-sync.$$$$; \
	    echo "nbdev_export changed distillnb/: the package was not in sync with the notebooks (now exported; commit it)"; exit 1; \
	  fi; rm -rf /tmp/distillnb-sync.$$$$
	$(BIN)/nbdev_test --n_workers 1 --timing
	$(BIN)/python -m pytest tests

bench: venv  ## the performance benchmarks (chunked losses, Sinkhorn) -> reports/bench.json, reports/bench.md
	$(BIN)/python -m pip install -q -e ".[dev,bench]"
	$(BIN)/python benchmarks/run.py --out reports

LAB_ARGS ?=
lab: venv  ## JupyterLab on 127.0.0.1 (add --allow-root when root; LAB_ARGS="--port 8899" for more)
	$(BIN)/jupyter lab --ip 127.0.0.1 --no-browser $(if $(filter 0,$(shell id -u)),--allow-root) --notebook-dir nbs $(LAB_ARGS)

docs: venv  ## the docs site in _docs/: Quarto where it is installed, else an offline preview (nbconvert, local MathJax)
	@if command -v quarto >/dev/null; then \
	  rm -rf _proc && $(BIN)/nbdev_proc_nbs; \
	  if [ -f reports/scorecard.md ]; then cp reports/scorecard.md _proc/ && cp -r reports/$(SCALE) _proc/; fi; \
	  cd _proc && quarto render --output-dir ../_docs; \
	else \
	  echo "Quarto is not installed: building the offline preview (distillnb.docs.build_site)"; \
	  $(BIN)/python -c "from distillnb.docs import build_site; print(len(build_site(scale='$(SCALE)')), 'pages in _docs/')"; \
	fi

clean:  ## remove generated reports and build output (keeps .venv)
	rm -rf reports _proc _docs .pytest_cache build dist *.egg-info
