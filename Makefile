# mmecho: `make test` and `make demo` install what is missing into .venv/.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.mmecho-installed
DEMO_CFG := configs/meis/rtm_assigner_upanet16_meis-phantom_demo.py
DEMO_DIR := work_dirs/demo

.PHONY: install test demo lint clean

$(STAMP): tools/setup_venv.sh requirements/runtime.txt requirements/tests.txt setup.cfg
	bash tools/setup_venv.sh
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest tests -q

demo: $(STAMP)
	$(PY) tools/dataset_converters/make_phantom.py meis data/meis_phantom --num 80 --seed 0
	$(PY) tools/train.py $(DEMO_CFG) --work-dir $(DEMO_DIR)
	$(PY) tools/test.py $(DEMO_CFG) $(DEMO_DIR)/iter_500.pth --work-dir $(DEMO_DIR) --show-dir vis

lint: $(STAMP)
	$(PY) -m flake8 mmecho tools tests configs || true

clean:
	rm -rf $(DEMO_DIR) data/meis_phantom
