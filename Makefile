# Keen — common tasks. `make help` lists them.
GO      ?= go
SHARED  ?= ../shared
TESTS   ?= $(SHARED)/onnx-backend-tests
ONNXRUN  = bin/onnxrun

.PHONY: help build test generate conformance conformance-baseline bench bench-kernels bench-sgemm bench-models bench-train plugins demo vet fuzz

help:
	@grep -E '^[a-z-]+:.*## ' Makefile | sed 's/:.*## /\t/'

build: ## build onnxrun into bin/
	$(GO) build -o $(ONNXRUN) ./cmd/onnxrun

# Packages that have tests (go vet builds the others), so the output closes
# on test results rather than "no test files" lines.
TESTED = $$($(GO) list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' ./...)

test: ## vet and run all tests (the README's test command)
	$(GO) vet ./...
	$(GO) test $(TESTED)

generate: ## regenerate generated code (protobuf, op schemas, assembly)
	$(GO) generate ./...

conformance: build ## run the ONNX backend tests on the CPU backend
	$(ONNXRUN) conformance --backend cpu --json conformance-report.json $(TESTS)

conformance-baseline: build ## add newly passing cases to conformance/baseline/cpu.txt
	$(GO) test ./conformance -run TestBaselineCPU -count=1 -v -args -update

# Benchmarks (docs/PERFORMANCE.md): Keen against ONNX Runtime (inference)
# and PyTorch (training steps), interleaved A B A B ... over BENCH_PAIRS
# pairs at 1 and 2 threads. Needs /usr/bin/python3 with torch, torchvision
# and onnx (Debian packages) and interop/node_modules (npm ci in interop).
PY          ?= /usr/bin/python3
BENCH_DIR   ?= /tmp/keen-bench
BENCH_PAIRS ?= 5
BENCH_ITERS ?= 10
BENCH_OUT   ?= $(BENCH_DIR)/results.jsonl
COMPARE      = $(PY) tools/bench_compare.py --pairs $(BENCH_PAIRS) --out $(BENCH_OUT)

bench: bench-kernels bench-sgemm bench-models bench-train ## all benchmarks: kernels, SGEMM vs OpenBLAS, models vs ONNX Runtime, training vs PyTorch

bench-kernels: ## go test kernel benchmarks (GFLOP/s): GEMM, depthwise taps, Adam, conv, dispatch
	$(GO) test -run '^$$' -bench 'Sgemm/avx512/t[12]/|Sgemm/avx2/t[12]/|Kernel|Indirect' -benchtime 20x ./backends/cpu/internal/gemm
	$(GO) test -run '^$$' -bench . -benchtime 200x ./backends/cpu/internal/dwconv
	$(GO) test -run '^$$' -bench . -benchtime 100x ./backends/cpu/internal/adam
	$(GO) test -run '^$$' -bench 'Conv' -benchtime 20x ./backends/cpu
	$(GO) test -run '^$$' -bench 'DispatchAdd8' -benchmem ./eager

$(BENCH_DIR)/resnet18/model.onnx $(BENCH_DIR)/mobilenet_v2/model.onnx &:
	$(PY) tools/export_models.py $(BENCH_DIR) resnet18 mobilenet_v2

$(BENCH_DIR)/mlp/model.onnx $(BENCH_DIR)/cnn/model.onnx &:
	$(PY) tools/torch_train_bench.py export $(BENCH_DIR)

$(BENCH_DIR)/sgemm1024/model.onnx:
	$(PY) tools/sgemm_bench.py model $(BENCH_DIR)

bench-sgemm: build $(BENCH_DIR)/sgemm1024/model.onnx ## SGEMM 1024³ (a MatMul model) vs numpy's OpenBLAS matmul
	@for t in 1 2; do \
		$(COMPARE) --label "sgemm 1024³, $$t thread(s), Keen/OpenBLAS" \
			--a "$(ONNXRUN) bench $(BENCH_DIR)/sgemm1024/model.onnx --threads $$t --iters 20 --json" \
			--b "$(PY) tools/sgemm_bench.py time --n 1024 --threads $$t --iters 20 --json" || exit 1; \
	done

bench-models: build $(BENCH_DIR)/resnet18/model.onnx $(BENCH_DIR)/mobilenet_v2/model.onnx ## ResNet-18, MobileNetV2 batch 1: Keen vs ONNX Runtime
	@for m in resnet18 mobilenet_v2; do for t in 1 2; do \
		$(COMPARE) --label "$$m inference, $$t thread(s), Keen/ORT" \
			--a "$(ONNXRUN) bench $(BENCH_DIR)/$$m/model.onnx --threads $$t --iters $(BENCH_ITERS) --json" \
			--b "node interop/ort_bench.js $(BENCH_DIR)/$$m/model.onnx --threads $$t --iters $(BENCH_ITERS) --json" || exit 1; \
	done; done

bench-train: build $(BENCH_DIR)/mlp/model.onnx $(BENCH_DIR)/cnn/model.onnx ## MLP, CNN training step batch 64 (sum loss, Adam): Keen vs PyTorch
	@for m in mlp cnn; do for t in 1 2; do \
		$(COMPARE) --label "$$m train step, $$t thread(s), Keen/PyTorch" \
			--a "$(ONNXRUN) bench $(BENCH_DIR)/$$m/model.onnx --train --optimizer adam --dim N=64 --threads $$t --iters $(BENCH_ITERS) --json" \
			--b "$(PY) tools/torch_train_bench.py time $$m --batch 64 --threads $$t --iters $(BENCH_ITERS) --json" || exit 1; \
	done; done

plugins: ## build plugin backends into bin/
	@mkdir -p bin
	@for p in cpu cuda; do [ -d plugins/cmd/keen-backend-$$p ] && CGO_ENABLED=0 $(GO) build -o bin/keen-backend-$$p ./plugins/cmd/keen-backend-$$p || true; done

demo: ## the main job
	$(GO) run ./cmd/onnxrun demo

fuzz: ## fuzz the model decoder for a minute
	$(GO) test -run '^$$' -fuzz FuzzDecodeModel -fuzztime 60s ./onnx
