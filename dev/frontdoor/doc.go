// Package frontdoor is a local stand-in for API Gateway (HTTP API, payload
// format 2.0) in front of a Lambda function, as `sam local start-api` is: it
// turns each HTTP request into the event API Gateway would send, invokes the
// function (through the RIE) and writes the function's answer back.
//
// With Handler.JWT set it also plays the route's JWT authorizer
// (signed-in mode): see JWTAuth.
//
// It logs one line per request (method, path, status, latency, request ID),
// never headers or bodies, so no key or token reaches its log.
package frontdoor
