# Two commands for a newcomer: `make lab` and `make test`. Everything lands in .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

# CI shrinks the notebooks' work with MNIST_QUICK=1 (see README); a learner's run is full size.
MNIST_QUICK ?= 1

.PHONY: venv lab test test-full notebooks bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -e ".[notebooks,test]"
	touch $(STAMP)

venv: $(STAMP)

# --allow-root only where you are root (containers), which JupyterLab otherwise refuses.
lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root)

# pytest for mnistlib, then nbval executing every notebook on a fresh kernel.
NBVAL := --nbval-lax --nbval-current-env --nbval-cell-timeout=1800

test: $(STAMP)
	MNIST_QUICK=$(MNIST_QUICK) $(BIN)/python -m pytest tests notebooks $(NBVAL)

# The whole suite with the notebooks at full size (what a learner runs).
test-full: $(STAMP)
	MNIST_QUICK=0 $(BIN)/python -m pytest tests notebooks $(NBVAL)

# Re-execute every notebook at full size and store its outputs (what is committed).
notebooks: $(STAMP)
	MNIST_QUICK=0 $(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	    --ExecutePreprocessor.timeout=3600 notebooks/[0-9]*.ipynb

bench: $(STAMP)
	$(BIN)/python -m pip install -e ".[bench]"
	$(BIN)/python bench/bench_mlp.py

clean:
	rm -rf $(VENV) .pytest_cache
