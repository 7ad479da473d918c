package config

import (
	"errors"
	"fmt"
	"strings"
)

// arn is the six colon-separated parts of an Amazon Resource Name.
type arn struct {
	partition, service, region, account, resource string
}

const (
	tableARNWant  = "arn:aws:dynamodb:<region>:<12-digit account>:table/<name>"
	roleARNWant   = "arn:aws:iam::<12-digit account>:role/<name>"
	exportARNWant = "arn:aws:dynamodb:<region>:<12-digit account>:table/<name>/export/<export id>"
	kmsKeyWant    = "arn:aws:kms:<region>:<12-digit account>:key/<key id>"
)

// splitARN checks the parts every ARN has: arn:<partition>:<service>:…,
// with partition aws or aws-<name> and a 12-digit account (when required).
func splitARN(s, service string, regional bool) (arn, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return arn{}, errors.New("not an ARN")
	}
	a := arn{partition: parts[1], service: parts[2], region: parts[3], account: parts[4], resource: parts[5]}
	switch {
	case a.partition != "aws" && !(strings.HasPrefix(a.partition, "aws-") && isLowerWord(a.partition[4:])):
		return a, fmt.Errorf("partition %q is not aws or aws-<name>", a.partition)
	case a.service != service:
		return a, fmt.Errorf("service %q is not %s", a.service, service)
	case regional && !validRegion(a.region):
		return a, fmt.Errorf("region %q is not a region name", a.region)
	case !regional && a.region != "":
		return a, fmt.Errorf("%s ARNs have no region (got %q)", service, a.region)
	case !validAccount(a.account):
		return a, fmt.Errorf("account %q is not 12 digits", a.account)
	}
	return a, nil
}

// parseTableARN checks a DynamoDB table ARN; resource is set to the table name.
func parseTableARN(s string) (arn, error) {
	a, err := splitARN(s, "dynamodb", true)
	if err != nil {
		return a, err
	}
	name, ok := strings.CutPrefix(a.resource, "table/")
	switch {
	case !ok:
		return a, fmt.Errorf("resource %q does not start with table/", a.resource)
	case strings.Contains(name, "/stream/"):
		return a, errors.New("this is a stream ARN; give the table's ARN")
	case strings.Contains(name, "/"):
		return a, fmt.Errorf("resource %q is not table/<name>", a.resource)
	}
	if err := checkTableName(name); err != nil {
		return a, err
	}
	a.resource = name
	return a, nil
}

// parseExportARN checks a DynamoDB export ARN; resource is set to the table name.
func parseExportARN(s string) (arn, error) {
	a, err := splitARN(s, "dynamodb", true)
	if err != nil {
		return a, err
	}
	rest, ok := strings.CutPrefix(a.resource, "table/")
	name, id, ok2 := strings.Cut(rest, "/export/")
	switch {
	case !ok || !ok2:
		return a, fmt.Errorf("resource %q is not table/<name>/export/<id>", a.resource)
	case id == "" || strings.IndexFunc(id, func(r rune) bool { return !isAlnum(r) && r != '-' }) >= 0:
		return a, fmt.Errorf("export id %q is not letters, digits and '-'", id)
	}
	if err := checkTableName(name); err != nil {
		return a, err
	}
	a.resource = name
	return a, nil
}

// checkRoleARN checks an IAM role ARN: arn:aws:iam::<account>:role/[path/]name.
func checkRoleARN(s string) error {
	a, err := splitARN(s, "iam", false)
	if err != nil {
		return err
	}
	rest, ok := strings.CutPrefix(a.resource, "role/")
	if !ok {
		return fmt.Errorf("resource %q is not role/<name> (only a role can be assumed)", a.resource)
	}
	segs := strings.Split(rest, "/")
	name := segs[len(segs)-1]
	if name == "" || len(name) > 64 {
		return fmt.Errorf("role name %q is not 1 to 64 characters", name)
	}
	for _, seg := range segs {
		if seg == "" && len(segs) > 1 {
			return errors.New("role path has an empty segment")
		}
		if i := strings.IndexFunc(seg, func(r rune) bool { return !isAlnum(r) && !strings.ContainsRune("_+=,.@-", r) }); i >= 0 {
			return fmt.Errorf("role name %q has %q (allowed: letters, digits and _+=,.@-)", rest, seg[i:i+1])
		}
	}
	return nil
}

// checkKMSKey checks a KMS key ARN, as Data Prepper requires for s3_sse_kms_key_id.
func checkKMSKey(s string) error {
	a, err := splitARN(s, "kms", true)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(a.resource, "key/") && !strings.HasPrefix(a.resource, "alias/") || strings.HasSuffix(a.resource, "/") {
		return fmt.Errorf("resource %q is not key/<id> or alias/<name>", a.resource)
	}
	return nil
}

// checkTableName applies DynamoDB's rule: 3 to 255 of [A-Za-z0-9_.-].
func checkTableName(name string) error {
	if len(name) < 3 || len(name) > 255 {
		return fmt.Errorf("table name %q is not 3 to 255 characters", name)
	}
	if i := strings.IndexFunc(name, func(r rune) bool { return !isAlnum(r) && r != '_' && r != '.' && r != '-' }); i >= 0 {
		return fmt.Errorf("table name %q has %q (allowed: letters, digits, _ . -)", name, name[i:i+1])
	}
	return nil
}

// validRegion accepts AWS region names (us-east-1, cn-north-1, us-gov-west-1)
// and the single words local emulators use; it rejects placeholders and
// display names ("US East").
func validRegion(s string) bool {
	if s == "" || len(s) > 32 || !(s[0] >= 'a' && s[0] <= 'z') || strings.HasSuffix(s, "-") {
		return false
	}
	return strings.IndexFunc(s, func(r rune) bool { return !(r >= 'a' && r <= 'z') && !(r >= '0' && r <= '9') && r != '-' }) < 0
}

func validAccount(s string) bool { return len(s) == 12 && allDigits(s) }

func isLowerWord(s string) bool {
	return s != "" && strings.IndexFunc(s, func(r rune) bool { return !(r >= 'a' && r <= 'z') && r != '-' }) < 0
}

func isAlnum(r rune) bool {
	return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
}
