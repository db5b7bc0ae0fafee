# stat3sim — set-up, build, test and demo. `make test` and `make demo` work on a fresh Debian
# machine with Swift: they install the system libraries that are missing first.

SWIFT ?= swift
APT_PACKAGES := libopenblas-dev liblapacke-dev pkg-config

.PHONY: all deps build release test demo bench clean

all: release

## Install LAPACK/OpenBLAS and pkg-config with apt when (and only when) they are missing.
deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

## Build everything and run every unit and end-to-end test.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test

## The main job: until `stat3sim run` exists, a built-in stiff solve with its statistics.
demo: release
	./.build/release/stat3sim demo

## Side-by-side timings against libRoadRunner and SciPy (needs Python packages, see Scripts/).
bench: release
	python3 -m pip install -q -r Scripts/requirements.txt
	Scripts/bench-solvers

clean:
	rm -rf .build
