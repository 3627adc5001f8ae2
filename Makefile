# Hachi: build, boot and test.
#
#   make qemu [ARCH=amd64|riscv64]   build what is missing and boot the kernel into its shell
#   make test                        every test: host, in-guest and boot, both architectures
#   make bench                       benchmarks of the portable packages

ARCH ?= amd64
GO ?= go
export GOTOOLCHAIN := local
export GOFLAGS := -buildvcs=false

# The kernel release (uname -r); exported so that sub-makes and the boot
# tests agree even if HEAD moves meanwhile.
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
export VERSION

# cmd/hachi-qemu applies the board definitions of qemu/board.go.
HACHI_QEMU := build/hachi-qemu

# The module's packages; build/ holds outputs (and anyone's scratch work).
PACKAGES = $$($(GO) list -e ./... | grep -v '^hachi/build/')

# Boot tests are the tests named TestBoot... (and TestMakeQemu) of qemu/:
# host-test leaves them to boot-test, which first builds the kernels.
BOOT_TESTS := ^(TestBoot|TestMakeQemu)

.PHONY: test deps lint host-test guest-test boot-test bench

# test runs, in order: lint (gofmt, go vet, and the GOOS=tamago checks), the
# host tests, the toolchain (cached), both kernels, the in-guest tests and
# the boot tests of both architectures.
test: deps lint tamago-check host-test kernels guest-test boot-test

# deps installs the Debian packages that are missing (.ci/deps).
deps:
	@.ci/deps test

# lint fails on unformatted files and on go vet findings.
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PACKAGES)

# host-test runs the portable packages' tests with the stock Go toolchain.
host-test:
	$(GO) test -race -count=1 -skip '$(BOOT_TESTS)' $(PACKAGES)

# guest-test runs the same tests inside QEMU, on both boards
# (GUEST_TEST_FLAGS: see cmd/hachi-qemu, e.g. -arch riscv64 -run TestX -v).
guest-test: toolchain $(HACHI_QEMU)
	$(HACHI_QEMU) test $(GUEST_TEST_FLAGS) ./...

# boot-test boots both kernels and drives their shells (qemu/boot_test.go).
boot-test: kernels
	HACHI_KERNELS=$(CURDIR)/build HACHI_KERNEL_VERSION=$(VERSION) $(GO) test -count=1 -run '$(BOOT_TESTS)' -v ./qemu/

# bench runs the benchmarks: the portable packages' on the host (each with
# its reference in the same run: a native Go loop, a Go map), then, inside
# both guests, the probe path's (kprobe: a call without a probe, with a
# probe, with a BPF program) and the VM's.
bench: toolchain $(HACHI_QEMU)
	$(GO) test -run '^$$' -bench . -benchmem ./bpf/... ./kernel/
	$(HACHI_QEMU) test -run '^$$' -bench . ./kprobe ./bpf/vm

# --- GOOS=tamago toolchain, kernels, QEMU (toolchain/README.md) ---
#
#   make toolchain                   build Go with GOOS=tamago once (cached; TAMAGO=/path/to/go uses that one)
#   make kernel [ARCH=...]           build/hachi-$(ARCH).elf
#   make kernels                     both
#   make qemu [ARCH=...]             boot it under QEMU (TCG; QEMU_EXTRA adds flags)
#   make tamago-check                go build std and go vet the kernel packages with GOOS=tamago
#
# The boards (kernel package, linker flags, QEMU command line) are defined
# once, in qemu/board.go; cmd/hachi-qemu applies them.

.PHONY: toolchain kernel kernels qemu qemu-deps tamago-check $(HACHI_QEMU)

$(HACHI_QEMU):
	@$(GO) build -o $@ ./cmd/hachi-qemu

# qemu-deps installs the Debian packages `make qemu` needs, if missing.
qemu-deps:
	@.ci/deps qemu

toolchain:
	@./toolchain/build.sh >/dev/null

kernel: toolchain $(HACHI_QEMU)
	@$(HACHI_QEMU) kernel -arch $(ARCH) -version $(VERSION) -o build/hachi-$(ARCH).elf

kernels:
	@$(MAKE) --no-print-directory kernel ARCH=amd64
	@$(MAKE) --no-print-directory kernel ARCH=riscv64

qemu: qemu-deps kernel
	$(HACHI_QEMU) run -arch $(ARCH) build/hachi-$(ARCH).elf $(QEMU_EXTRA)

tamago-check: toolchain
	@goroot=$$(./toolchain/build.sh --check) && for arch in amd64 riscv64; do \
		echo "GOOS=tamago GOARCH=$$arch: go build std, go vet ./arch/$$arch ./boot/... ./qemu/guest"; \
		GOOS=tamago GOARCH=$$arch GOOSPKG=github.com/usbarmory/tamago GOROOT=$$goroot $$goroot/bin/go build std && \
		GOOS=tamago GOARCH=$$arch GOOSPKG=github.com/usbarmory/tamago GOROOT=$$goroot $$goroot/bin/go vet ./arch/$$arch ./boot/... ./qemu/guest || exit 1; \
	done
