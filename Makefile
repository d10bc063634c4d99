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

.PHONY: demo demo-sim demo-sim-run test deps build

# The main job: the nom thesis's experiment live on this machine (root: network namespaces,
# tc, cgroups), then the simulator's prediction of it and the thesis's published figures,
# each with its gap (scripts/demo-live.sh; docs/testbed.md). Scaled phases (10 s + 10 s, the
# penalty and bonus functions); FULL=1: the thesis's 60 s + 60 s and all three functions.
# Without root it says so in one line and runs demo-sim.
demo: build
	@FULL=$(FULL) scripts/demo-live.sh $(BUILD_DIR)

# The simulator's own demo: nom-thesis.ini from the thesis's published figures, its profit
# table beside them. build/bin/raas-demo shows every pricing model on a sample market.
demo-sim: build demo-sim-run

demo-sim-run:
	$(BUILD_DIR)/bin/raas-sim run sim/scenarios/nom-thesis.ini --out $(BUILD_DIR)/nom-thesis.sqlite
	$(BUILD_DIR)/bin/raas-sim report $(BUILD_DIR)/nom-thesis.sqlite --out $(BUILD_DIR)/nom-thesis-report >/dev/null
	@echo "charts and CSVs: $(BUILD_DIR)/nom-thesis-report/   pricing models side by side: $(BUILD_DIR)/bin/raas-demo"

# After ctest, pass or fail, the skipped tests and the reason each printed (scripts/test-skips),
# so that a skip is seen; the exit status stays ctest's.
test: build
	@cd $(BUILD_DIR) && { ctest --output-on-failure -j $(JOBS) --output-junit ctest-junit.xml \
		$(CTEST_ARGS); rc=$$?; $(CURDIR)/scripts/test-skips ctest-junit.xml; exit $$rc; }

deps:
	@scripts/install-deps

build: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) >/dev/null
	@env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS cmake --build $(BUILD_DIR) -j $(JOBS)
