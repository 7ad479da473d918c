package ddbjson

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// MaxIDBytes is OpenSearch's limit on the length of a document _id.
const MaxIDBytes = 512

// Key names a table's primary key attributes.
type Key struct {
	Partition string
	Sort      string // "" when the table has no sort key
}

// KeyText is the canonical text of a key attribute: strings as is, numbers
// as DynamoDB's digits (normalised like document numbers), binary as
// standard base64 — the form Data Prepper uses for primary_key.
func KeyText(av types.AttributeValue) (string, error) {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return v.Value, nil
	case *types.AttributeValueMemberN:
		return Number(v.Value)
	case *types.AttributeValueMemberB:
		return base64.StdEncoding.EncodeToString(v.Value), nil
	case nil:
		return "", fmt.Errorf("missing")
	default:
		return "", fmt.Errorf("key attribute of type %T is not S, N or B", av)
	}
}

// IDs holds the key texts and the document _id of one item.
type IDs struct {
	Partition string
	Sort      string
	ID        string
}

// KeyIDs extracts the key of an item (or a stream record's Keys) and builds
// the Data-Prepper-compatible _id: "pk", or "pk|sk" when the table has a
// sort key. An _id longer than MaxIDBytes is replaced by HashID.
func (k Key) KeyIDs(item map[string]types.AttributeValue) (IDs, error) {
	var ids IDs
	var err error
	if ids.Partition, err = KeyText(item[k.Partition]); err != nil {
		return ids, fmt.Errorf("partition key %q: %w", k.Partition, err)
	}
	ids.ID = ids.Partition
	if k.Sort != "" {
		if ids.Sort, err = KeyText(item[k.Sort]); err != nil {
			return ids, fmt.Errorf("sort key %q: %w", k.Sort, err)
		}
		ids.ID = ids.Partition + "|" + ids.Sort
	}
	if len(ids.ID) > MaxIDBytes {
		ids.ID = HashID(ids.ID)
	}
	return ids, nil
}

// HashID is the _id used when the natural one exceeds MaxIDBytes:
// "sha256:" followed by the hex SHA-256 of the natural _id (71 bytes).
// The item's key stays readable in the document itself.
func HashID(natural string) string {
	sum := sha256.Sum256([]byte(natural))
	return "sha256:" + hex.EncodeToString(sum[:])
}
