package suites

import . "github.com/smartconform/smartconform/suites/engine"

// Spec references used by several cases. Each names the section a case checks.
var (
	refConfWellKnown = SAL("conformance.html", "using-well-known", "Conformance: Using well-known")
	refConfMetadata  = SAL("conformance.html", "metadata", "Conformance: Metadata")
	refAsymDiscovery = SAL("client-confidential-asymmetric.html", "advertising-server-support-for-this-profile", "Asymmetric client auth: Advertising server support for this profile")
	refAsymAuth      = SAL("client-confidential-asymmetric.html", "authenticating-to-the-token-endpoint", "Asymmetric client auth: Authenticating to the Token endpoint")
	refAsymVerify    = SAL("client-confidential-asymmetric.html", "signature-verification", "Asymmetric client auth: Signature Verification")
	refAsymRegister  = SAL("client-confidential-asymmetric.html", "registering-a-client-communicating-public-keys", "Asymmetric client auth: Registering a client")
	refBSIssue       = SAL("backend-services.html", "issue-access-token", "Backend Services: Issue access token")
	refBSEnforce     = SAL("backend-services.html", "enforce-authorization", "Backend Services: Enforce Authorization")
	refBSEvaluate    = SAL("backend-services.html", "evaluate-requested-access", "Backend Services: Evaluate Requested Access")
	refSym           = SAL("client-confidential-symmetric.html", "", "Symmetric client auth")
	refConfCaps      = SAL("conformance.html", "capabilities", "Conformance: Capabilities")
	refPKCE          = SAL("app-launch.html", "considerations-for-pkce-support", "App Launch: Considerations for PKCE Support")
	refCORS          = SAL("app-launch.html", "considerations-for-cross-origin-resource-sharing-cors-support", "App Launch: Considerations for Cross-Origin Resource Sharing (CORS) support")
	refScopes        = SAL("scopes-and-launch-context.html", "scopes-for-requesting-fhir-resources", "Scopes: Scopes for requesting FHIR resources")
	refScopesV1      = SAL("scopes-and-launch-context.html", "scopes-for-requesting-fhir-resources", "Scopes: SMART v1 scopes (compatibility)")
	refRFC6749Scope  = RFC(6749, "3.3")
	refBSRequest     = SAL("backend-services.html", "request-1", "Backend Services: Obtain access token, Request")
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

// App Launch, refresh and OpenID Connect references (launch.go, refresh.go,
// openid.go).
var (
	refALAuthorize   = SAL("app-launch.html", "obtain-authorization-code", "App Launch: Obtain authorization code")
	refALToken       = SAL("app-launch.html", "obtain-access-token", "App Launch: Obtain access token")
	refALRefresh     = SAL("app-launch.html", "refresh-access-token", "App Launch: Refresh access token")
	refALStandalone  = SAL("app-launch.html", "launch-app-standalone-launch", "App Launch: Standalone Launch")
	refALEHR         = SAL("app-launch.html", "launch-app-ehr-launch", "App Launch: EHR Launch")
	refScopesContext = SAL("scopes-and-launch-context.html", "scopes-for-requesting-context-data", "Scopes: Scopes for requesting context data")
	refScopesLaunchC = SAL("scopes-and-launch-context.html", "launch-context-arrives-with-your-access_token", "Scopes: Launch context arrives with your access_token")
	refScopesID      = SAL("scopes-and-launch-context.html", "scopes-for-requesting-identity-data", "Scopes: Scopes for requesting identity data")
	refAsymCode      = SAL("client-confidential-asymmetric.html", "authenticating-to-the-token-endpoint", "Asymmetric client auth: Authenticating to the Token endpoint")
	refRFC6749Code   = RFC(6749, "4.1.2")
	refRFC6749CodeEr = RFC(6749, "4.1.2.1")
	refRFC6749CodeTk = RFC(6749, "4.1.3")
	refRFC6749Redir  = RFC(6749, "3.1.2.4")
	refRFC6749Refr   = RFC(6749, "6")
	refRFC6749Conf   = RFC(6749, "3.2.1")
	refRFC6749Sec    = RFC(6749, "10.5")
	refRFC7636Verify = RFC(7636, "4.6")
	refRFC7636Chall  = RFC(7636, "4.3")
	refRFC9700PKCE   = RFC(9700, "2.1.1")
	refRFC9700Redir  = RFC(9700, "4.1.3")
	refRFC9700Refr   = RFC(9700, "4.14.2")
	refOIDCIDToken   = Ref{Label: "OpenID Connect Core 1.0 §3.1.3.7 ID Token Validation", URL: "https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation"}
	refOIDCNonce     = Ref{Label: "OpenID Connect Core 1.0 §3.1.2.1 Authentication Request (nonce)", URL: "https://openid.net/specs/openid-connect-core-1_0.html#AuthRequest"}
)
