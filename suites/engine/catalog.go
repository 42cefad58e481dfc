// Package engine runs the conformance cases that package suites declares.
// It knows no case by name: case files register areas and cases through
// Area and Case, with their typed metadata (catalog.go); each case body
// gets a *T (case.go) that sends recorded, redacted requests (http.go),
// builds valid requests and assertions for each client-authentication
// method (env.go) and judges answers (judge.go). Run (run.go) drives Ginkgo
// from a normal program, executes the bodies on a worker pool and builds the
// results model that package reporter renders.
package engine

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/onsi/ginkgo/v2"
)

// TestPlanVersion changes whenever a case is added, removed or re-judged.
const TestPlanVersion = "2026.11-6"

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
	// Baseline marks the positive case whose valid request of Method every
	// negative case of that method needs accepted first (RequireBaseline
	// names it when it is not).
	Baseline bool
	// Sweep marks a run-wide case: it sends nothing, runs after every other
	// selected case of the target has finished, and judges one rule over
	// every exchange of the run (T.Exchanges), so that a rule every answer
	// must follow fails once, in its own case, not in every case whose
	// answer happens to break it.
	Sweep bool
	// Hints overrides, per behaviour of the server (the Behaviour*
	// constants), the hint the engine gives when the case fails for that
	// behaviour rather than for its own requirement (Hint).
	Hints map[string]string
	area  string
	// na: not applicable under the profile ForProfile was given.
	na string
}

// Area returns the case's spec area.
func (m Meta) Area() string { return m.area }

// ForProfile returns the metadata as the profile sees it: Level is the
// case's level under that profile (Meta.Profiles), so that reports and
// labels show what the run judges. A case not applicable under the profile
// keeps its declared Level (reports know only MUST and SHOULD), is labelled
// level:na and is skipped with that reason. "" is the declared metadata.
func (m Meta) ForProfile(p string) Meta {
	if l, ok := m.Profiles[p]; ok && p != "" {
		if l == NotApplicable {
			m.na = p
		} else {
			m.Level = l
		}
	}
	return m
}

// NotApplicable says under which profile the case does not apply ("" when
// it applies): set by ForProfile.
func (m Meta) NotApplicableUnder() string { return m.na }

// Labels are the Ginkgo labels of the case, usable in --label-filter:
// its ID, area:X, method:X, positive|negative, level:must|should (level:na
// when not applicable under the run's profile), and sweep for a run-wide
// case.
func (m Meta) Labels() []string {
	lvl := strings.ToLower(string(m.Level))
	if m.na != "" {
		lvl = "na"
	}
	l := []string{m.ID, "area:" + m.area, "level:" + lvl}
	if m.Sweep {
		l = append(l, "sweep")
	}
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
	if m.Sweep && (m.Method != "" || m.Baseline) {
		errs = append(errs, "a sweep judges every exchange of the run: it has no method and is no baseline")
	}
	for b := range m.Hints {
		if !knownBehaviour[b] {
			errs = append(errs, "hint for unknown behaviour "+b)
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
	rank        int
	name, title string
	body        func()
}

// areas are registered at init by each area file.
var areas []area

// catalogue is filled each time Ginkgo builds the tree (PreviewSpecs and
// RunSpecs both do), in catalogue order.
var catalogue []Meta

// bodies are the case bodies by ID, filled with the catalogue.
var bodies = map[string]func(t *T){}

// Area declares a spec area; its body declares cases with Case. Areas run
// and are listed by rank, lowest first; two areas may not share a rank or
// a name.
func Area(rank int, name, title string, body func()) bool {
	areas = append(areas, area{rank: rank, name: name, title: title, body: body})
	sort.SliceStable(areas, func(i, j int) bool { return areas[i].rank < areas[j].rank })
	return true
}

var currentArea string

// treeProfile is the profile the tree is declared for: the level labels
// follow it, so that --label-filter level:must selects what the run judges
// at MUST.
var treeProfile string

// Case declares one conformance case: an It whose text is "[ID] title",
// labelled from its metadata, and whose body judges through a *T.
func Case(m Meta, body func(t *T)) { caseAt(2, m, body) }

// caseAt is Case, with the Ginkgo code location offset of its caller.
func caseAt(offset int, m Meta, body func(t *T)) {
	m.area = currentArea
	catalogue = append(catalogue, m)
	bodies[m.ID] = body
	ginkgo.It(m.SpecText(), ginkgo.Label(m.ForProfile(treeProfile).Labels()...), ginkgo.Offset(offset), func(ctx ginkgo.SpecContext) {
		judgeRecord(current.await(ctx, m))
	})
}

// defineTree declares every area's cases under one top-level container, so
// that Ginkgo keeps catalogue order (it shuffles only top-level containers).
// Ginkgo runs the body when it builds the tree, which fills catalogue.
func defineTree() {
	ginkgo.Describe("smartconform", func() {
		catalogue = nil
		for _, a := range areas {
			currentArea = a.name
			ginkgo.Describe(a.title, a.body)
		}
	})
}

// ValidateCatalogue checks every case and that IDs are unique.
func ValidateCatalogue(cat []Meta) error {
	seen := map[string]bool{}
	var errs []string
	for i, a := range areas {
		for _, b := range areas[:i] {
			if a.rank == b.rank || a.name == b.name {
				errs = append(errs, fmt.Sprintf("areas %s and %s share a rank or a name", a.name, b.name))
			}
		}
	}
	baselines := map[string]string{}
	for _, m := range cat {
		if !m.Baseline {
			continue
		}
		if m.Method == "" || m.Negative {
			errs = append(errs, "case "+m.ID+": a baseline is a positive case of one method")
		} else if prev, ok := baselines[m.Method]; ok {
			errs = append(errs, "cases "+prev+" and "+m.ID+" are both the baseline of "+m.Method)
		}
		baselines[m.Method] = m.ID
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
