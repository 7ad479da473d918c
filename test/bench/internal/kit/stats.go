// Package kit is what every benchmark program shares: starting ddbsync,
// reading its metrics, the machine's load, spreads (median and min–max of
// repeated runs) and the rows of the one table `make bench` prints.
package kit

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// Spread is the median and range of repeated measurements.
type Spread struct {
	Med, Min, Max float64
	N             int
}

// SpreadOf summarises xs (NaN values are dropped).
func SpreadOf(xs []float64) Spread {
	v := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return Spread{Med: math.NaN(), Min: math.NaN(), Max: math.NaN()}
	}
	sort.Float64s(v)
	med := v[len(v)/2]
	if len(v)%2 == 0 {
		med = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return Spread{Med: med, Min: v[0], Max: v[len(v)-1], N: len(v)}
}

// Format prints "med (min–max)" with the given verb, e.g. "%.0f".
func (s Spread) Format(verb string) string {
	if s.N == 0 {
		return "-"
	}
	if s.N == 1 {
		return fmt.Sprintf(verb, s.Med)
	}
	return fmt.Sprintf(verb+" ("+verb+"–"+verb+")", s.Med, s.Min, s.Max)
}

// Ratios divides a[i] by b[i] pairwise (runs interleaved A B A B …).
func Ratios(a, b []float64) []float64 {
	out := make([]float64, 0, min(len(a), len(b)))
	for i := 0; i < len(a) && i < len(b); i++ {
		out = append(out, a[i]/b[i])
	}
	return out
}

// Percentile is the nearest-rank percentile p (0..1) of sorted durations.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// Ms is d in milliseconds.
func Ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
