# Switchyard. `make demo` and `make test` set up what they need themselves.
SHELL := /bin/bash
GO ?= go
export GOFLAGS ?= -buildvcs=false
export PATH := $(PATH):/usr/local/go/bin

FUNCTIONS := intake lease assess fence promote reroute verify record report rearm cleanup drift notify
LAMBDA_ARCH ?= arm64

.PHONY: all setup test demo build lambdas agent vet lint validate bench bench-compare bench-overhead soak clean faults

all: build

## setup: install PostgreSQL (Debian package) and check Go; idempotent.
setup:
	@bash scripts/setup.sh

## test: set up, then vet and run every test (real PostgreSQL, local AWS stack).
test: setup
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 14m ./...
	$(GO) test -run '^$$' -fuzz '^FuzzIntake$$' -fuzztime 20s ./internal/failover/

## demo: set up, then run a real failover on the local stack
## (FAULT=crash|blackhole|switchover, DETECTION=fast|alarm,
## SCENARIO=routetable|eip|route53|all: the address the client writes through).
FAULT ?= crash
DETECTION ?= fast
SCENARIO ?= routetable
demo: setup
	$(GO) run ./cmd/switchyard-dev demo --fault $(FAULT) --path $(DETECTION) --scenario $(SCENARIO)

## faults: set up, then run the fault matrix on the local stack (docs/faults.md)
## and print its table; fails if any case failed or reported no row.
## FAULTS_MD=docs/faults.md also writes the table there as Markdown.
FAULT_CASES := ^(TestFault|TestBrokenMonitoringPathDoesNotFailOver|TestStaleStandbyIsNotPromoted|TestConcurrentTriggersYieldOneFailover|TestUnconfirmedFenceNeverPromotes|TestInterruptedFailoverConverges|TestOldPrimary|TestSyncLossCancelledCommits|TestStrictPolicyAlarmsWhileCommitsWait|TestFenceUnderEventualConsistency|TestWatchdogStopsPrimaryWhoseAgentDied|TestManualFailoverFromConsoleInput|TestFastPath|TestSwitchoverUnderWritesLosesNothing|TestFormerPrimaryRejoinsAfterFailover)
faults: setup
	@set -o pipefail; $(GO) build -o bin/faulttable ./cmd/faulttable && \
	$(GO) test -count=1 -json -timeout 14m -run '$(FAULT_CASES)' ./internal/localstack/ | \
		bin/faulttable $(if $(FAULTS_MD),-markdown $(FAULTS_MD))

## build: the CLI and the node probe for this machine.
build:
	$(GO) build -o bin/switchyard ./cmd/switchyard
	$(GO) build -o bin/switchyard-dev ./cmd/switchyard-dev
	$(GO) build -o bin/nodeprobe ./nodeprobe

## lambdas: every function as bin/lambda/<name>/bootstrap, as SAM builds them.
lambdas:
	@for f in $(FUNCTIONS); do \
		GOOS=linux GOARCH=$(LAMBDA_ARCH) CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -ldflags="-s -w" \
			-o bin/lambda/$$f/bootstrap ./functions/$$f || exit 1; \
	done

## validate: the offline checks of the deployable artefacts: cfn-lint (every
## finding fails, informational ones included), asl-validator on the state
## machine as CloudFormation substitutes it, and switchyard's own
## cross-checks (ASL <-> template <-> handlers <-> Makefile, timeouts).
ASL_VALIDATOR ?= asl-validator@4.0.0
validate:
	@command -v cfn-lint >/dev/null 2>&1 || { \
		echo "make validate: cfn-lint is not installed; install it with: pip install cfn-lint" >&2; exit 1; }
	cfn-lint --include-checks I -- template.yaml
	@command -v npx >/dev/null 2>&1 || { \
		echo "make validate: npx is not installed; install Node.js with npm (Debian: apt-get install npm)" >&2; exit 1; }
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	echo "$(GO) run ./cmd/switchyard-dev validate --template template.yaml --write-definition $$tmp/failover.asl.json" && \
	$(GO) run ./cmd/switchyard-dev validate --template template.yaml --write-definition "$$tmp/failover.asl.json" && \
	echo "npx -y $(ASL_VALIDATOR) --json-path $$tmp/failover.asl.json" && \
	{ npx -y $(ASL_VALIDATOR) --json-path "$$tmp/failover.asl.json"; rc=$$?; \
	  if [ $$rc -ne 0 ] && ! npm view $(ASL_VALIDATOR) version >/dev/null 2>&1; then \
		echo "make validate: could not fetch $(ASL_VALIDATOR) from the npm registry ($$(npm config get registry)); check the network or preinstall it with: npm install -g $(ASL_VALIDATOR)" >&2; fi; \
	  exit $$rc; }

