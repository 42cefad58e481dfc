package reporter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// compileReportSchema compiles ReportSchema with format assertions on (so a
// malformed date-time or URI fails, not only a wrong type).
func compileReportSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(ReportSchema))
	if err != nil {
		t.Fatalf("report.schema.json is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("report.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("report.schema.json")
	if err != nil {
		t.Fatalf("report.schema.json does not compile as draft 2020-12: %v", err)
	}
	return sch
}

func validateReportJSON(t *testing.T, sch *jsonschema.Schema, raw []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if err := sch.Validate(inst); err != nil {
		return fmt.Errorf("%#v", err) // every failing keyword and where
	}
	return nil
}

// schemaRichSample sets every field of the model at least once, has every
// status, both levels and polarities, and leaves some slices nil (written as
// null) so the schema is checked against what WriteJSON really emits.
func schemaRichSample() *Report {
	start := time.Date(2026, 3, 14, 9, 26, 53, 123456789, time.UTC)
	token := "https://auth.acme.example/oauth2/token"
	ref := Ref{Label: "RFC 6749 §5.2", URL: "https://www.rfc-editor.org/rfc/rfc6749#section-5.2"}
	hdrs := []Header{{Name: "Content-Type", Value: "application/x-www-form-urlencoded"}}
	full := Exchange{Label: "token request", Method: "POST", URL: token, RequestHeaders: hdrs,
		RequestBody: "grant_type=client_credentials", Status: 400,
		ResponseHeaders: []Header{{Name: "WWW-Authenticate", Value: `Basic realm="x"`}},
		ResponseBody:    `{"error":"invalid_client","error_description":"</pre><script>alert(1)</script>"}`,
		DurationMs:      21.5, At: start.Add(time.Second), Assertion: &JWT{Header: map[string]any{"alg": "RS384", "kid": "k1"},
			Claims: map[string]any{"iss": "c", "exp": 1773480713, "aud": []any{token}}},
		Curl: "curl -sS -i -X POST '" + token + "'"}
	noAnswer := Exchange{Label: "token request", Method: "POST", URL: token, Error: "connection refused", DurationMs: 3000,
		Assertion: &JWT{}} // nil header and claims: null
	mk := func(id string, st Status) Case {
		return Case{ID: id, Title: "title of " + id, Requirement: "The server MUST refuse it.", Area: "private_key_jwt",
			Method: "private_key_jwt", Polarity: "negative", Level: "MUST", Refs: []Ref{ref},
			Labels: []string{id, "area:private_key_jwt", "level:must", "negative"}, Status: st, DurationMs: 12.5}
	}
	failed := mk("ASYM-EXP-01", Failed)
	failed.Findings = []Finding{{Level: "MUST", Check: "status", Expected: "400 or 401", Actual: "200"}}
	failed.Hint, failed.Policy = "exp is not checked", "AMB-1: 400 or 401"
	failed.Exchanges = []Exchange{full}
	warned := mk("ASYM-BEARER-01", Warned)
	warned.Level, warned.Polarity = "SHOULD", "positive"
	warned.Findings = []Finding{{Level: "SHOULD", Check: "WWW-Authenticate", Expected: "present", Actual: "absent"}}
	skipped := mk("SYM-POST-01", Skipped)
	skipped.Reason, skipped.Refs, skipped.Labels = "no client_secret_post client", nil, nil // null arrays
	notrun := mk("SYM-POST-02", NotRun)
	notrun.Reason = "baseline failed"
	errored := mk("DISC-WK-01", Errored)
	errored.Reason, errored.Exchanges = "no answer", []Exchange{noAnswer}
	waived := mk("ASYM-KID-01", Waived)
	waived.Findings = failed.Findings
	waived.Waiver = &Waiver{ID: "ASYM-KID-01", Reason: "vendor ticket 123", Expires: "2026-12-31"}
	r := &Report{SchemaVersion: SchemaVersion, Tool: Tool{Name: "smartconform", Version: "v1.2.3"}, TestPlanVersion: "2026.11-2",
		Target: Target{Name: "Acme", FHIRBaseURL: "https://fhir.acme.example/r4", TokenEndpoint: token,
			InsecureSkipVerify: true, Reference: true, Faults: []string{"accept-expired"}},
		Run: RunInfo{Start: start, DurationMs: 4821.5, Profile: "smart-v1", Strict: true,
			LabelFilter: "negative", Focus: []string{"ASYM", "SYM"}, FailOn: "should", Concurrency: 4},
		Notes:     []string{"TLS verification was off."},
		Cases:     []Case{mk("ASYM-POS-01", Passed), failed, warned, waived, skipped, notrun, errored},
		Generated: start.Add(5 * time.Second)}
	r.Summarize()
	return r
}

func schemaJSON(t *testing.T, r *Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReportSchemaAcceptsWhatWriteJSONWrites(t *testing.T) {
	sch := compileReportSchema(t)
	raw := schemaJSON(t, schemaRichSample())
	if !bytes.Contains(raw, []byte(`"refs": null`)) {
		t.Fatal("the sample should carry a null array, as WriteJSON writes nil slices")
	}
	if err := validateReportJSON(t, sch, raw); err != nil {
		t.Fatalf("the schema rejects a report WriteJSON wrote: %v\n%s", err, raw)
	}
	// The smallest report: no cases, never summarized (zero values).
	empty := &Report{SchemaVersion: SchemaVersion, Tool: Tool{Name: "smartconform"}, Run: RunInfo{Profile: "smart-v2"}}
	empty.Summarize()
	if err := validateReportJSON(t, sch, schemaJSON(t, empty)); err != nil {
		t.Fatalf("the schema rejects an empty report: %v", err)
	}
}

// TestReportSchemaRejects proves the schema is strict: each mutation of a
// valid report must be refused.
func TestReportSchemaRejects(t *testing.T) {
	sch := compileReportSchema(t)
	base := schemaJSON(t, schemaRichSample())
	mutate := func(f func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(base, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	firstCase := func(m map[string]any) map[string]any { return m["cases"].([]any)[0].(map[string]any) }
	for _, tc := range []struct {
		name, want string
		f          func(m map[string]any)
	}{
		{"bad status", "status", func(m map[string]any) { firstCase(m)["status"] = "passing" }},
		{"missing schemaVersion", "schemaVersion", func(m map[string]any) { delete(m, "schemaVersion") }},
		{"other schemaVersion", "schemaVersion", func(m map[string]any) { m["schemaVersion"] = "2" }},
		{"bad verdict", "verdict", func(m map[string]any) { m["summary"].(map[string]any)["verdict"] = "ok" }},
		{"bad level", "level", func(m map[string]any) { firstCase(m)["level"] = "MAY" }},
		{"bad polarity", "polarity", func(m map[string]any) { firstCase(m)["polarity"] = "neutral" }},
		{"bad finding level", "level", func(m map[string]any) {
			m["cases"].([]any)[1].(map[string]any)["findings"].([]any)[0].(map[string]any)["level"] = "must"
		}},
		{"unknown top-level property", "additional", func(m map[string]any) { m["extra"] = true }},
		{"unknown case property", "additional", func(m map[string]any) { firstCase(m)["waived"] = true }},
		{"missing case id", "id", func(m map[string]any) { delete(firstCase(m), "id") }},
		{"negative count", "minimum", func(m map[string]any) { m["summary"].(map[string]any)["failed"] = -1 }},
		{"bad start time", "date-time", func(m map[string]any) { m["run"].(map[string]any)["start"] = "yesterday" }},
		{"bad profile", "profile", func(m map[string]any) { m["run"].(map[string]any)["profile"] = "smart-v3" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := validateReportJSON(t, sch, mutate(tc.f))
			if err == nil {
				t.Fatal("the schema accepted it")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("rejected, but the error does not mention %q: %v", tc.want, err)
			}
		})
	}
}

// TestReportSchemaCoversTheModel walks the model's types by reflection and
// checks the schema names every JSON field, no field the model lacks, and
// requires exactly the fields written without omitempty, so a field added
// to the model cannot slip past a sample that happens not to set it.
func TestReportSchemaCoversTheModel(t *testing.T) {
	var root map[string]any
	if err := json.Unmarshal(ReportSchema, &root); err != nil {
		t.Fatal(err)
	}
	defs, _ := root["$defs"].(map[string]any)
	resolve := func(n map[string]any) map[string]any {
		for {
			ref, ok := n["$ref"].(string)
			if !ok {
				return n
			}
			next, ok := defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
			if !ok {
				t.Fatalf("unresolvable $ref %q", ref)
			}
			n = next
		}
	}
	timeType := reflect.TypeOf(time.Time{})
	var walk func(path string, typ reflect.Type, node map[string]any)
	walk = func(path string, typ reflect.Type, node map[string]any) {
		node = resolve(node)
		for typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		switch {
		case typ == timeType || typ.Kind() == reflect.Map:
			return
		case typ.Kind() == reflect.Slice:
			items, ok := node["items"].(map[string]any)
			if !ok {
				t.Errorf("%s: the schema gives no items for a Go slice", path)
				return
			}
			walk(path+"[]", typ.Elem(), items)
			return
		case typ.Kind() != reflect.Struct:
			return
		}
		props, _ := node["properties"].(map[string]any)
		if node["additionalProperties"] != false {
			t.Errorf("%s: additionalProperties is not false", path)
		}
		var required []string
		for _, r := range node["required"].([]any) {
			required = append(required, r.(string))
		}
		seen := map[string]bool{}
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			tag := f.Tag.Get("json")
			name, opts, _ := strings.Cut(tag, ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			seen[name] = true
			sub, ok := props[name].(map[string]any)
			if !ok {
				t.Errorf("%s.%s (Go %s.%s) is missing from the schema", path, name, typ.Name(), f.Name)
				continue
			}
			omit := slices.Contains(strings.Split(opts, ","), "omitempty") || slices.Contains(strings.Split(opts, ","), "omitzero")
			if req := slices.Contains(required, name); req == omit {
				t.Errorf("%s.%s: required=%v in the schema, but omitempty=%v in the model", path, name, req, omit)
			}
			walk(path+"."+name, f.Type, sub)
		}
		for name := range props {
			if !seen[name] {
				t.Errorf("%s.%s is in the schema but not in the model", path, name)
			}
		}
	}
	walk("report", reflect.TypeOf(Report{}), root)

	// Every status the model ranks is in the status enum.
	statuses, _ := defs["status"].(map[string]any)["enum"].([]any)
	for st := range statusRank {
		if !slices.Contains(statuses, any(string(st))) {
			t.Errorf("status %q is not in the schema's enum", st)
		}
	}
}
