# tokbench experiment and development targets. Every target creates .venv with the machine's
# python3 when it is missing and installs the package; experiment targets only call the CLI.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TOKBENCH := $(VENV)/bin/tokbench
STAMP := $(VENV)/.installed-stamp
PYTEST_FLAGS ?= -q

TOKDATA ?= ../shared/data/tokenizers
# Every shared tokenizer file, and those with a merge list.
SHARED_TOKENIZERS := $(TOKDATA)/gpt2 $(TOKDATA)/r50k_base.tiktoken $(TOKDATA)/cl100k_base.tiktoken \
	$(TOKDATA)/olmo2_tokenizer.json $(TOKDATA)/qwen2_tokenizer.json $(TOKDATA)/gpt-neox_tokenizer.json \
	$(TOKDATA)/llama_tokenizer.json $(TOKDATA)/mistral_v1.model $(TOKDATA)/bert-base-uncased_wordpiece_tokenizer.json
MERGE_TOKENIZERS := $(filter-out %wordpiece_tokenizer.json,$(SHARED_TOKENIZERS))
CHARBENCH_OUT := results/charbench
# Parallelism of the experiment grids: `make exp-mixture JOBS=2` (local worker processes) or
# `make exp-optimal-vocab SCHEDULER=tcp://HOST:8786` (a Dask cluster; see README).
JOBS ?=
SCHEDULER ?=
GRID_FLAGS := $(if $(JOBS),--jobs $(JOBS)) $(if $(SCHEDULER),--scheduler $(SCHEDULER))

.PHONY: venv test test-all demo lint bench clean exp-charbench exp-mergefree exp-coverage exp-premiums exp-trainers exp-optimal-vocab exp-mixture exp-mixture-extra

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

test: venv
	$(PY) -m pytest -m "not slow" $(PYTEST_FLAGS)

test-all: venv
	$(PY) -m pytest $(PYTEST_FLAGS)

demo: venv
	$(TOKBENCH) demo --out demo-report

lint: venv
	$(VENV)/bin/ruff check tokbench tests benchmarks

bench: venv
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

exp-trainers: venv
	$(TOKBENCH) trainers-experiment --languages eng_Latn,fra_Latn,deu_Latn,vie_Latn,tur_Latn,rus_Cyrl,ell_Grek,arb_Arab,heb_Hebr,hin_Deva,zho_Hans,jpn_Jpan,kor_Hang,tha_Thai --code python,c --vocab-sizes 16000,32000 --out results/trainers/bytes_per_token.csv $(GRID_FLAGS)

OV_LANGS := eng_Latn,fra_Latn,deu_Latn,spa_Latn,tur_Latn,fin_Latn,vie_Latn,swh_Latn,rus_Cyrl,ukr_Cyrl,arb_Arab,pes_Arab,urd_Arab,hin_Deva,mar_Deva,ben_Beng,tam_Taml,tel_Telu,zho_Hans,jpn_Jpan,kor_Hang,tha_Thai,heb_Hebr,ell_Grek,kat_Geor,hye_Armn,amh_Ethi,mya_Mymr,khm_Khmr
OV_GRID := 500,1000,2000,3000,4000,5000

exp-optimal-vocab: venv
	$(TOKBENCH) optimal-vocab --corpus-train flores:all@dev --corpus-eval flores:all@devtest --languages $(OV_LANGS) --grid $(OV_GRID) --unreachable flag --no-progress --out results/optimal_vocab/gpt2 $(GRID_FLAGS)
	$(TOKBENCH) optimal-vocab --corpus-train flores:all@dev --corpus-eval flores:all@devtest --languages $(OV_LANGS) --grid $(OV_GRID) --pattern o200k --unreachable flag --no-progress --out results/optimal_vocab/o200k $(GRID_FLAGS)

exp-mixture: venv
	$(TOKBENCH) attack controlled --setting lang5 --setting lang10 --setting code5 --trials 10 --steps 300,1000,3000 --out results/mixture/controlled $(GRID_FLAGS)
	$(TOKBENCH) attack controlled --setting lang5 --trials 10 --steps 300,3000 --count-bytes 20k,50k,all --no-baselines --out results/mixture/sample_size $(GRID_FLAGS)
	$(TOKBENCH) attack controlled --setting extension --trials 10 --steps 300,1000 --base-steps 100,300,1000 --out results/mixture/extension $(GRID_FLAGS)
	$(TOKBENCH) attack mixture $(MERGE_TOKENIZERS) --steps 3000 --time-limit 600 --out results/mixture/offshelf $(GRID_FLAGS)

# Slower extras (n = 30 languages, natural + programming languages mixed); not part of exp-mixture.
exp-mixture-extra: venv
	$(TOKBENCH) attack controlled --setting lang30 --setting mixed --trials 3 --steps 1000,3000 --out results/mixture/controlled_extra $(GRID_FLAGS)

exp-coverage: venv
	$(TOKBENCH) coverage $(SHARED_TOKENIZERS) --csv --out results/coverage.csv
	$(TOKBENCH) coverage $(SHARED_TOKENIZERS) --json --out results/coverage.json

exp-premiums: venv
	$(TOKBENCH) premiums $(SHARED_TOKENIZERS) --corpus flores --split both --csv --out results/premiums.csv --summary-out results/premiums_summary.csv

exp-charbench: venv
	$(TOKBENCH) charbench generate --corpus "sample=sample:eng_Latn+flores=flores:eng_Latn@both" --per-length 100 --seed 0 --out $(CHARBENCH_OUT)/items.jsonl
	$(TOKBENCH) charbench features $(CHARBENCH_OUT)/items.jsonl $(SHARED_TOKENIZERS) --out $(CHARBENCH_OUT)/features.csv --table $(CHARBENCH_OUT)/feature_table.csv --figures $(CHARBENCH_OUT)

exp-mergefree: venv
	$(TOKBENCH) mergefree $(MERGE_TOKENIZERS) --corpus "flores:eng_Latn,fra_Latn,deu_Latn,rus_Cyrl,arb_Arab,hin_Deva,zho_Hans,jpn_Jpan,kor_Hang,tha_Thai@devtest+code:all" --out results/mergefree

clean:
	rm -rf demo-report audit-report .pytest_cache build *.egg-info
