// Package suites holds the conformance cases, one file per spec area
// (discovery.go, asymmetric.go, symmetric.go, public.go, token_response.go),
// and the small framework they are written in: the typed case metadata
// (catalog.go), the per-case context with its recorded HTTP exchanges
// (case.go, http.go), the verdict helpers (judge.go) and the run itself
// (run.go), which drives Ginkgo from a normal program and builds the
// results model the reporter renders.
package suites

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/onsi/ginkgo/v2"
)

// TestPlanVersion changes whenever a case is added, removed or re-judged.
const TestPlanVersion = "2026.11-2"

// Level is how much a case's requirement weighs.
type Level string

// MUST fails the run; SHOULD warns, and fails under --strict.
const (
	MUST   Level = "MUST"
	SHOULD Level = "SHOULD"
	// NotApplicable, in Meta.Profiles, skips the case under that profile.
	NotApplicable Level = "N/A"
)

// Profiles (--profile): which reading of a spec disagreement (requirements
// §12) a run takes. smart-v2 is the default.
const (
	ProfileSMARTv2 = "smart-v2"
	ProfileSMARTv1 = "smart-v1"
	ProfileOAuth   = "oauth"
)

// Auth methods, named as RFC 8414 names them.
const (
	PrivateKeyJWT     = "private_key_jwt"
	ClientSecretBasic = "client_secret_basic"
	ClientSecretPost  = "client_secret_post"
	AuthNone          = "none"
)

// Ref is a spec reference: section and URL.
type Ref struct{ Label, URL string }

// Spec reference builders. Section anchors are those of the published pages.
const (
	salBase = "https://hl7.org/fhir/smart-app-launch/STU2.2/"
	rfcBase = "https://www.rfc-editor.org/rfc/"
)

// SAL cites a page (and anchor) of SMART App Launch 2.2.
func SAL(page, anchor, label string) Ref {
	u := salBase + page
	if anchor != "" {
		u += "#" + anchor
	}
	return Ref{Label: "SMART App Launch 2.2 " + label, URL: u}
}

// RFC cites a section of an RFC; a section that starts with a letter is an
// appendix ("B": App. B, #appendix-B).
func RFC(n int, section string) Ref {
	if section != "" && section[0] >= 'A' && section[0] <= 'Z' {
		return Ref{Label: fmt.Sprintf("RFC %d App. %s", n, section), URL: fmt.Sprintf("%srfc%d#appendix-%s", rfcBase, n, section)}
	}
	return Ref{Label: fmt.Sprintf("RFC %d §%s", n, section), URL: fmt.Sprintf("%srfc%d#section-%s", rfcBase, n, section)}
}

// Meta is a case's typed metadata. Every field but Method, Policy and Hint
// is required, and the catalogue is validated before any run.
type Meta struct {
	ID          string // stable: never reused for another requirement
	Title       string
	Requirement string // one sentence, what the server must do
	Level       Level
	Method      string // the client-authentication method it exercises, if any
	Negative    bool   // the server must refuse something
	Refs        []Ref
	Policy      string // which reading of a spec disagreement it takes (requirements §12)
	Hint        string // what a server that fails it most likely does wrong
	// Profiles gives the case's level under a profile where §12 makes it
	// differ from Level (NotApplicable: skipped). The case body applies it
	// through T.ProfileLevel.
	Profiles map[string]Level
	area     string
}

// Area returns the case's spec area.
func (m Meta) Area() string { return m.area }

// Labels are the Ginkgo labels of the case, usable in --label-filter:
// its ID, area:X, method:X, positive|negative, level:must|should.
func (m Meta) Labels() []string {
	l := []string{m.ID, "area:" + m.area, "level:" + strings.ToLower(string(m.Level))}
	if m.Method != "" {
		l = append(l, "method:"+m.Method)
	}
	if m.Negative {
		l = append(l, "negative")
	} else {
		l = append(l, "positive")
	}
	return l
}

// SpecText is the Ginkgo text of the case: "[ID] title".
func (m Meta) SpecText() string { return "[" + m.ID + "] " + m.Title }

