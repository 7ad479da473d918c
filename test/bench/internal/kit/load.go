package kit

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Load samples the machine's 1-minute load average every second and its
// CPU busy share over the whole window: the context every number needs on
// a shared machine.
type Load struct {
	mu    sync.Mutex
	avg   []float64
	cpu0  cpuTimes
	stop  chan struct{}
	done  chan struct{}
	start time.Time
}

// StartLoad begins sampling.
func StartLoad() *Load {
	l := &Load{cpu0: readCPU(), stop: make(chan struct{}), done: make(chan struct{}), start: time.Now()}
	l.sample()
	go func() {
		defer close(l.done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-t.C:
				l.sample()
			}
		}
	}()
	return l
}

func (l *Load) sample() {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return
	}
	l.mu.Lock()
	l.avg = append(l.avg, v)
	l.mu.Unlock()
}

// LoadReport is what Stop measured.
type LoadReport struct {
	Avg  Spread  // 1-minute load average samples
	Busy float64 // share of all CPUs busy
	CPUs int
}

func (r LoadReport) String() string {
	return fmt.Sprintf("loadavg %s on %d CPUs, %.0f%% busy", r.Avg.Format("%.1f"), r.CPUs, 100*r.Busy)
}

// Stop ends sampling and reports.
func (l *Load) Stop() LoadReport {
	close(l.stop)
	<-l.done
	l.sample()
	l.mu.Lock()
	defer l.mu.Unlock()
	c := readCPU()
	busy := 0.0
	if c.total > l.cpu0.total {
		busy = float64(c.busy-l.cpu0.busy) / float64(c.total-l.cpu0.total)
	}
	return LoadReport{Avg: SpreadOf(l.avg), Busy: busy, CPUs: numCPU()}
}

type cpuTimes struct{ busy, total int64 }

func readCPU() cpuTimes {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTimes{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	var c cpuTimes
	for i, v := range f[1:] {
		if i >= 8 {
			break
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		c.total += n
		if i != 3 && i != 4 {
			c.busy += n
		}
	}
	return c
}

func numCPU() int {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "cpu") && len(line) > 3 && line[3] >= '0' && line[3] <= '9' {
			n++
		}
	}
	return n
}
