# A thin wrapper: every target is `python3 run.py TARGET` (run.py holds the logic and works without make,
# e.g. on Windows: `py run.py test`). `make test MNIST_QUICK=0` passes the variable on, as before.
PYTHON ?= python3
TARGETS := venv lab test test-all test-full notebooks bench torch student preflight handouts wheelhouse clean

.PHONY: $(TARGETS)

ifdef MNIST_QUICK
export MNIST_QUICK
endif

$(TARGETS):
	$(PYTHON) run.py $@
