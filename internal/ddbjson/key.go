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
// its _id with DocumentID: the Data-Prepper-compatible "pk", or "pk|sk" when
// the table has a sort key, unless that text is ambiguous (then an escaped
// form) or longer than MaxIDBytes (then a hash).
func (k Key) KeyIDs(item map[string]types.AttributeValue) (IDs, error) {
	var ids IDs
	var err error
	if ids.Partition, err = KeyText(item[k.Partition]); err != nil {
		return ids, fmt.Errorf("partition key %q: %w", k.Partition, err)
	}
	if k.Sort != "" {
		if ids.Sort, err = KeyText(item[k.Sort]); err != nil {
			return ids, fmt.Errorf("sort key %q: %w", k.Sort, err)
		}
	}
	ids.ID = DocumentID(ids.Partition, ids.Sort, k.Sort != "")
	return ids, nil
}

// HashID is the _id used when the plain or escaped one (see DocumentID)
// exceeds MaxIDBytes: "sha256:" followed by its hex SHA-256 (71 bytes).
// The item's key stays readable in the document itself.
func HashID(natural string) string {
	sum := sha256.Sum256([]byte(natural))
	return hashPrefix + hex.EncodeToString(sum[:])
}
