package config

import (
	"fmt"
	"strings"
)

// Summary describes in a few lines what would run: per pipeline, each table
// with its phases (backfill by export or scan, then stream) and each sink.
// It never prints a secret: no password, username, external ID, header
// override or URL password.
func (f *File) Summary() string {
	var b strings.Builder
	for i, p := range f.Pipelines {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "pipeline %s: %s, %s\n", p.Name, plural(len(p.Source.Tables), "table"), plural(len(p.Sinks), "sink"))
		src := []string{}
		if r := p.Source.AWS.Region; r != "" {
			src = append(src, "region "+r)
		}
		if r := p.Source.AWS.STSRoleARN; r != "" {
			src = append(src, "role "+r)
		}
		if len(src) > 0 {
			fmt.Fprintf(&b, "  source dynamodb: %s\n", strings.Join(src, ", "))
		}
		for _, t := range p.Source.Tables {
			summarizeTable(&b, t)
		}
		if n := len(p.Processors); n > 0 {
			names := make([]string, n)
			for i, pr := range p.Processors {
				names[i] = pr.Name
			}
			fmt.Fprintf(&b, "  processors: %s\n", strings.Join(names, ", "))
		}
		for _, s := range p.Sinks {
			fmt.Fprintf(&b, "  sink %s\n", summarizeSink(s))
		}
	}
	return b.String()
}

func summarizeTable(b *strings.Builder, t Table) {
	fmt.Fprintf(b, "  table %s (%s)\n", t.TableName, t.TableARN)
	step := 1
	switch {
	case t.Export != nil && t.Export.ExportARN != "":
		fmt.Fprintf(b, "    %d. backfill: load export %s (%s, %d files at once)\n", step, t.Export.ExportARN, t.Export.Format, t.Export.Parallelism)
		step++
	case t.Export != nil:
		e := t.Export
		where := "s3://" + e.S3Bucket + "/" + strings.TrimPrefix(e.S3Prefix, "/")
		if e.S3Region != "" {
			where += " in " + e.S3Region
		}
		fmt.Fprintf(b, "    %d. backfill: export to %s (%s, %d files at once)\n", step, where, e.Format, e.Parallelism)
		step++
	case t.Scan != nil:
		rate := "no rate limit"
		if t.Scan.RateLimit > 0 {
			rate = fmt.Sprintf("at most %g items/s", t.Scan.RateLimit)
		}
		fmt.Fprintf(b, "    %d. backfill: scan, %d segments, %d items per page, %s\n", step, t.Scan.Segments, t.Scan.PageSize, rate)
		step++
	}
	if s := t.Stream; s != nil {
		fmt.Fprintf(b, "    %d. stream from %s (removes use %s, TTL expiry: %s, on a gap: %s", step, s.StartPosition, s.ViewOnRemove, s.TTLDeletes, s.OnGap)
		if step > 1 {
			fmt.Fprintf(b, ", replays from %s before the backfill", fmtDuration(t.Overlap))
		}
		if s.PollInterval != DefaultPollInterval {
			fmt.Fprintf(b, ", idle shards polled every %s", fmtDuration(s.PollInterval))
		}
		if s.TableDeletedWait != DefaultTableDeletedWait {
			fmt.Fprintf(b, ", a deleted table is waited for %s", fmtDuration(s.TableDeletedWait))
		}
		b.WriteString(")\n")
	} else {
		fmt.Fprintf(b, "    %d. no stream: stop after the backfill\n", step)
	}
}

func summarizeSink(s Sink) string {
	switch {
	case s.OpenSearch != nil:
		o := s.OpenSearch
		hosts := make([]string, len(o.Hosts))
		for i, h := range o.Hosts {
			hosts[i] = redactURL(h)
		}
		idx := ""
		if o.Index != nil {
			idx = o.Index.String()
		}
		line := fmt.Sprintf("opensearch %s -> index %s (%s", strings.Join(hosts, ", "), idx, o.IndexType)
		if o.DocumentVersionType == VersionTypeInternal {
			line += ", internal versions"
		} else {
			line += ", " + o.DocumentVersionType + " versions"
		}
		if o.Username != "" {
			line += ", basic auth"
		}
		if o.AWS != nil {
			if o.AWS.Serverless {
				line += ", OpenSearch Serverless (SigV4 aoss; no refresh, legacy templates or version parameters)"
			} else {
				line += ", SigV4 (es)"
			}
		}
		if o.Proxy != "" {
			line += ", via proxy " + redactURL(o.Proxy)
		}
		if o.RequestCompression {
			line += ", gzip requests"
		}
		if o.Insecure {
			line += ", TLS not verified"
		}
		if o.DLQFile != "" {
			line += ", dead letters to " + o.DLQFile
		}
		if o.DLQS3 != nil {
			line += ", dead letters to s3://" + o.DLQS3.Bucket + "/" + o.DLQS3.KeyPathPrefix
		}
		return line + ")"
	case s.Stdout != nil:
		return "stdout"
	case s.File != nil:
		return "file " + s.File.Path
	}
	return "(none)"
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
