# minipush — run `make help` for the targets.
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
BIN := bin
MOCK_ADDR ?= 127.0.0.1:9100
LOAD_RATE ?= 500
LOAD_DURATION ?= 30s
LOAD_P99 ?= 50ms
REPORTS ?= build/reports
# testcontainers-go: the reaper image cannot be pulled here (literal "true").
export TESTCONTAINERS_RYUK_DISABLED := true
export CGO_ENABLED := 0

.DEFAULT_GOAL := help

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*##"; printf "Targets:\n"} /^[a-zA-Z_-]+:.*##/ { printf "  %-14s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build static binaries into bin/
	@mkdir -p $(BIN)
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/mockserver ./mockserver/cmd/mockserver
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/sender ./sender/cmd/sender
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/loadtest ./loadtest/cmd/loadtest

.PHONY: run
run: build ## Run the mock (demo seed) and the sender wired to it; prints what to try
	@MOCK_ADDR=$(MOCK_ADDR) bash scripts/run-demo.sh

.PHONY: test
test: vet ## Run every test with the race detector
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 20m ./...

.PHONY: bdd
bdd: ## Run the Gherkin acceptance suite in-process (reports in build/reports/)
	CGO_ENABLED=1 $(GO) test -race -count=1 ./scenarios/...

.PHONY: bdd-containers
bdd-containers: ## Run the acceptance suite against FROM scratch containers of the mock and the sender (needs Docker)
	MINIPUSH_BDD_MODE=containers MINIPUSH_CONTAINER_TESTS=1 \
	TESTCONTAINERS_HOST_OVERRIDE=$${TESTCONTAINERS_HOST_OVERRIDE:-127.0.0.1} \
	$(GO) test -count=1 -timeout 30m ./scenarios/... ./mockserver/mockcontainer/... ./sender/sendercontainer/... ; \
	status=$$?; $(MAKE) --no-print-directory bdd-clean; exit $$status

.PHONY: bdd-clean
bdd-clean: ## Remove containers and networks an interrupted container run left behind
	-@docker ps -aq --filter label=org.minipush.managed=true | xargs -r docker rm -f
	-@docker network ls -q --filter label=org.minipush.managed=true | xargs -r docker network rm

.PHONY: load
load: ## Self-contained load run: ramp 100→250, then 500 rps for 30 s with the mix; exit 99 on a breached threshold
	@mkdir -p $(BIN) $(REPORTS)
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/loadtest ./loadtest/cmd/loadtest
	$(BIN)/loadtest -self -rate $(LOAD_RATE) -duration $(LOAD_DURATION) -ramp 100,250 \
	  -mix valid=80,content=5,badkeyword=5,nogrant=5,broadcast=5 \
	  -threshold 'p99<$(LOAD_P99)' -threshold 'rate>=$(shell awk 'BEGIN{print $(LOAD_RATE)*0.99}')' \
	  -threshold 'errors==0' -threshold 'lost==0' -threshold 'duplicated==0' -threshold 'unexpected==0' \
	  -threshold 'pending==0' -threshold 'status_mismatch==0' -threshold 'rejections_missed==0' \
	  -report-json $(REPORTS)/load.json -report-junit $(REPORTS)/load.xml -report-html $(REPORTS)/load.html

.PHONY: load-smoke
load-smoke: ## The CI load smoke alone: 300 rps for 15 s, gated (also part of make test)
	$(GO) test -count=1 -run '^TestSmoke$$' -v ./loadtest/

.PHONY: vet
vet: ## gofmt check and go vet
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

.PHONY: bench
bench: ## Benchmark the mock against a plain net/http handler (prints the ratio)
	$(GO) test -run '^$$' -bench . -benchtime 20000x -benchmem ./mockserver/

.PHONY: bench-sender
bench-sender: ## Measure the sender against its performance targets (docs/performance.md, ~4 min)
	$(GO) test -run '^$$' -bench 'AcceptHTTP|DeliverEndToEnd' -benchtime 20000x -count 3 ./sender/
	MINIPUSH_PERF=1 $(GO) test -run '^TestPerf$$' -v -count=1 -timeout 30m ./sender/

.PHONY: fuzz
fuzz: ## Run every fuzz target for 15s each
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 15s $$pkg || exit 1; \
	  done; \
	done

.PHONY: clean
clean: ## Remove build outputs
	rm -rf $(BIN) build
