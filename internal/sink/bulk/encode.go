package bulk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Entry is an item with its encoded NDJSON lines (action line, then the
// document line unless the action is delete; each ends in '\n').
type Entry struct {
	Item
	Lines []byte
}

// Encode encodes every item. The lines of all entries share one buffer.
func Encode(items []Item) ([]Entry, error) {
	size := 0
	for i := range items {
		size += 128 + len(items[i].Index) + len(items[i].ID) + len(items[i].Event.Doc)
	}
	buf := make([]byte, 0, size)
	entries := make([]Entry, len(items))
	for i := range items {
		start := len(buf)
		var err error
		if buf, err = AppendItem(buf, &items[i]); err != nil {
			return nil, err
		}
		entries[i] = Entry{Item: items[i], Lines: buf[start:len(buf):len(buf)]}
	}
	return entries, nil
}

// AppendItem appends the item's action line and, for index and create, its
// document line, as _bulk expects them:
//
//	{"index":{"_index":"t","_id":"k","routing":"r","pipeline":"p","version":7,"version_type":"external"}}
//	{...document...}
//
// Unset optional fields are left out; the field order is fixed.
func AppendItem(dst []byte, it *Item) ([]byte, error) {
	dst = append(dst, `{"`...)
	dst = append(dst, it.Action...)
	dst = append(dst, `":{"_index":`...)
	dst = appendString(dst, it.Index)
	dst = append(dst, `,"_id":`...)
	dst = appendString(dst, it.ID)
	if it.Routing != "" {
		dst = append(dst, `,"routing":`...)
		dst = appendString(dst, it.Routing)
	}
	if it.Pipeline != "" && it.Action != ActionDelete {
		dst = append(dst, `,"pipeline":`...)
		dst = appendString(dst, it.Pipeline)
	}
	if it.Versioned() {
		dst = append(dst, `,"version":`...)
		dst = strconv.AppendInt(dst, it.Version, 10)
		dst = append(dst, `,"version_type":`...)
		dst = appendString(dst, it.VersionType)
	}
	dst = append(dst, "}}\n"...)
	if it.Action == ActionDelete {
		return dst, nil
	}
	doc := it.Event.Doc
	if bytes.ContainsAny(doc, "\r\n") {
		// A newline would end the line early; a valid document only has them
		// as whitespace, which Compact removes.
		var b bytes.Buffer
		if err := json.Compact(&b, doc); err != nil {
			return nil, fmt.Errorf("table %s item %q: document is not valid JSON: %w", it.Event.Table, it.Event.ID, err)
		}
		doc = b.Bytes()
	}
	dst = append(dst, doc...)
	return append(dst, '\n'), nil
}

// appendString appends s as a JSON string.
func appendString(dst []byte, s string) []byte {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			plain = false
			break
		}
	}
	if plain {
		dst = append(dst, '"')
		dst = append(dst, s...)
		return append(dst, '"')
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return append(dst, bytes.TrimSuffix(b.Bytes(), []byte("\n"))...)
}

// Size is the number of body bytes of entries.
func Size(entries []Entry) int {
	n := 0
	for i := range entries {
		n += len(entries[i].Lines)
	}
	return n
}

// Body concatenates the lines of entries into one request body.
func Body(entries []Entry) []byte {
	b := make([]byte, 0, Size(entries))
	for i := range entries {
		b = append(b, entries[i].Lines...)
	}
	return b
}

// Split cuts entries into consecutive batches of at most maxBytes body bytes
// each. An entry larger than maxBytes goes alone in its batch.
func Split(entries []Entry, maxBytes int) [][]Entry {
	var out [][]Entry
	start, size := 0, 0
	for i := range entries {
		n := len(entries[i].Lines)
		if i > start && size+n > maxBytes {
			out = append(out, entries[start:i:i])
			start, size = i, 0
		}
		size += n
	}
	if start < len(entries) {
		out = append(out, entries[start:len(entries):len(entries)])
	}
	return out
}
