package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
)

// Format is the API Gateway payload format of an event, answered in kind.
type Format string

const (
	// FormatV2 is HTTP API payload 2.0 and Lambda function URLs.
	FormatV2 Format = "2.0"
	// FormatV1 is REST API proxy integration (and HTTP API payload 1.0).
	FormatV1 Format = "1.0"
)

// maxBody is the largest decoded request body accepted.
const maxBody = 4096

// errNotHTTP is returned for invocations that are not API Gateway or function URL requests.
var errNotHTTP = errors.New("unsupported event: expected an API Gateway (HTTP API 2.0 or REST API proxy) or Lambda function URL request")

// event holds the fields of events.APIGatewayV2HTTPRequest and
// events.APIGatewayProxyRequest that the function reads.
type event struct {
	Version           string              `json:"version"`
	HTTPMethod        string              `json:"httpMethod"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
	RequestContext    struct {
		RequestID  string `json:"requestId"`
		DomainName string `json:"domainName"`
		HTTP       struct {
			Method   string `json:"method"`
			SourceIP string `json:"sourceIp"`
		} `json:"http"`
		Identity struct {
			SourceIP string `json:"sourceIp"`
		} `json:"identity"`
		Authorizer struct {
			JWT struct {
				Claims map[string]any `json:"claims"`
			} `json:"jwt"`
		} `json:"authorizer"`
	} `json:"requestContext"`
}

// Shape is the deployment an event comes from, which decides who speaks CORS.
type Shape string

const (
	// ShapeHTTPAPI is an API Gateway HTTP API: its CORS configuration
	// answers preflights and adds the CORS headers, so the function sends none.
	ShapeHTTPAPI Shape = "http-api"
	// ShapeFunctionURL is a Lambda function URL (configured without CORS):
	// the function answers preflights and adds the headers.
	ShapeFunctionURL Shape = "function-url"
	// ShapeREST is an API Gateway REST API proxy integration: the function
	// answers preflights (routed to it) and adds the headers.
	ShapeREST Shape = "rest-api"
)

// speaksCORS reports whether the function itself sends CORS headers.
func (s Shape) speaksCORS() bool { return s != ShapeHTTPAPI }

// request is a decoded HTTP request.
type request struct {
	format    Format
	shape     Shape
	method    string
	origin    string
	hasOrigin bool
	body      string
	base64    bool
	apiReqID  string
	sourceIP  string
	claims    map[string]string // verified JWT claims; nil without an authorizer
}

// decodeEvent reads an invocation payload as an HTTP request.
func decodeEvent(payload []byte) (request, error) {
	var e event
	if err := json.Unmarshal(payload, &e); err != nil {
		return request{}, errNotHTTP
	}
	r := request{body: e.Body, base64: e.IsBase64Encoded, apiReqID: e.RequestContext.RequestID}
	switch {
	case e.RequestContext.HTTP.Method != "":
		r.format, r.method, r.shape = FormatV2, e.RequestContext.HTTP.Method, ShapeHTTPAPI
		r.sourceIP = e.RequestContext.HTTP.SourceIP
		if strings.Contains(e.RequestContext.DomainName, ".lambda-url.") {
			r.shape = ShapeFunctionURL
		}
	case e.HTTPMethod != "":
		r.format, r.method, r.shape = FormatV1, e.HTTPMethod, ShapeREST
		r.sourceIP = e.RequestContext.Identity.SourceIP
	default:
		return request{}, errNotHTTP
	}
	r.method = strings.ToUpper(r.method)
	r.claims = claimStrings(e.RequestContext.Authorizer.JWT.Claims)
	r.origin, r.hasOrigin = originOf(&e)
	return r, nil
}

// originOf returns the Origin header, whatever its case. Several distinct
// values are joined with ", ", which matches no allowed origin.
func originOf(e *event) (string, bool) {
	var values []string
	add := func(v string) {
		for _, seen := range values {
			if seen == v {
				return
			}
		}
		values = append(values, v)
	}
	for k, v := range e.Headers {
		if strings.EqualFold(k, "origin") {
			add(v)
		}
	}
	for k, vs := range e.MultiValueHeaders {
		if strings.EqualFold(k, "origin") {
			for _, v := range vs {
				add(v)
			}
		}
	}
	if len(values) == 0 {
		return "", false
	}
	return strings.Join(values, ", "), true
}

// decodedBody returns the request body, base64-decoded when flagged.
func (r request) decodedBody() ([]byte, *Problem) {
	if !r.base64 {
		if len(r.body) > maxBody {
			return nil, problemTooLarge
		}
		return []byte(r.body), nil
	}
	if base64.StdEncoding.DecodedLen(len(r.body)) > maxBody+2 {
		return nil, problemTooLarge
	}
	b, err := base64.StdEncoding.DecodeString(r.body)
	if err != nil {
		return nil, invalid("the body is marked base64-encoded but is not valid base64")
	}
	if len(b) > maxBody {
		return nil, problemTooLarge
	}
	return b, nil
}

// claimStrings is the claims as API Gateway passes them, strings; any other
// JSON value (from a hand-made event) keeps its JSON text.
func claimStrings(claims map[string]any) map[string]string {
	if claims == nil {
		return nil
	}
	out := make(map[string]string, len(claims))
	for k, v := range claims {
		if s, ok := v.(string); ok {
			out[k] = s
			continue
		}
		b, _ := json.Marshal(v)
		out[k] = string(b)
	}
	return out
}
