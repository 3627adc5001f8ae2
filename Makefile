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

# --- GOOS=tamago toolchain, kernels, QEMU (toolchain/README.md) ---
#
#   make toolchain                   build Go with GOOS=tamago once (cached; TAMAGO=/path/to/go uses that one)
#   make kernel [ARCH=...]           build/hachi-$(ARCH).elf
#   make qemu [ARCH=...]             boot it under QEMU (TCG; QEMU_EXTRA adds flags)
#   make tamago-check                go build std and go vet the kernel packages with GOOS=tamago

.PHONY: toolchain kernel qemu tamago-check

VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
KERNEL_PKG_amd64 := ./boot/microvm
KERNEL_PKG_riscv64 := ./boot/sifive_u
# -T: text address (RAM start + 64 KiB), -R: page rounding; RAM layouts in arch/<arch>.
KERNEL_LDFLAGS_amd64 := -T 0x10010000 -R 0x1000
KERNEL_LDFLAGS_riscv64 := -T 0x80010000 -R 0x1000
QEMU_amd64 = qemu-system-x86_64 -M microvm,pit=on -cpu max -smp 2 -m 2G -no-reboot \
	-display none -monitor none -serial stdio -device isa-debug-exit -kernel $(1)
# sifive_u: hart 1 runs the kernel, hart 0 (E51) is parked by the second loader.
QEMU_riscv64 = qemu-system-riscv64 -M sifive_u -smp 2 -m 512M -bios none \
	-semihosting-config enable=on,target=native -display none -monitor none -serial stdio -net none \
	-device loader,addr=0x80000000,data=0xffdff06f10500073,data-len=8 -device loader,cpu-num=1,file=$(1)

toolchain:
	@./toolchain/build.sh >/dev/null

kernel:
	@test -n "$(KERNEL_PKG_$(ARCH))" || { echo "ARCH must be amd64 or riscv64"; exit 1; }
	@goroot=$$(./toolchain/build.sh --check) && mkdir -p build && \
	GOOS=tamago GOARCH=$(ARCH) GOOSPKG=github.com/usbarmory/tamago GOROOT=$$goroot $$goroot/bin/go build \
		-ldflags '$(KERNEL_LDFLAGS_$(ARCH)) -X hachi/kernel.Version=$(VERSION)' \
		-o build/hachi-$(ARCH).elf $(KERNEL_PKG_$(ARCH))

qemu: kernel
	$(call QEMU_$(ARCH),build/hachi-$(ARCH).elf) $(QEMU_EXTRA)

tamago-check:
	@goroot=$$(./toolchain/build.sh --check) && for arch in amd64 riscv64; do \
		echo "GOOS=tamago GOARCH=$$arch: go build std, go vet ./arch/$$arch ./boot/..."; \
		GOOS=tamago GOARCH=$$arch GOOSPKG=github.com/usbarmory/tamago GOROOT=$$goroot $$goroot/bin/go build std && \
		GOOS=tamago GOARCH=$$arch GOOSPKG=github.com/usbarmory/tamago GOROOT=$$goroot $$goroot/bin/go vet ./arch/$$arch ./boot/... || exit 1; \
	done
