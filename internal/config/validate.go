package config

import (
	"fmt"
	"strings"
)

// validator checks a decoded, defaulted File: required keys, formats (ARNs,
// names, URLs), ranges and options that conflict. Keys the decoder already
// reported (marked bad in the index) are not reported again.
type validator struct {
	idx   *index
	probs []Problem
}

func validate(f *File) []Problem {
	v := &validator{idx: f.index}
	tables := map[string]string{} // table ARN → path of its first use
	for _, p := range f.Pipelines {
		v.source(p, tables)
		v.processors(p)
		v.sinks(p)
		v.coordination(p.Coordination)
	}
	return v.probs
}

func (v *validator) add(path, msg string) {
	v.probs = append(v.probs, Problem{Line: v.idx.line(path), Path: path, Msg: msg})
}

func (v *validator) bad(path string) bool { return v.idx.isBad(path) }

func (v *validator) fromEnv(path string) bool { _, ok := v.idx.env[path]; return ok }

// invalid reports a malformed value. The reason (which quotes parts of the
// value) is dropped when the value came from the environment.
func (v *validator) invalid(path, value, what string, reason error, want string) {
	if reason != nil && !v.fromEnv(path) {
		what += ": " + reason.Error()
	}
	v.add(path, gotWant(what, v.idx.got(path, value), want))
}

// required reports an empty required string: missing when the key is
// absent, "empty" when it is written as "".
func (v *validator) required(path, value, want string) bool {
	if value != "" {
		return true
	}
	if v.bad(path) {
		return false
	}
	if v.idx.has(path) {
		v.add(path, gotWant("must not be empty", `""`, want))
	} else {
		v.add(path, gotWant("missing required key", "", want))
	}
	return false
}

// conflict reports two options that cannot be used together, at the second.
func (v *validator) conflict(path, other, why string) {
	v.add(path, fmt.Sprintf("conflicts with %s (%s)", other, why))
}

func (v *validator) positive(path string, ok bool, got, want string) {
	if !ok && v.idx.has(path) && !v.bad(path) {
		v.add(path, gotWant("out of range", got, want))
	}
}

func (v *validator) source(p *Pipeline, tables map[string]string) {
	sp := sourcePath(p)
	s := &p.Source
	v.positive(sp+".shard_acknowledgment_timeout", s.ShardAcknowledgmentTimeout > 0, s.ShardAcknowledgmentTimeout.String(), "a positive duration")
	v.positive(sp+".s3_data_file_acknowledgment_timeout", s.S3DataFileAcknowledgmentTimeout > 0, s.S3DataFileAcknowledgmentTimeout.String(), "a positive duration")
	v.aws(sp+".aws", s.AWS)
	regionWritten := v.idx.has(sp + ".aws.region")
	firstRegion := ""
	for i := range s.Tables {
		tp := tablePath(p, i)
		if v.bad(tp) {
			continue
		}
		t := &s.Tables[i]
		a, ok := v.table(tp, t, tables)
		if !ok {
			continue
		}
		switch {
		case a.region == LocalRegion: // DynamoDB Local's own ARN: addressed by name in the configured region
			continue
		case regionWritten && validRegion(s.AWS.Region) && a.region != s.AWS.Region:
			v.add(tp+".table_arn", gotWant("table is in another region than aws.region "+s.AWS.Region, v.regionOf(tp+".table_arn", a), "one region per source (aws.region)"))
		case !regionWritten && firstRegion != "" && a.region != firstRegion:
			v.add(tp+".table_arn", gotWant("tables of one source must be in one region", v.regionOf(tp+".table_arn", a), "region "+firstRegion+" like the first table, or aws.region set"))
		}
		if firstRegion == "" {
			firstRegion = a.region
		}
	}
}

func (v *validator) regionOf(path string, a arn) string {
	if v.fromEnv(path) {
		return "a table ARN from the environment"
	}
	return "region " + a.region
}

