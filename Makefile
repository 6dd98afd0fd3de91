# cairn — build, run and check everything. See README.md.
GO        ?= go
BIN       := bin/cairn
PKGS      := ./...
TEST_TIMEOUT ?= 18m

.PHONY: all build cluster test lint vet fmt-check proto proto-check buf-lint unit bench chaos clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/cairn

## cluster: build and run the local cluster in the foreground (Ctrl-C stops it).
cluster: build
	$(BIN) cluster up

## test: every check CI runs.
test: fmt-check vet buf-lint proto-check unit

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

buf-lint:
	$(GO) tool buf lint proto

## proto: regenerate the committed Go code from proto/.
proto:
	cd proto && $(GO) tool buf generate

## proto-check: fail when the committed generated code is stale.
proto-check:
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	cd proto && $(GO) tool buf generate --output $$tmp && cd .. && \
	for f in $$(cd $$tmp && find . -name '*.go'); do \
	  cmp -s $$tmp/$$f proto/$$f || { echo "stale generated code: proto/$$f (run make proto)"; exit 1; }; \
	done; \
	extra=$$(cd proto && find . -name '*.pb.go' | while read f; do [ -f $$tmp/$$f ] || echo $$f; done); \
	if [ -n "$$extra" ]; then echo "generated files without a proto: $$extra"; exit 1; fi

unit: build
	$(GO) test -race -timeout $(TEST_TIMEOUT) $(PKGS)
	$(GO) test -race -tags failpoints ./node/failpoint/

## chaos: build, then run the long version of every chaos scenario against real
## binaries (DURATION of faults per scenario, SEED to replay a run) and print the
## summary table. Run directories go to $(CHAOS_OUT)/<scenario>-<seed>/; see docs/chaos.md.
DURATION  ?= 60s
SEED      ?=
CHAOS_OUT ?= .chaos
chaos: build
	@mkdir -p $(CHAOS_OUT) && rm -f $(CHAOS_OUT)/summary.txt
	@CAIRN_CHAOS_DURATION=$(DURATION) CAIRN_CHAOS_SEED=$(SEED) CAIRN_CHAOS_OUT=$(abspath $(CHAOS_OUT)) \
	  $(GO) test -tags failpoints,chaostiming ./cluster/chaos/... -run . -count=1 -timeout 60m; \
	  status=$$?; echo; cat $(CHAOS_OUT)/summary.txt 2>/dev/null; exit $$status

bench: build
	./bench/run.sh

clean:
	rm -rf bin .cairn
