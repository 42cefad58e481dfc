package suites

// Spec references used by several cases. Each names the section a case checks.
var (
	refConfWellKnown = SAL("conformance.html", "using-well-known", "Conformance: Using well-known")
	refConfMetadata  = SAL("conformance.html", "metadata", "Conformance: Metadata")
	refAsymDiscovery = SAL("client-confidential-asymmetric.html", "discovery-requirements", "Asymmetric client auth: Discovery Requirements")
	refAsymAuth      = SAL("client-confidential-asymmetric.html", "authenticating-to-the-token-endpoint", "Asymmetric client auth: Authenticating to the Token endpoint")
	refAsymVerify    = SAL("client-confidential-asymmetric.html", "signature-verification", "Asymmetric client auth: Signature Verification")
	refAsymRegister  = SAL("client-confidential-asymmetric.html", "registering-a-client-communicating-public-keys", "Asymmetric client auth: Registering a client")
	refBSIssue       = SAL("backend-services.html", "issue-access-token", "Backend Services: Issue access token")
	refSym           = SAL("client-confidential-symmetric.html", "", "Symmetric client auth")
	refRFC6749Auth   = RFC(6749, "2.3.1")
	refRFC6749Multi  = RFC(6749, "2.3")
	refRFC6749Grant  = RFC(6749, "4.4")
	refRFC6749Token  = RFC(6749, "5.1")
	refRFC6749Error  = RFC(6749, "5.2")
	refRFC7521Auth   = RFC(7521, "4.2")
	refRFC7523Claims = RFC(7523, "3")
	refRFC7518None   = RFC(7518, "3.6")
	refRFC8725Alg    = RFC(8725, "3.1")
	refRFC7235Chall  = RFC(7235, "3.1")
	refRFC8414Meta   = RFC(8414, "2")
)
