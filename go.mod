module hachi

go 1.26.0

require (
	github.com/cilium/ebpf v0.22.0
	github.com/usbarmory/tamago v1.26.0
	golang.org/x/arch v0.33.0
)

require golang.org/x/sys v0.43.0 // indirect

