package main

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/smartconform/smartconform/reporter"
)

// TestRealReportsMatchTheSchema validates report.json from real runs of the
// suite against the embedded reference server, conformant and faulty, with
// the schema the reporter package embeds.
func TestRealReportsMatchTheSchema(t *testing.T) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(reporter.ReportSchema))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("report.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("report.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, faults := range [][]string{nil, {"accept-expired", "skip-www-authenticate"}} {
		t.Run(fmt.Sprintf("faults=%v", faults), func(t *testing.T) {
			rep, err := runReference(false, faults...)
			if err != nil {
				t.Fatal(err)
			}
			if len(faults) > 0 && rep.Summary.Failed == 0 {
				t.Fatalf("faults %v failed no case", faults)
			}
			var buf bytes.Buffer
			if err := reporter.WriteJSON(&buf, rep); err != nil {
				t.Fatal(err)
			}
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(inst); err != nil {
				t.Fatalf("report.json of a real run does not match reporter/report.schema.json:\n%#v", err)
			}
		})
	}
}
