# The two commands of the README:
#   make demo   set up the environment, generate the synthetic data, train
#               and evaluate the multi-task demo model, write panels
#   make test   set up the environment and run the test suite
VENV ?= .venv
PY := $(VENV)/bin/python
export MMMTL_VENV := $(abspath $(VENV))

.PHONY: env test demo

env:
	@bash tools/setup_env.sh

test: env
	$(PY) -m pytest tests -q -p no:cacheprovider $(PYTEST_ARGS)

demo: env
	$(PY) tools/misc/run_demo.py $(DEMO_ARGS)
