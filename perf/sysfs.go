package perf

import (
	"strconv"

	"hachi/syscall/linux"
)

// ReadSysfs is the content of a file of the PMU directories below /sys
// (bus/event_source/devices/<pmu>/...), by its path below /sys: the
// software, tracepoint and kprobe PMUs' type files and the kprobe PMU's
// format/retprobe, as loaders read them to open probe events. The kprobe
// directory exists only when the System has a Kprober. ENOENT otherwise.
func (s *System) ReadSysfs(path string) ([]byte, error) {
	const dir = "bus/event_source/devices/"
	switch path {
	case dir + "software/type":
		return []byte(strconv.Itoa(linux.PERF_TYPE_SOFTWARE) + "\n"), nil
	case dir + "tracepoint/type":
		return []byte(strconv.Itoa(linux.PERF_TYPE_TRACEPOINT) + "\n"), nil
	}
	if s.kprober != nil {
		switch path {
		case dir + "kprobe/type":
			return []byte(strconv.Itoa(KprobeType) + "\n"), nil
		case dir + "kprobe/format/retprobe":
			return []byte("config:0\n"), nil
		}
	}
	return nil, linux.ENOENT
}
