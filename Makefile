# Keen — common tasks. `make help` lists them.
GO      ?= go
SHARED  ?= ../shared
TESTS   ?= $(SHARED)/onnx-backend-tests
ONNXRUN  = bin/onnxrun

.PHONY: help build test generate conformance conformance-baseline bench plugins demo vet fuzz

help:
	@grep -E '^[a-z-]+:.*## ' Makefile | sed 's/:.*## /\t/'

build: ## build onnxrun into bin/
	$(GO) build -o $(ONNXRUN) ./cmd/onnxrun

test: ## vet and run all tests (the README's test command)
	$(GO) vet ./...
	$(GO) test ./...

generate: ## regenerate generated code (protobuf, op schemas, assembly)
	$(GO) generate ./...

conformance: build ## run the ONNX backend tests on the CPU backend
	$(ONNXRUN) conformance --backend cpu --json conformance-report.json $(TESTS)

conformance-baseline: build ## add newly passing cases to conformance/baseline/cpu.txt
	$(GO) test ./conformance -run TestBaselineCPU -count=1 -v -args -update

bench: build ## kernel benchmarks
	$(GO) test -run '^$$' -bench . -benchtime 20x ./backends/cpu/...

plugins: ## build plugin backends into bin/
	@mkdir -p bin
	@for p in cpu cuda; do [ -d plugins/cmd/keen-backend-$$p ] && CGO_ENABLED=0 $(GO) build -o bin/keen-backend-$$p ./plugins/cmd/keen-backend-$$p || true; done

demo: ## the main job
	$(GO) run ./cmd/onnxrun demo

fuzz: ## fuzz the model decoder for a minute
	$(GO) test -run '^$$' -fuzz FuzzDecodeModel -fuzztime 60s ./onnx