var idRE = regexp.MustCompile(`^[A-Z]+(-[A-Z0-9]+)+$`)

// Validate checks one case's metadata.
func (m Meta) Validate() error {
	var errs []string
	if !idRE.MatchString(m.ID) {
		errs = append(errs, "ID must look like AREA-TOPIC-01")
	}
	if m.Title == "" || m.Requirement == "" {
		errs = append(errs, "title and requirement are required")
	}
	if m.Level != MUST && m.Level != SHOULD {
		errs = append(errs, "level must be MUST or SHOULD")
	}
	if len(m.Refs) == 0 {
		errs = append(errs, "at least one spec reference is required")
	}
	for _, r := range m.Refs {
		u, err := url.Parse(r.URL)
		if r.Label == "" || err != nil || u.Scheme != "https" || u.Host == "" {
			errs = append(errs, fmt.Sprintf("reference %q: needs a label and an absolute https URL", r.Label))
		}
	}
	for p, l := range m.Profiles {
		if (p != ProfileSMARTv2 && p != ProfileSMARTv1 && p != ProfileOAuth) || (l != MUST && l != SHOULD && l != NotApplicable) {
			errs = append(errs, fmt.Sprintf("profile %s: level %s: unknown profile or level", p, l))
		}
	}
	switch m.Method {
	case "", PrivateKeyJWT, ClientSecretBasic, ClientSecretPost, AuthNone:
	default:
		errs = append(errs, "unknown method "+m.Method)
	}
	if len(errs) > 0 {
		return fmt.Errorf("case %q: %s", m.ID, strings.Join(errs, "; "))
	}
	return nil
}

type area struct {
	name, title string
	body        func()
}

// areaOrder is the order areas run and are listed in. An area file that is
// not listed here is refused by ValidateCatalogue.
var areaOrder = []string{"discovery", "private_key_jwt", "client-secret", "public-client", "token-endpoint", "token-response", "scopes", "errors", "transport"}

// areas are registered at init by each area file.
var areas []area

// catalogue is filled each time Ginkgo builds the tree (PreviewSpecs and
// RunSpecs both do), in catalogue order.
var catalogue []Meta

// bodies are the case bodies by ID, filled with the catalogue.
var bodies = map[string]func(t *T){}

// Area declares a spec area; its body declares cases with Case.
func Area(name, title string, body func()) bool {
	areas = append(areas, area{name: name, title: title, body: body})
	return true
}

var currentArea string

// Case declares one conformance case: an It whose text is "[ID] title",
// labelled from its metadata, and whose body judges through a *T.
func Case(m Meta, body func(t *T)) {
	m.area = currentArea
	catalogue = append(catalogue, m)
	bodies[m.ID] = body
	ginkgo.It(m.SpecText(), ginkgo.Label(m.Labels()...), ginkgo.Offset(1), func(ctx ginkgo.SpecContext) {
		judgeRecord(current.await(ctx, m))
	})
}

// defineTree declares every area's cases under one top-level container, so
// that Ginkgo keeps catalogue order (it shuffles only top-level containers).
// Ginkgo runs the body when it builds the tree, which fills catalogue.
func defineTree() {
	ginkgo.Describe("smartconform", func() {
		catalogue = nil
		for _, name := range areaOrder {
			for _, a := range areas {
				if a.name == name {
					currentArea = a.name
					ginkgo.Describe(a.title, a.body)
				}
			}
		}
	})
}

// ValidateCatalogue checks every case and that IDs are unique.
func ValidateCatalogue(cat []Meta) error {
	seen := map[string]bool{}
	var errs []string
	for _, a := range areas {
		if !slices.Contains(areaOrder, a.name) {
			errs = append(errs, "area "+a.name+" is not in areaOrder")
		}
	}
	for _, m := range cat {
		if err := m.Validate(); err != nil {
			errs = append(errs, err.Error())
		}
		if seen[m.ID] {
			errs = append(errs, "duplicate case ID "+m.ID)
		}
		seen[m.ID] = true
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid case catalogue:\n  %s", strings.Join(errs, "\n  "))
	}
	return nil
}
