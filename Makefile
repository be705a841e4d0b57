# The two commands of the README: `make demo` runs the engine end to end on
# the bundled sample; `make test` runs every check CI runs.
GO ?= go
ADDR ?= 127.0.0.1:8080

.PHONY: demo test reliability build bench sample bench-compare fuzz load-bench

demo:
	ADDR=$(ADDR) scripts/demo.sh

# Test suites that need what a machine may lack (Jupyter and its kernel,
# PostgreSQL, Chromium) skip themselves and leave a one-line notice in
# $(NOTICES) (the ICP_TEST_NOTICES directory); make test prints the notices
# last, where go test's output does not bury them.
NOTICES ?= $(CURDIR)/tmp/test-notices
print-notices = if ls "$(NOTICES)"/* >/dev/null 2>&1; then echo; echo "== Suites skipped on this machine:"; cat "$(NOTICES)"/*; fi

test:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags reliability ./cmd/serve
	@rm -rf "$(NOTICES)" && mkdir -p "$(NOTICES)"
	ICP_TEST_NOTICES="$(NOTICES)" $(GO) test -race ./... || { $(print-notices); exit 1; }
	$(MAKE) reliability
	@$(print-notices)

# reliability runs serve as a process under load, without the race
# detector (latency figures under it mean nothing): 100 hot swaps from a
# separate load process, and SIGTERM with 1,000 requests in flight.
# RELIABILITY_STEADY is the steady-load window the swaps are compared with.
RELIABILITY_STEADY ?= 3s
reliability:
	ICP_RELIABILITY_STEADY=$(RELIABILITY_STEADY) $(GO) test -tags reliability -run 'TestHotSwapUnderLoad|TestSIGTERMWithRequestsInFlight' -count 1 -v ./cmd/serve

build:
	$(GO) build -o bin/ ./cmd/...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# fuzz runs every fuzz target for FUZZTIME (default 10s) each.
fuzz:
	scripts/fuzz-short.sh

# load-bench measures POST /v1/score with wrk next to a bare gin ceiling.
load-bench:
	scripts/load-bench.sh

# sample regenerates the bundled sample table and its ground truth.
sample:
	$(GO) run ./cmd/gen --rows 2000 --seed 7 --out datasets/sample_accounts.csv

# bench-compare runs this project beside the scikit-learn/XGBoost reference
# (../shared/bench) on generated tables: make bench-compare SIZES="10k 100k 1m".
SIZES ?= 10k 100k
bench-compare:
	scripts/bench-compare.sh $(SIZES)