// table checks one table; it returns the parsed ARN when it is valid.
func (v *validator) table(tp string, t *Table, tables map[string]string) (arn, bool) {
	arnPath := tp + ".table_arn"
	var a arn
	ok := false
	if v.required(arnPath, t.TableARN, tableARNWant) {
		var err error
		if a, err = parseTableARN(t.TableARN); err != nil {
			v.invalid(arnPath, t.TableARN, "invalid table ARN", err, tableARNWant)
		} else {
			ok = true
			if first, dup := tables[t.TableARN]; dup {
				v.add(arnPath, fmt.Sprintf("table is already configured at line %d (%s); each table is synced once", v.idx.line(first), first))
			} else {
				tables[t.TableARN] = arnPath
			}
		}
	}
	switch {
	case t.Export == nil && t.Scan == nil && t.Stream == nil:
		v.add(tp, gotWant("nothing to do for this table", "", "stream: {...} and/or a backfill, export: {...} or scan: {...}"))
	case t.Export != nil && t.Scan != nil:
		v.conflict(tp+".scan", "export", "a table is backfilled once: by export or by scan")
	}
	if t.Stream != nil && t.Stream.OnGap == OnGapRebackfill && t.Export == nil && t.Scan == nil {
		v.add(tp+".stream.on_gap", gotWant("rebackfill needs a backfill method", `"rebackfill"`, "export: {...} or scan: {...} on this table, or on_gap: stop"))
	}
	if s := t.Stream; s != nil {
		v.positive(tp+".stream.poll_interval", s.PollInterval >= MinPollInterval && s.PollInterval <= MaxPollInterval, fmtDuration(s.PollInterval),
			"200ms to 1m (DynamoDB Streams allows 5 GetRecords calls per second per shard)")
		v.positive(tp+".stream.table_deleted_wait", s.TableDeletedWait >= 1e9, fmtDuration(s.TableDeletedWait), "at least 1s")
	}
	if t.Export != nil && !v.bad(tp+".export") {
		v.export(tp+".export", t.Export, a, ok)
	}
	if s := t.Scan; s != nil {
		sp := tp + ".scan"
		v.positive(sp+".segments", s.Segments >= 1 && s.Segments <= 1000000, fmt.Sprint(s.Segments), "1 to 1000000 (DynamoDB's TotalSegments)")
		v.positive(sp+".page_size", s.PageSize >= 1, fmt.Sprint(s.PageSize), "at least 1")
		v.positive(sp+".rate_limit", s.RateLimit >= 0, fmt.Sprint(s.RateLimit), "items per second, 0 for no limit")
	}
	return a, ok
}

func (v *validator) export(ep string, e *Export, table arn, tableOK bool) {
	if e.ExportARN == "" {
		v.required(ep+".s3_bucket", e.S3Bucket, `an S3 bucket name, or export_arn to load an existing export`)
	} else if ea, err := parseExportARN(e.ExportARN); err != nil {
		v.invalid(ep+".export_arn", e.ExportARN, "invalid export ARN", err, exportARNWant)
	} else if tableOK && (ea.resource != table.resource || ea.region != table.region || ea.account != table.account || ea.partition != table.partition) {
		v.add(ep+".export_arn", gotWant("export is of another table", v.idx.got(ep+".export_arn", e.ExportARN), "an export of this table's ARN"))
	}
	if e.S3Bucket != "" {
		if err := checkBucket(e.S3Bucket); err != nil {
			v.invalid(ep+".s3_bucket", e.S3Bucket, "invalid S3 bucket name", err, "3 to 63 of a-z 0-9 . -")
		}
	}
	if e.S3Region != "" && !validRegion(e.S3Region) {
		v.invalid(ep+".s3_region", e.S3Region, "invalid region", nil, "a region name such as us-east-1")
	}
	if e.S3SSEKMSKeyID != "" {
		if err := checkKMSKey(e.S3SSEKMSKeyID); err != nil {
			v.invalid(ep+".s3_sse_kms_key_id", e.S3SSEKMSKeyID, "invalid KMS key ARN", err, kmsKeyWant)
		}
	}
	if e.S3BucketOwner != "" && !validAccount(e.S3BucketOwner) {
		v.invalid(ep+".s3_bucket_owner", e.S3BucketOwner, "invalid account ID", nil, "12 digits")
	}
	v.positive(ep+".parallelism", e.Parallelism >= 1, fmt.Sprint(e.Parallelism), "at least 1")
}

func (v *validator) aws(ap string, a AWS) {
	if a.Region != "" && !validRegion(a.Region) {
		v.invalid(ap+".region", a.Region, "invalid region", nil, "a region name such as us-east-1")
	}
	if a.STSRoleARN != "" {
		if err := checkRoleARN(a.STSRoleARN); err != nil {
			v.invalid(ap+".sts_role_arn", a.STSRoleARN, "invalid IAM role ARN", err, roleARNWant)
		}
	}
	if n := len(a.STSExternalID); n > 0 && (n < 2 || n > 1224) {
		// The external ID may be confidential: give its length only.
		v.add(ap+".sts_external_id", gotWant("out of range", plural(n, "character"), "2 to 1224 characters"))
	}
	if n := len(a.STSHeaderOverrides); n > 5 {
		v.add(ap+".sts_header_overrides", gotWant("too many headers", fmt.Sprint(n), "at most 5"))
	}
}

// checkBucket applies S3's bucket naming rules (the common subset).
func checkBucket(s string) error {
	if len(s) < 3 || len(s) > 63 {
		return fmt.Errorf("%d characters", len(s))
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return !(r >= 'a' && r <= 'z') && !(r >= '0' && r <= '9') && r != '.' && r != '-' }); i >= 0 {
		return fmt.Errorf("has %q", s[i:i+1])
	}
	if !isAlnum(rune(s[0])) || !isAlnum(rune(s[len(s)-1])) {
		return fmt.Errorf("must start and end with a letter or digit")
	}
	return nil
}
