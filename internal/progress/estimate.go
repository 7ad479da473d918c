// Package progress estimates a backfill's rate and time left, and draws a
// live progress bar on a terminal. The log lines and the bar use the same
// estimate, so they never disagree.
package progress

import "time"

// warmUp is how long an Estimate watches before it gives a rate: the first
// seconds of a backfill (connections, the first S3 objects, a resumed
// file's skipped lines) say little about the rest.
const warmUp = 2 * time.Second

// window is how far back the rate looks: recent enough to follow a change
// of pace, long enough to smooth out bulk-sized steps.
const window = 30 * time.Second

// Estimate turns (done, time) observations into a rate and an ETA. Items
// that were already done when it first saw the backfill (a resumed run)
// count toward done but not toward the rate.
type Estimate struct {
	samples []sample
	first   time.Time
}

type sample struct {
	at   time.Time
	done int64
}

// Observe records that done items were finished at now.
func (e *Estimate) Observe(done int64, now time.Time) {
	if len(e.samples) == 0 {
		e.first = now
	}
	e.samples = append(e.samples, sample{now, done})
	// Keep one sample older than the window, so the rate spans all of it.
	cut := 0
	for cut+1 < len(e.samples) && now.Sub(e.samples[cut+1].at) >= window {
		cut++
	}
	e.samples = e.samples[cut:]
}

// Rate is items per second over the window; ok is false until the
// estimate has watched for warmUp and seen progress.
func (e *Estimate) Rate() (perSec float64, ok bool) {
	if len(e.samples) < 2 {
		return 0, false
	}
	a, b := e.samples[0], e.samples[len(e.samples)-1]
	d := b.at.Sub(a.at)
	if b.at.Sub(e.first) < warmUp || d <= 0 || b.done <= a.done {
		return 0, false
	}
	return float64(b.done-a.done) / d.Seconds(), true
}

// ETA is the time left for total items at the current rate; ok is false
// while the rate is unknown or total is not (0).
func (e *Estimate) ETA(total int64) (time.Duration, bool) {
	rate, ok := e.Rate()
	if !ok || total <= 0 || len(e.samples) == 0 {
		return 0, false
	}
	left := total - e.samples[len(e.samples)-1].done
	if left <= 0 {
		return 0, true
	}
	return time.Duration(float64(left) / rate * float64(time.Second)).Round(time.Second), true
}
