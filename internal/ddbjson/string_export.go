package ddbjson

// AppendString appends s as a JSON string with the converter's escaping
// rules, so that code re-encoding a document (processors) writes strings
// byte for byte as the converter does.
func AppendString(b []byte, s string) []byte { return appendString(b, s) }
