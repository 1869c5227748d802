// Package devstack starts the whole token endpoint on loopback: the
// function's bootstrap under the Lambda RIE, moto as Secrets Manager (behind
// an AWSProxy that counts calls and injects faults) seeded with a demo key,
// the Trulience stand-in accepting that key, the API Gateway front door
// (POST /token, with the template's CORS) and a static server for site/.
// `make local`, `make invoke`, the end-to-end, hardening and script tests
// all start the stack through it.
//
//	s, err := devstack.Start(ctx, devstack.Options{})
//	if err != nil { … }
//	defer s.Close()
//	// POST s.TokenURL with Origin: s.SiteURL; s.StandIn.Minted()…
//
// Empty addresses pick free loopback ports, so tests never collide; `make
// local` asks for DefaultFrontDoorAddr and DefaultSiteAddr. Tests use
// ForTest, which skips (or fails, with REQUIRE_INTEGRATION=1) when a tool
// is missing and shares one moto_server through Options.Moto.
package devstack
