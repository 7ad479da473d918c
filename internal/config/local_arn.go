package config

// LocalRegion is the region DynamoDB Local writes into the ARNs it reports
// (`arn:aws:dynamodb:ddblocal:000000000000:table/NAME`). It is not a
// namespace a client can address: DynamoDB Local keeps tables per access key
// and client region, so a table with such an ARN is addressed by its name in
// the configured region (aws.region, else AWS_REGION).
const LocalRegion = "ddblocal"

// LocalARN reports whether the table's ARN is one DynamoDB Local reported.
func (t Table) LocalARN() bool {
	a, err := parseTableARN(t.TableARN)
	return err == nil && a.region == LocalRegion
}
