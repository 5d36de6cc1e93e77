# tsml — see README.md. `make run` serves with demo data; `make test` runs every test.
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)

.PHONY: all deps python build run test test-asan bench clean format

all: build

deps:
	@scripts/install_deps.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

# The export converters' Python environment (.venv, pinned from tools/export/requirements.txt).
python:
	@scripts/setup_python.sh

build: deps python $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	@scripts/run_dev.sh

test: build
	@scripts/run_tests.sh

# AddressSanitizer + UndefinedBehaviorSanitizer over the core suites (CI runs it after `test`).
ASAN_DIR ?= build-asan
test-asan: deps
	cmake -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTSML_SANITIZE=ON
	cmake --build $(ASAN_DIR) -j $(JOBS) --target unit_tests store_tests http_tests data_tests
	BUILD_DIR=$(ASAN_DIR) scripts/run_tests.sh -E "_NOT_BUILT"

bench: build
	@scripts/run_bench.sh

clean:
	rm -rf $(BUILD_DIR)

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')
