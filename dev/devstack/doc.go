// Package localstack starts the whole token endpoint on loopback for `make
// local` and end-to-end tests: the function's bootstrap under the Lambda
// RIE, a Secrets Manager (moto_server when on PATH, else the in-process
// localsm) seeded with a demo key, the Trulience stand-in accepting that key,
// the API Gateway front door (POST /token) and a static server for site/.
//
//	stack, err := localstack.Start(ctx, localstack.Options{})
//	if err != nil { … }
//	defer stack.Close()
//	// POST stack.TokenURL with Origin: stack.SiteURL; stack.StandIn.Minted()…
//
// Empty addresses pick free loopback ports, so tests never collide; `make
// local` asks for DefaultFrontDoorAddr and DefaultSiteAddr.
package devstack
