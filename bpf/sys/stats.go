package sys

import (
	"hachi/syscall"
	"hachi/syscall/linux"
)

// statsFile is the descriptor BPF_ENABLE_STATS returns: statistics stay
// on while any is open (bpf_stats_release).
type statsFile struct{ sys *System }

func (s statsFile) Release() { s.sys.statsEnabled.Add(-1) }

// maxStatsEnabled is the bound on open statistics descriptors (INT_MAX/2).
const maxStatsEnabled = (1<<31 - 1) / 2

// enableStats is BPF_ENABLE_STATS (bpf_enable_stats): only
// BPF_STATS_RUN_TIME exists.
func (c *call) enableStats() (int, error) {
	if !c.t.Caps.Has(syscall.CAP_SYS_ADMIN) {
		return -1, linux.EPERM
	}
	if c.attr.enableStats().Type != linux.BPF_STATS_RUN_TIME {
		return -1, linux.EINVAL
	}
	if c.sys.statsEnabled.Load() >= maxStatsEnabled {
		return -1, linux.EBUSY
	}
	c.sys.statsEnabled.Add(1)
	return installFD(c.t, syscall.NewFile(statsFile{c.sys}, syscall.O_RDONLY))
}

// StatsEnabled reports whether programs record run time and run counts.
func (s *System) StatsEnabled() bool { return s.statsEnabled.Load() > 0 }