## agent: the node agent as static Linux binaries for both EC2 architectures,
## bin/agent/linux-{arm64,amd64}/nodeprobe (install with deploy/install.sh).
agent:
	@for arch in arm64 amd64; do \
		echo "GOOS=linux GOARCH=$$arch CGO_ENABLED=0 $(GO) build -trimpath -ldflags=\"-s -w\" -o bin/agent/linux-$$arch/nodeprobe ./nodeprobe"; \
		GOOS=linux GOARCH=$$arch CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w" -o bin/agent/linux-$$arch/nodeprobe ./nodeprobe || exit 1; \
	done

## bench: time to recovery, fault crash/blackhole x detection fast/alarm and
## the switchover window through the overlay IP, then a crash failover through
## the Elastic IP and through the DNS name (cached for its TTL), RUNS runs each;
## one JSON line per configuration in bench/results/recovery.jsonl.
RUNS ?= 10
bench: setup
	$(GO) run ./bench/recovery -runs $(RUNS) -scenarios routetable,eip,route53

## bench-overhead: the node agent's own cost at its default settings: two
## real nodeprobe processes on a synchronous pair against the AWS emulator
## for DURATION; RSS and CPU from /proc, AWS calls per hour by operation and
## caller; one JSON line per run appended to bench/results/overhead.jsonl.
DURATION ?= 10m
bench-overhead: setup
	$(GO) run ./bench/overhead -duration $(DURATION)

## bench-compare: Switchyard and Patroni side by side (Patroni's default and
## tuned timings, etcd, HAProxy), crash/blackhole/switchover, RUNS runs each;
## installs patroni, etcd-server, haproxy and postgresql-contrib from Debian
## when missing; one JSON line per system and scenario in bench/results/compare.jsonl.
bench-compare: setup
	@bash bench/compare/ensure-patroni.sh
	$(GO) run ./bench/compare -runs $(RUNS)

## soak: set up, then alternate CYCLES planned switchovers and failovers on
## one local stack under continuous writes (bench/results/soak.jsonl); fails
## on any acknowledged write lost or any time with two writable nodes.
CYCLES ?= 100
soak: setup
	$(GO) run ./bench/soak -cycles $(CYCLES)

lint:
	gofmt -l $$(git ls-files '*.go')
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

clean:
	rm -rf bin .aws-sam

# SAM (BuildMethod: makefile) calls build-<LogicalId> with ARTIFACTS_DIR set.
build-IntakeFunction:   ; $(call sam_build,intake)
build-LeaseFunction:    ; $(call sam_build,lease)
build-AssessFunction:   ; $(call sam_build,assess)
build-FenceFunction:    ; $(call sam_build,fence)
build-PromoteFunction:  ; $(call sam_build,promote)
build-RerouteFunction:  ; $(call sam_build,reroute)
build-VerifyFunction:   ; $(call sam_build,verify)
build-RecordFunction:   ; $(call sam_build,record)
build-ReportFunction:   ; $(call sam_build,report)
build-RearmFunction:    ; $(call sam_build,rearm)
build-CleanupFunction:  ; $(call sam_build,cleanup)
build-DriftFunction:    ; $(call sam_build,drift)
build-NotifyFunction:   ; $(call sam_build,notify)

define sam_build
GOOS=linux GOARCH=$(LAMBDA_ARCH) CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -ldflags="-s -w" -o $(ARTIFACTS_DIR)/bootstrap ./functions/$(1)
endef
