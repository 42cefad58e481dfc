package reporter

import _ "embed"

// ReportSchema is the JSON Schema (draft 2020-12) of report.json as WriteJSON
// writes it. It is strict: objects the model closes reject unknown
// properties, and status, level, polarity, profile and verdict are enums.
// A change to the model's JSON shape must change this schema (and, if it is
// not backward compatible, SchemaVersion); reporter/schema_test.go and
// cmd/smartconform/schema_test.go validate sample and real reports with it.
//
//go:embed report.schema.json
var ReportSchema []byte
