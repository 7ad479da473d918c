package config

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// parseDuration reads a duration the way Data Prepper and Go write them.
//
// The rule:
//   - Go syntax: "100ms", "30s", "10m", "1h30m" (also covers Data Prepper's
//     simple forms "60s" and "100ms").
//   - ISO-8601, as java.time.Duration parses it: "PT10M", "PT20.345S",
//     "P1DT2H" (days, hours, minutes, seconds; letters in either case).
//   - A bare integer ("60000") only where Data Prepper types the option as a
//     number: bare is its unit (milliseconds for the opensearch sink's
//     connect_timeout, socket_timeout and flush_timeout). Where Data Prepper
//     takes a Duration (the dynamodb source's timeouts) and for ddbsync's own
//     options, bare is 0 and a bare number other than 0 is rejected: Data
//     Prepper rejects it too, and guessing a unit is worse than asking.
//
// Negative durations are rejected.
func parseDuration(s string, bare time.Duration) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty")
	}
	if allDigits(s) {
		n, err := strconv.ParseInt(s, 10, 64)
		switch {
		case err != nil:
			return 0, errors.New("too large")
		case n == 0:
			return 0, nil
		case bare == 0:
			return 0, errors.New("a bare number has no unit")
		case n > math.MaxInt64/int64(bare):
			return 0, errors.New("too large")
		}
		return time.Duration(n) * bare, nil
	}
	if s[0] == 'P' || s[0] == 'p' {
		return parseISODuration(s)
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New("not a duration")
	}
	if d < 0 {
		return 0, errors.New("negative")
	}
	return d, nil
}

// parseISODuration parses PnDTnHnMn.nS (the subset java.time.Duration reads,
// without signs).
func parseISODuration(s string) (time.Duration, error) {
	rest := strings.ToUpper(s[1:])
	var total time.Duration
	add := func(n int64, frac string, unit time.Duration) error {
		if n > math.MaxInt64/int64(unit) {
			return errors.New("too large")
		}
		d := time.Duration(n) * unit
		if frac != "" {
			f, _ := strconv.ParseFloat("0."+frac, 64)
			d += time.Duration(f * float64(unit))
		}
		if total > math.MaxInt64-d {
			return errors.New("too large")
		}
		total += d
		return nil
	}
	parts := 0
	inTime := false
	allowed := "D"
	for rest != "" {
		if rest[0] == 'T' {
			if inTime || len(rest) == 1 {
				return 0, errors.New("not an ISO-8601 duration")
			}
			inTime, allowed, rest = true, "HMS", rest[1:]
			continue
		}
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9') {
			i++
		}
		whole := rest[:i]
		frac := ""
		if i < len(rest) && rest[i] == '.' {
			j := i + 1
			for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
				j++
			}
			frac, i = rest[i+1:j], j
		}
		if whole == "" || i >= len(rest) {
			return 0, errors.New("not an ISO-8601 duration")
		}
		unit := rest[i]
		k := strings.IndexByte(allowed, unit)
		if k < 0 || (frac != "" && unit != 'S') {
			return 0, errors.New("not an ISO-8601 duration")
		}
		allowed = allowed[k+1:] // units in order, each once
		n, err := strconv.ParseInt(whole, 10, 64)
		if err != nil {
			return 0, errors.New("too large")
		}
		var u time.Duration
		switch unit {
		case 'D':
			u = 24 * time.Hour
		case 'H':
			u = time.Hour
		case 'M':
			u = time.Minute
		case 'S':
			u = time.Second
		}
		if err := add(n, frac, u); err != nil {
			return 0, err
		}
		parts++
		rest = rest[i+1:]
	}
	if parts == 0 {
		return 0, errors.New("not an ISO-8601 duration")
	}
	return total, nil
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// durationWant says what a duration option accepts, for messages.
func durationWant(bare time.Duration) string {
	if bare == time.Millisecond {
		return "a duration such as 500ms, 10s or PT10S, or a number of milliseconds"
	}
	return "a duration such as 30s, 10m or PT10M"
}

// fmtDuration prints a duration without Go's trailing zero units ("5m", not "5m0s").
func fmtDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
