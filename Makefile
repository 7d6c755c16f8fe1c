# Reproducible recommender-systems study.
#   make            build everything: environment, data, every notebook's report, reports/index.html
#   make test       unit tests for lib/ and nbval over the stored notebooks
# See README.md for the other targets.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := all
.DELETE_ON_ERROR:

PYTHON  ?= python3
PROFILE ?= full
VENV    := .venv
PY      := $(VENV)/bin/python
ENV_STAMP := $(VENV)/.installed
ML100K  := data/ml-100k/ratings.tsv

# full-profile reports live in reports/, any other profile in reports/<profile>/.
# `make DATA=path/to/log.csv` (or a named data set: DATA=amazon-video) runs every notebook that applies
# on that data instead, into reports/<name>/ (reports/<name>/<profile>/) with its own index; a notebook
# that cannot run on it (no timestamps for the sequential study, a notebook about one fixed data set)
# is listed there as skipped, with the reason.
# A log whose columns the loader cannot name by itself takes USER_COL, ITEM_COL, RATING_COL,
# TIME_COL, SEP and ENCODING (make DATA=events.csv ITEM_COL=article SEP=';').
ifdef DATA
DATA_NAME := $(basename $(notdir $(DATA)))
DATA_FILE := $(wildcard $(DATA))
DATA_QUERY := $(subst $(eval) ,&,$(strip $(if $(USER_COL),user_col=$(USER_COL)) $(if $(ITEM_COL),item_col=$(ITEM_COL)) \
  $(if $(RATING_COL),rating_col=$(RATING_COL)) $(if $(TIME_COL),timestamp_col=$(TIME_COL)) $(if $(SEP),sep=$(SEP)) \
  $(if $(ENCODING),encoding=$(ENCODING))))
DATASET   := $(if $(DATA_FILE),$(abspath $(DATA)),$(DATA))$(if $(DATA_QUERY),?$(DATA_QUERY))
DATASET_ARG := --dataset '$(DATASET)'
REPORTS := reports/$(DATA_NAME)$(if $(filter full,$(PROFILE)),,/$(PROFILE))
else
REPORTS := reports$(if $(filter full,$(PROFILE)),,/$(PROFILE))
endif
# Notebook 13 sets two domains' reports side by side; `make cross-domain` builds it (and both domains) on request.
CROSS_NB  := notebooks/13_cross_domain.ipynb
NOTEBOOKS := $(filter-out $(CROSS_NB),$(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb)))
NAMES   := $(notdir $(basename $(NOTEBOOKS)))
EXECUTED := $(NAMES:%=$(REPORTS)/%.ipynb)
HTML    := $(NAMES:%=$(REPORTS)/%.html)
LIB_SRC := $(sort $(wildcard lib/recstudy/*.py lib/recstudy/*/*.py lib/recstudy/*/*/*.py))
# Each notebook depends on the library files its imports reach (lib/recstudy/builddeps.py), not on all of them.
DEPS    := $(NAMES:%=.deps/%.mk)
KERNEL_CONFIG := .jupyter/ipython/profile_default/ipython_kernel_config.py

# Jupyter, IPython and matplotlib keep their config and data inside the project.
export JUPYTER_CONFIG_DIR  := $(CURDIR)/.jupyter/config
export JUPYTER_DATA_DIR    := $(CURDIR)/.jupyter/data
export JUPYTER_RUNTIME_DIR := $(CURDIR)/.jupyter/runtime
export IPYTHONDIR          := $(CURDIR)/.jupyter/ipython
export MPLCONFIGDIR        := $(CURDIR)/.jupyter/matplotlib
export PYDEVD_DISABLE_FILE_VALIDATION := 1
export PYTHONHASHSEED      := 0

.PHONY: all env data reports notebooks test test-lib test-notebooks lab run speed cross-domain clean distclean help

all: $(REPORTS)/index.html

