package kit

import (
	"fmt"
	"os"
	"strings"
)

// Row is one line of the table `make bench` prints: a benchmark, a case,
// what is measured, each side's spread, their ratio, the rates achieved and
// the load during the case.
type Row struct {
	Bench, Case, Metric string
	A, B                string // "name: med (min–max)"
	Ratio               string
	Rate                string // achieved, measured
	Load                string
}

// Emit prints r and appends it to $BENCH_ROWS (tab-separated) when set.
func Emit(r Row) {
	cols := []string{r.Bench, r.Case, r.Metric, r.A, r.B, r.Ratio, r.Rate, r.Load}
	for i, c := range cols {
		if c == "" {
			cols[i] = "-"
		}
		cols[i] = strings.ReplaceAll(cols[i], "\t", " ")
	}
	fmt.Printf("  row: %s\n", strings.Join(cols, " | "))
	path := os.Getenv("BENCH_ROWS")
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench rows:", err)
		return
	}
	defer f.Close()
	fmt.Fprintln(f, strings.Join(cols, "\t"))
}
