# smartconform: `make run` tests the embedded reference server and writes the
# reports; `make test` runs every test. Both install what they need.

GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
BIN     := bin/smartconform
OUT     ?= smartconform-report
FUZZTIME ?= 20s

.PHONY: all build run test lint imports tools screenshot mutants readme clean hostile fuzz bench

all: build

build:
	$(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $(BIN) ./cmd/smartconform

## run: the full suite against the embedded reference server; reports in $(OUT)/
run: build tools
	./$(BIN) run --out $(OUT)

## test: lint, then every Go test (suites against the reference server and each fault, CLI, reports)
test: FUZZTIME = 10s
test: tools lint fuzz
	$(GO) test -count=1 -timeout 30m ./...

## lint: formatting, vet, import direction, and no focused spec (a focused spec makes every run skip the rest)
lint: imports
	@unformatted="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	@if grep -rnE '\b(FIt|FDescribe|FContext|FEntry|FDescribeTable|FWhen)\(' --include='*.go' suites cmd fixtures reporter; then \
	  echo "focused specs found"; exit 1; fi

## imports: no arrow points up (cmd → suites → engine → reporter/config; fixtures import neither
## suites nor reporter; reporter imports no other package of the project). Each rule is
## "package prefix: forbidden prefixes"; one line per offending import.
M := github.com/smartconform/smartconform
IMPORT_RULES := \
  $(M)/reporter:$(M)/suites,$(M)/fixtures,$(M)/cmd \
  $(M)/fixtures:$(M)/suites,$(M)/reporter,$(M)/cmd \
  $(M)/suites/config:$(M)/suites/engine,$(M)/reporter,$(M)/cmd \
  $(M)/suites/engine:$(M)/cmd \
  $(M)/suites:$(M)/cmd
imports:
	@$(GO) list -f '{{.ImportPath}} {{join .Imports " "}}' ./... | awk -v rules="$(IMPORT_RULES)" -v m="$(M)" ' \
	  BEGIN { n = split(rules, r, " ") } \
	  { pkg = $$1; \
	    for (i = 2; i <= NF; i++) { imp = $$i; \
	      if (index(pkg, m "/cmd/") != 1 && imp == m "/suites") { print pkg " imports " imp ": only cmd may (the case files register the catalogue)"; bad = 1 } \
	      best = ""; for (k = 1; k <= n; k++) { split(r[k], kv, ":"); \
	        if ((pkg == kv[1] || index(pkg, kv[1] "/") == 1) && length(kv[1]) > length(best)) { best = kv[1]; forb = kv[2] } } \
	      if (best == "") continue; \
	      c = split(forb, f, ","); \
	      for (j = 1; j <= c; j++) if (imp == f[j] || index(imp, f[j] "/") == 1) { \
	        if (best == m "/suites" && (imp == m "/suites" || index(imp, m "/suites/") == 1)) continue; \
	        print pkg " imports " imp ": the arrow points up"; bad = 1 } } } \
	  END { exit bad }' && echo "imports: no arrow points up"

## tools: what the tests use beyond Go (xmllint validates the JUnit report against the Jenkins xUnit schema;
## Debian's chromium runs the HTML report's browser test headless)
tools:
	@command -v xmllint >/dev/null 2>&1 || { \
	  echo "installing libxml2-utils (xmllint)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq libxml2-utils >/dev/null; }
	@test -x /usr/bin/chromium || { \
	  echo "installing chromium (browser test)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

## mutants: the detection matrix (each fault of the reference server → the cases that fail)
mutants: build
	./$(BIN) mutants

clean:
	rm -rf bin $(OUT)

## screenshot: regenerate the README's report screenshot from a real run (the browser test, headless chromium)
screenshot: tools
	SMARTCONFORM_SCREENSHOT=$(CURDIR)/.github/report-screenshot.png $(GO) test -count=1 -run 'TestHTMLReportInABrowser' ./cmd/smartconform/

## readme: regenerate the README's case table from the catalogue
readme: build
	@./$(BIN) list --markdown > .case-table.md
	@awk 'BEGIN{t=0} /<!-- case-table:begin/{print; while((getline l < ".case-table.md")>0) print l; t=1; next} /<!-- case-table:end -->/{t=0} !t' README.md > README.md.new && mv README.md.new README.md && rm -f .case-table.md

## hostile: the CLI against each behaviour of the hostile target; prints the table
hostile:
	SMARTCONFORM_HOSTILE_TABLE=1 $(GO) test -count=1 -run TestHostile -v ./cmd/smartconform/

## fuzz: each fuzz target for $(FUZZTIME) (config and key loading, discovery, token and error responses, JWS decoding)
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzLoad$$' -fuzztime=$(FUZZTIME) ./suites/config/
	$(GO) test -run='^$$' -fuzz='^FuzzParsePrivateKey$$' -fuzztime=$(FUZZTIME) ./suites/config/
	$(GO) test -run='^$$' -fuzz='^FuzzDiscovery$$' -fuzztime=$(FUZZTIME) ./suites/engine/
	$(GO) test -run='^$$' -fuzz='^FuzzJudgeResponse$$' -fuzztime=$(FUZZTIME) ./suites/engine/
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeCompact$$' -fuzztime=$(FUZZTIME) ./fixtures/

## bench: the speed and memory figures of the README's performance section (measurements, never timed tests);
## (f) and (g) test 1000 tenants and take several minutes (BENCH_TENANTS=50 for a smoke run)
bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x -count 1 -timeout 45m ./cmd/smartconform/ | grep -E '^bench \(|^Benchmark|^ok|FAIL'