help:
	@sed -n '2,4p' Makefile; echo "  make PROFILE=quick   the quick profile, into reports/quick/"; \
	 echo "  make cross-domain   MovieLens and Amazon Video Games side by side (builds both)"; \
	 echo "  make speed          one epoch of each sequential model, interleaved rounds (THREADS=2; on a quiet machine)"; \
	 echo "  make env | data | notebooks | lab | clean | distclean"

# --- environment -----------------------------------------------------------
env: $(ENV_STAMP)

# Rebuilt only when the pins or the package metadata change; a second run installs nothing.
$(ENV_STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed; run make PYTHON=python3.11")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	mkdir -p $(JUPYTER_CONFIG_DIR) $(JUPYTER_DATA_DIR) $(JUPYTER_RUNTIME_DIR) $(IPYTHONDIR) $(MPLCONFIGDIR)
	touch $@

# --- data ------------------------------------------------------------------
data: $(ML100K)

$(ML100K): | $(ENV_STAMP)
	$(PY) -m recstudy.data.movielens

# --- notebooks -> executed copies -> HTML ----------------------------------
reports: $(HTML)

$(REPORTS)/%.ipynb: notebooks/%.ipynb profiles/$(PROFILE)/%.yaml $(ML100K) $(DATA_FILE) $(ENV_STAMP) | $(KERNEL_CONFIG)
	$(PY) -m recstudy.pipeline execute --profile $(PROFILE) $(DATASET_ARG) $< $@

$(REPORTS)/%.html: $(REPORTS)/%.ipynb
	$(PY) -m recstudy.pipeline html $< $@

.PRECIOUS: $(REPORTS)/%.ipynb

# Notebooks 06-09 cache every trained run (data/runs/, keyed by code, data, settings and seed);
# 08 compares each GAN with its generator trained alone (06's GRU4Rec, 09's SASRec) and 10 compares all of them, so they run after those and
# read the runs instead of training them again (order only: each still stands alone).
$(REPORTS)/08_gan.ipynb: | $(REPORTS)/06_rnn.ipynb $(REPORTS)/09_transformers.ipynb
# 04's Paper A verdict table reads the claims 01-03 recorded.
$(REPORTS)/04_comparison.ipynb: | $(REPORTS)/01_gmf.ipynb $(REPORTS)/02_mlp.ipynb $(REPORTS)/03_neumf.ipynb
$(REPORTS)/10_sequential_comparison.ipynb: | $(REPORTS)/06_rnn.ipynb $(REPORTS)/07_cnn.ipynb $(REPORTS)/08_gan.ipynb $(REPORTS)/09_transformers.ipynb

# A family notebook with two models would take longer than 30 minutes, so each of its models is
# tuned and trained first in a job of its own: the same notebook run with `models` set to that one
# model (reports/runs/NOTEBOOK@MODEL.ipynb; MODEL may be several, joined by +). The jobs fill the run
# and tuning caches in parallel (make -j2); the family notebook then reads every run back. A job may also run a
# share of the profile's seeds (NOTEBOOK@MODEL~SEEDS, seeds joined by +): AOS4Rec's five seeds took 43 minutes in one
# job, so its first job tunes and runs seeds 0 and 1 (21 min in that build) and a second, which waits for the tuning,
# runs seeds 2-4 (21 min).
# Notebook 10's ablations (Caser without its max-pooling, NextItNet with one block: about 20 minutes of
# training on the full profile) are trained the same way, by 10 run on the two models they ablate.
MODEL_RUNS := 06_rnn@GRU4Rec 06_rnn@DREAM 06_rnn@CA-RNN 06_rnn@HPMN 07_cnn@Caser 07_cnn@NextItNet 07_cnn@3D-CNN \
  09_transformers@SASRec 09_transformers@BERT4Rec 08_gan@SeqGAN 08_gan@IRGAN 08_gan@RecGAN 08_gan@MFGAN 08_gan@AOS4Rec~0+1 \
  08_gan@AOS4Rec~2+3+4 10_sequential_comparison@Caser+NextItNet
comma := ,
# A profile may list its own jobs (profiles/<profile>/jobs.mk; the cross-domain check has none).
-include profiles/$(PROFILE)/jobs.mk
MODEL_RUN_TARGETS := $(MODEL_RUNS:%=$(REPORTS)/runs/%.ipynb)
define MODEL_RUN
$(REPORTS)/runs/$(1)@$(2).ipynb: notebooks/$(1).ipynb profiles/$(PROFILE)/$(1).yaml $(ML100K) $(DATA_FILE) $(ENV_STAMP) | $(KERNEL_CONFIG)
	$$(PY) -m recstudy.pipeline execute --profile $(PROFILE) $(DATASET_ARG) --set 'models=[$(subst +,$(comma),$(firstword $(subst ~, ,$(2))))]' \
	  $(if $(word 2,$(subst ~, ,$(2))),--set 'seeds=[$(subst +,$(comma),$(word 2,$(subst ~, ,$(2))))]') $$< $$@
$(REPORTS)/$(1).ipynb: | $(REPORTS)/runs/$(1)@$(2).ipynb
endef
$(foreach run,$(MODEL_RUNS),$(eval $(call MODEL_RUN,$(word 1,$(subst @, ,$(run))),$(word 2,$(subst @, ,$(run))))))
# The ablation job reads the tuned settings and runs of its two models: it waits for their jobs.
$(REPORTS)/runs/10_sequential_comparison@Caser+NextItNet.ipynb: | \
  $(filter $(REPORTS)/runs/07_cnn@Caser.ipynb $(REPORTS)/runs/07_cnn@NextItNet.ipynb,$(MODEL_RUN_TARGETS))
# AOS4Rec's second job reads the settings its first job tuned (two jobs tuning at once would spend twice the budget).
$(REPORTS)/runs/08_gan@AOS4Rec~2+3+4.ipynb: | $(filter $(REPORTS)/runs/08_gan@AOS4Rec~0+1.ipynb,$(MODEL_RUN_TARGETS))
# make -j2 starts jobs in the order of the index's prerequisites. The longest jobs go first (measured on the full
# profile, 2-core machine, d2fca2a: the AOS4Rec job 43 min, MFGAN 19, NextItNet 19, SASRec 18, 3D-CNN 17, HPMN 13,
# 04 9, 11 9 min; the others 0-9 min), so that no long job starts last and runs alone at the end (longest-first
# scheduling).
# AOS4Rec's second job comes after five long jobs: make starts a job that waits for another only when its turn comes
# while the other has finished (else at the end of its pass over the list), and its first job ends long before.
LONG_FIRST := runs/08_gan@AOS4Rec~0+1 runs/08_gan@MFGAN runs/07_cnn@NextItNet runs/09_transformers@SASRec \
  runs/07_cnn@3D-CNN runs/06_rnn@HPMN runs/08_gan@AOS4Rec~2+3+4 11_sasrec_video_games
$(REPORTS)/index.html: $(foreach t,$(LONG_FIRST),$(filter $(REPORTS)/$(t).ipynb,$(MODEL_RUN_TARGETS) $(EXECUTED))) $(HTML)
	$(PY) -m recstudy.pipeline index --profile $(PROFILE) $(DATASET_ARG) $(REPORTS)

# On another log a notebook also reads its profile's overlay (profiles/<profile>/on_other_data/<notebook>.yaml):
# a change to it rebuilds what it changes.
ifdef DATA
$(foreach f,$(wildcard profiles/$(PROFILE)/on_other_data/*.yaml),$(eval $(REPORTS)/$(basename $(notdir $(f))).ipynb: $(f)))
$(foreach run,$(MODEL_RUNS),$(eval $(REPORTS)/runs/$(run).ipynb: $(wildcard profiles/$(PROFILE)/on_other_data/$(word 1,$(subst @, ,$(run))).yaml)))
endif

# The library files each notebook imports, found by following its imports (standard library only,
# so no environment is needed); written to a temporary file first so a killed make leaves none half written.
.deps/%.mk: notebooks/%.ipynb $(LIB_SRC)
	@mkdir -p .deps
	@$(PYTHON) lib/recstudy/builddeps.py $< > $@.tmp && mv $@.tmp $@

ifneq ($(filter-out help clean distclean,$(or $(MAKECMDGOALS),all)),)
-include $(DEPS)
endif

# The kernel's own log stays at errors: ipykernel 7 otherwise warns at every start that its local
# loopback TCP connection is unencrypted, once per notebook.
$(KERNEL_CONFIG):
	@mkdir -p $(@D)
	echo 'c.IPKernelApp.log_level = "ERROR"  # written by make' > $@

# Re-execute the notebooks in place on the quick profile: their stored outputs are what nbval checks.
notebooks: $(ML100K) $(ENV_STAMP) $(KERNEL_CONFIG)
	for nb in $(NOTEBOOKS); do $(PY) -m recstudy.pipeline refresh --profile quick $$nb; done

# One notebook by hand with other parameters (YAML values; an unknown name is an error listing the
# valid ones), output in $(REPORTS)/manual/:  make run NB=05_sequences SET='seed=7 windows=last'
run: $(ML100K) $(ENV_STAMP) | $(KERNEL_CONFIG)
	@test -n "$(NB)" || { echo "error: say which notebook, e.g. make run NB=05_sequences SET='seed=7'" >&2; exit 2; }
	$(PY) -m recstudy.pipeline execute --profile $(PROFILE) $(DATASET_ARG) $(foreach s,$(SET),--set '$(s)') notebooks/$(NB).ipynb $(REPORTS)/manual/$(NB).ipynb
	$(PY) -m recstudy.pipeline html $(REPORTS)/manual/$(NB).ipynb $(REPORTS)/manual/$(NB).html

# One epoch of each sequential model over every ML-100K training transition, in interleaved rounds, on
# this machine (run it with nothing else running): make speed THREADS=2 MODELS='GRU4Rec SASRec'
THREADS ?= 2
speed: $(ML100K) $(ENV_STAMP)
	$(PY) -m recstudy.experiments.speed --threads $(THREADS) $(if $(MODELS),--models $(MODELS))

# --- across domains ----------------------------------------------------------
# Which conclusions hold on MovieLens-100K and on a second real domain: the whole study on each (the
# second through `make DATA=...`), then notebook 13 sets their recorded verdicts side by side.
CROSS_DOMAIN_DATA := amazon-video
cross-domain: $(REPORTS)/13_cross_domain.html
	$(PY) -m recstudy.pipeline index --profile $(PROFILE) $(REPORTS)

$(REPORTS)/13_cross_domain.ipynb: $(CROSS_NB) profiles/$(PROFILE)/13_cross_domain.yaml lib/recstudy/experiments/cross_domain.py \
  $(REPORTS)/index.html | $(KERNEL_CONFIG)
	$(MAKE) --no-print-directory DATA=$(CROSS_DOMAIN_DATA) PROFILE=$(PROFILE)
	$(PY) -m recstudy.pipeline execute --profile $(PROFILE) $< $@

# --- tests -----------------------------------------------------------------
test: $(ML100K) $(ENV_STAMP) $(KERNEL_CONFIG)
	$(PY) -m pytest --nbval-lax --nbval-current-env tests $(NOTEBOOKS)

test-lib: $(ML100K) $(ENV_STAMP)
	$(PY) -m pytest tests

test-notebooks: $(ML100K) $(ENV_STAMP) $(KERNEL_CONFIG)
	$(PY) -m pytest --nbval-lax --nbval-current-env $(NOTEBOOKS)

# --- interactive -----------------------------------------------------------
lab: $(ML100K) $(ENV_STAMP)
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root,)

clean:
	rm -rf reports/*.ipynb reports/*.html reports/*.json reports/runs reports/quick reports/.*.tmp*

distclean: clean
	rm -rf $(VENV) data .jupyter .deps
