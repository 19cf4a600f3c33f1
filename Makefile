# minipush — run `make help` for the targets.
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
BIN := bin
MOCK_ADDR ?= 127.0.0.1:9100
SENDER_ADDR ?= 127.0.0.1:9200
LOAD_RATE ?= 500
LOAD_DURATION ?= 30s
LOAD_P99 ?= 50ms
FUZZTIME ?= 15s
FUZZ_MATCH ?= .
FUZZ_SMOKE_TIME ?= 3s
# The CI smoke: the fuzzers of the sender's own untrusted input (API bodies,
# paths and queries over real SQLite, config, keys), the secret scrubber,
# the content rules and one platform client's answers.
FUZZ_SMOKE ?= /(FuzzAPI|FuzzPathAndQuery|FuzzJSONPath|FuzzScrub|FuzzLoad|FuzzParseKeys|FuzzCheck|FuzzControlAPI)/|platform/wechat/FuzzSendAnswer/
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
run: build ## Run the mock (demo seed) and the sender wired to it (MOCK_ADDR, SENDER_ADDR); prints what to try
	@MOCK_ADDR=$(MOCK_ADDR) SENDER_ADDR=$(SENDER_ADDR) bash scripts/run-demo.sh

.PHONY: console-screenshot
console-screenshot: ## Run the console's browser test (needs Chromium) and refresh the README's picture docs/img/sender-console.png
	MINIPUSH_REQUIRE_BROWSER=1 MINIPUSH_UPDATE_SCREENSHOTS=1 $(GO) test -count=1 -run TestBrowserAcceptance ./sender/internal/console/

.PHONY: reset
reset: ## Remove the demo's state (data/: database and logs) so make run starts fresh
	rm -rf data

.PHONY: images
images: ## Build FROM scratch images minipush/mockserver and minipush/sender (:$(VERSION) and :latest) with plain docker build
	@VERSION=$(VERSION) bash scripts/build-images.sh

.PHONY: image-redis
image-redis: ## Build a FROM scratch minipush/redis from this machine's Debian redis-server (binary + its libraries; nothing pulled) for compose.redis.yaml
	@bash scripts/build-redis-image.sh

.PHONY: test
test: vet ## Run every test with the race detector; ends with a summary (skipped tests and why, failures)
	@mkdir -p $(REPORTS)
	CGO_ENABLED=1 $(GO) tool gotestsum --format pkgname-and-test-fails --format-hide-empty-pkg \
	  --junitfile $(REPORTS)/unit.xml --jsonfile $(REPORTS)/unit.json \
	  -- -race -count=1 -timeout 20m ./...

.PHONY: bdd
bdd: ## Run the Gherkin acceptance suite in-process (reports in build/reports/)
	CGO_ENABLED=1 $(GO) test -race -count=1 ./scenarios/...

.PHONY: bdd-containers
bdd-containers: ## Run the acceptance suite against FROM scratch containers of the mock and the sender, and make images + compose.yaml end to end (needs Docker)
	MINIPUSH_BDD_MODE=containers MINIPUSH_CONTAINER_TESTS=1 \
	TESTCONTAINERS_HOST_OVERRIDE=$${TESTCONTAINERS_HOST_OVERRIDE:-127.0.0.1} \
	$(GO) test -count=1 -timeout 30m ./scenarios/... ./mockserver/mockcontainer/... ./sender/sendercontainer/... ./scripts/... ; \
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

.PHONY: multi-instance-test
multi-instance-test: ## The full multi-instance acceptance on Redis: 3 sender binaries, 20,000 messages over two apps, one SIGKILLed and restarted, token expiry, rate caps (needs redis-server; ~3 min)
	MINIPUSH_MULTI_INSTANCE=full $(GO) test -count=1 -run '^TestMultiInstanceRedis$$' -v -timeout 20m ./loadtest/

CHAOS_REPORT ?= $(REPORTS)/chaos.jsonl

.PHONY: chaos
chaos: build ## The chaos suite at full size (docs/chaos.md): 1M-recipient audience, 20,000 idle connections, slowloris, disk full (tmpfs), every platform under faults, 10 SIGKILLs; figures in $(CHAOS_REPORT) (~30 min)
	@mkdir -p $(REPORTS); rm -f $(CHAOS_REPORT)
	MINIPUSH_CHAOS=full MINIPUSH_CHAOS_REPORT=$(CURDIR)/$(CHAOS_REPORT) MINIPUSH_CHAOS_BIN=$(CURDIR)/$(BIN) \
	  $(GO) test -count=1 -v -timeout 180m ./chaos/

.PHONY: chaos-smoke
chaos-smoke: build ## The chaos suite at reduced sizes, for CI (≤ 4 min); same probes, same pass criteria
	@mkdir -p $(REPORTS); rm -f $(CHAOS_REPORT)
	MINIPUSH_CHAOS=smoke MINIPUSH_CHAOS_REPORT=$(CURDIR)/$(CHAOS_REPORT) MINIPUSH_CHAOS_BIN=$(CURDIR)/$(BIN) \
	  $(GO) test -count=1 -v -timeout 15m ./chaos/

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

BENCH_N ?= 5000
BENCH_PACE ?= 10s
BENCH_BASELINE ?= benchcompare/baseline.json

.PHONY: bench-compare
bench-compare: build ## Side by side, one run: plain handlers, the mock (every platform's send) and the sender binary; ratios and CPU µs/msg
	$(GO) build -trimpath -o $(BIN)/benchcompare ./benchcompare/cmd/benchcompare
	@mkdir -p $(REPORTS)
	$(BIN)/benchcompare -sender $(BIN)/sender -n $(BENCH_N) -pace $(BENCH_PACE) -json $(REPORTS)/bench-compare.json

.PHONY: bench-check
bench-check: build ## The CI check: bench-compare at a smaller size, failing when a CPU ratio is >30% worse than $(BENCH_BASELINE)
	@mkdir -p $(REPORTS)
	$(GO) build -trimpath -o $(BIN)/benchcompare ./benchcompare/cmd/benchcompare
	$(BIN)/benchcompare -sender $(BIN)/sender -n 6000 -turn 500 -pace 5s -json $(REPORTS)/bench-check.json \
	  -baseline $(BENCH_BASELINE) -check

PROFILE_N ?= 20000

.PHONY: profile-sender
profile-sender: build ## CPU profile of the sender binary accepting and delivering PROFILE_N messages (build/reports/sender.cpu.pprof)
	@mkdir -p $(REPORTS)
	$(GO) build -trimpath -o $(BIN)/benchcompare ./benchcompare/cmd/benchcompare
	$(BIN)/benchcompare -sender $(BIN)/sender -cases none -n $(PROFILE_N) -pace 10s -sender-cpuprofile $(CURDIR)/$(REPORTS)/sender.cpu.pprof
	$(GO) tool pprof -top -nodecount 40 $(BIN)/sender $(REPORTS)/sender.cpu.pprof | head -50

.PHONY: fuzz
fuzz: ## Run every fuzz target for FUZZTIME each (default 15s); FUZZ_MATCH=regex picks targets by dir/FuzzName
	@FUZZTIME=$(FUZZTIME) FUZZ_MATCH='$(FUZZ_MATCH)' GO=$(GO) bash scripts/fuzz.sh

.PHONY: fuzz-smoke
fuzz-smoke: ## The CI fuzz smoke: the untrusted-input decoders, FUZZTIME (default 3s) each
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZ_SMOKE_TIME) FUZZ_MATCH='$(FUZZ_SMOKE)'

.PHONY: clean
clean: ## Remove build outputs
	rm -rf $(BIN) build
