# mmecho: `make test` and `make demo` install what is missing into .venv/.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.mmecho-installed
DEMO_CFG := configs/meis/rtm_assigner_upanet16_meis-phantom_demo.py
DEMO_DIR := work_dirs/demo

.PHONY: install test test-fast demo demo-camus demo-runet demo-registration lint clean

$(STAMP): tools/setup_venv.sh requirements/runtime.txt requirements/tests.txt setup.cfg
	bash tools/setup_venv.sh
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest tests -q

# everything but the end-to-end runs marked `slow` (CI runs `make test`)
test-fast: $(STAMP)
	$(PY) -m pytest tests -q -m "not slow"

demo: $(STAMP)
	$(PY) tools/dataset_converters/make_phantom.py meis data/meis_phantom --num 80 --seed 0
	$(PY) tools/train.py $(DEMO_CFG) --work-dir $(DEMO_DIR)
	$(PY) tools/test.py $(DEMO_CFG) $(DEMO_DIR)/iter_500.pth --work-dir $(DEMO_DIR) --show-dir vis

# CAMUS benchmark on a 30-patient phantom: U-Net-ResNet34 and DeepLabV3+-EfficientNet-b3, 300 iterations each
demo-camus: $(STAMP)
	$(PY) tools/dataset_converters/make_phantom.py camus data/camus_phantom --num 30 --seed 0
	$(PY) tools/benchmark_grid.py --cells unet:r34 deeplabv3plus:effb3 --data-root data/camus_phantom \
		--max-iters 300 --batch-size 8 --num-workers 0 --aug none --work-dir work_dirs/camus_grid_phantom

# RU-Net study on the same phantom: 3-fold cross-validation of U-Net 1, SHG and RU-Net, 300 iterations per fold
# at batch 4, images resized to 128x128 (CPU size; the configs use 256)
SMALL := model.data_preprocessor.size='(128,128)' train_dataloader.dataset.pipeline.2.scale='(128,128)' \
	val_dataloader.dataset.pipeline.1.scale='(128,128)' test_dataloader.dataset.pipeline.1.scale='(128,128)'
demo-runet: $(STAMP)
	$(PY) tools/dataset_converters/make_phantom.py camus data/camus_phantom --num 30 --seed 0
	for m in unet1_camus shg_camus runet_camus; do \
		$(PY) tools/cross_validate.py configs/runet/$$m.py --folds 3 --data-root data/camus_phantom \
			--max-iters 300 --batch-size 4 --num-workers 0 --work-dir work_dirs/cv_phantom/$$m \
			--folds-file work_dirs/cv_phantom/folds.json --cfg-options $(SMALL) || exit 1; \
	done

# Registration pseudo-labels (paper 001) on the same phantom: DLIR B-spline model (1,500 iterations at 128 x 128),
# forward / backward / bidirectional pseudo-labels scored against the dense phantom truth, then the 2D sparse,
# 2D dense and 2D+time models (600 iterations each) tested with the sequence metrics (Eq. 2 smoothness)
REG_CFG := configs/registration/bspline_dlir_camus-phantom.py
REG_DIR := work_dirs/bspline_dlir_camus-phantom
PSEUDO  := data/camus_phantom_pseudo
demo-registration: $(STAMP)
	$(PY) tools/dataset_converters/make_phantom.py camus data/camus_phantom --num 30 --seed 0
	$(PY) tools/train.py $(REG_CFG) --work-dir $(REG_DIR)
	for m in forward backward bidirectional; do \
		$(PY) tools/generate_pseudo_labels.py $(REG_CFG) $(REG_DIR)/iter_1500.pth data/camus_phantom \
			--mode $$m --out $(PSEUDO)/$$m || exit 1; \
	done
	$(PY) tools/analysis_tools/evaluate_pseudo_labels.py data/camus_phantom --split database_split/subgroup_testing.txt \
		--pseudo forward=$(PSEUDO)/forward backward=$(PSEUDO)/backward bidirectional=$(PSEUDO)/bidirectional \
		--out work_dirs/pseudo_eval_phantom/testing
	for m in unet2d_sparse unet2d_dense unet3d_dense; do \
		$(PY) tools/train.py configs/temporal/$${m}_camus-phantom.py --work-dir work_dirs/temporal_phantom/$$m || exit 1; \
		$(PY) tools/test.py configs/temporal/$${m}_camus-phantom.py work_dirs/temporal_phantom/$$m/iter_600.pth \
			--work-dir work_dirs/temporal_phantom/$$m \
			--cfg-options test_evaluator.output_dir=work_dirs/temporal_phantom/$$m/seq_eval || exit 1; \
	done

lint: $(STAMP)
	$(PY) -m flake8 mmecho tools tests configs || true

clean:
	rm -rf $(DEMO_DIR) data/meis_phantom data/camus_phantom work_dirs/camus_grid_phantom work_dirs/cv_phantom \
		$(PSEUDO) $(REG_DIR) work_dirs/pseudo_eval_phantom work_dirs/temporal_phantom
