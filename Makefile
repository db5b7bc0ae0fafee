# stat3sim — set-up, build, test and demo. `make test` and `make demo` work on a fresh Debian
# machine with Swift: they install the system libraries that are missing first.

SWIFT ?= swift
PYTHON ?= python3
APT_PACKAGES := libopenblas-dev liblapacke-dev libsuitesparse-dev pkg-config

.PHONY: all deps pydeps build release lint format test demo results bench bench-sensitivities bench-fit bench-networks clean

all: release

## Install LAPACK/OpenBLAS, SuiteSparse (KLU) and pkg-config with apt when (and only when) they are missing.
deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing; \
	fi

## Python packages of the scripts (libRoadRunner for the cross-checks, COPASI and basico for export-roundtrip,
## SALib for crosscheck-gsa, matplotlib for figures).
pydeps:
	@$(PYTHON) -c "import roadrunner, COPASI, basico, matplotlib, scipy, SALib" 2>/dev/null || $(PYTHON) -m pip install -q -r Scripts/requirements.txt

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

## The code's layout: `swift format` (it ships with the toolchain) with the committed .swift-format
## (line length 120); `lint` fails on any finding, `format` rewrites the files in place.
lint:
	$(SWIFT) format lint --strict --recursive --parallel Sources Tests

format:
	$(SWIFT) format format --in-place --recursive --parallel Sources Tests

## Lint, build everything, run every unit and end-to-end test, then the cross-check of the published
## models against libRoadRunner (as TOML models and as imported SBML), BioNetGen networks (.net) against
## libRoadRunner on BioNetGen's SBML of them, and the SBML export round
## trip (TOML -> SBML -> libRoadRunner and COPASI), and `stat3sim gsa` against SALib on the same samples.
test: deps pydeps lint
	$(SWIFT) build --build-tests
	$(SWIFT) test
	$(SWIFT) build -c release
	Scripts/crosscheck
	Scripts/crosscheck-sbml
	Scripts/crosscheck-bionetgen
	Scripts/export-roundtrip
	Scripts/crosscheck-gsa

## The main job: the classic IL-6 model's default run, written to results/classic.csv.
demo: release
	./.build/release/stat3sim run Models/classic.toml --out results/classic.csv

## Every CSV and figure in results/ (see results/README.md).
results: release pydeps
	Scripts/make-results

## Side-by-side timings against libRoadRunner and SciPy (needs Python packages, see Scripts/).
bench: release
	python3 -m pip install -q -r Scripts/requirements.txt
	Scripts/bench-solvers

## Forward sensitivities side by side: stat3sim against libRoadRunner's forward solver, and AMICI with
## `make bench-sensitivities BENCH_ARGS=--with-amici` (pip-builds AMICI into .build-bench/ first, ~5 min).
bench-sensitivities: release
	python3 -m pip install -q -r Scripts/requirements.txt
	Scripts/bench-sensitivities $(BENCH_ARGS)

## PEtab calibration speed: NLL and gradient ms on Tests/PEtab's problems and converged fit starts per
## CPU hour; AMICI beside it with `make bench-fit BENCH_ARGS=--with-amici` (pip-builds AMICI into
## .build-bench/ first, ~5 min, and compiles each problem once).
bench-fit: release
	python3 -m pip install -q -r Scripts/requirements.txt
	Scripts/bench-fit $(BENCH_ARGS)

## The five BioNetGen networks on the Catalyst protocol beside libRoadRunner (README, "Large networks");
## BCR and fceri_gamma2 take minutes per solve: `make bench-networks BENCH_ARGS=--models multistate,multisite2,egfr_net`.
bench-networks: release
	python3 -m pip install -q -r Scripts/requirements.txt
	Scripts/bench-networks $(BENCH_ARGS)

clean:
	rm -rf .build
