# The two commands of the README. Each installs what is missing, configures and builds,
# then runs: `make demo` the main job, `make test` the whole test suite.
#
# Knobs (environment): BUILD_DIR (default build), CMAKE_ARGS (extra -D options), JOBS.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
# Warnings are errors under CI (the CI variable is set by .ci/run).
ifneq ($(CI),)
CMAKE_ARGS += -DRAAS_WERROR=ON
endif

.PHONY: demo test deps build

demo: build
	$(BUILD_DIR)/bin/raas-demo

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

deps:
	@scripts/install-deps

build: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) >/dev/null
	@MAKEFLAGS= cmake --build $(BUILD_DIR) -j $(JOBS)
