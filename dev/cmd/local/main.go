// Command local runs the token endpoint on this machine (`make local`): the
// function's bootstrap under the Lambda Runtime Interface Emulator, a local
// Secrets Manager (moto_server) seeded with a demo
// key, a Trulience stand-in accepting it, an API Gateway front door and a
// static server for site/. Ctrl-C stops everything.
//
// With -real (or LOCAL_REAL=1) there are no stand-ins: the function reads
// your TRULIENCE_SECRET_ID with your AWS credentials and calls
// TRULIENCE_API_URL (default https://trulience.com).
//
// With -jwt the API requires a bearer JWT, as a deployment with JwtIssuer
// and JwtAudience does: the banner prints a sample token and the issuer
// and audience it is for (-avatar-claim NAME sets AVATAR_CLAIM too).
//
// With -sessions the session ledger runs too: the webhook function under a
// second RIE behind POST /webhook, its table and secret in moto, and the
// Trulience stand-in's avatar page reporting sessions to it; the caps
// (-max-live-sessions, -daily-session-minutes) show in the example site.
//
// With -invoke FILE it sends one event (events/*.json) to the function,
// prints the answer and exits (`make invoke` without the SAM CLI).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"

	"github.com/trulience-token/trulience-token/dev/devstack"
	"github.com/trulience-token/trulience-token/dev/rie"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "local:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", devstack.DefaultFrontDoorAddr, "front door (API) listen address")
	siteAddr := fs.String("site-addr", devstack.DefaultSiteAddr, "static site listen address")
	siteDir := fs.String("site", "", "directory served as the site (default: site/ in the module)")
	origins := fs.String("origins", "", "comma-separated ALLOWED_ORIGINS (default: the site's http://127.0.0.1:<port> and http://localhost:<port>)")
	avatars := fs.String("avatars", devstack.DemoAvatarID, "comma-separated ALLOWED_AVATAR_IDS (first = default)")
	logLevel := fs.String("log-level", "info", "the function's LOG_LEVEL (debug, info, warn, error)")
	verbose := fs.Bool("verbose", false, "also print the RIE's own lines (START/END/REPORT)")
	real := fs.Bool("real", os.Getenv("LOCAL_REAL") == "1", "use your real secret (TRULIENCE_SECRET_ID), AWS credentials and Trulience API instead of stand-ins (also LOCAL_REAL=1)")
	invoke := fs.String("invoke", "", "send this event file to the function, print the answer and exit")
	showJWT := fs.Bool("show-jwt", false, "with -invoke, print minted JWTs in full (they are shortened by default)")
	jwt := fs.Bool("jwt", false, "signed-in mode: the API requires a bearer JWT (a sample one is printed), as with the template's JwtIssuer and JwtAudience")
	avatarClaim := fs.String("avatar-claim", "", "with -jwt, the function's AVATAR_CLAIM (the sample token lists every allowed avatar in it)")
	clientLimit := fs.String("client-limit", "", "CLIENT_TOKEN_LIMIT, tokens per visitor per window such as 5/10m (counted in moto's DynamoDB)")
	dailyLimit := fs.String("daily-limit", "", "DAILY_TOKEN_LIMIT, tokens per UTC day for the endpoint (counted in moto's DynamoDB)")
	limitsFailMode := fs.String("limits-fail-mode", "open", "LIMITS_FAIL_MODE when the limits table cannot be reached: open or closed")
	var sf sessionFlags
	fs.BoolVar(&sf.on, "sessions", false, "the session ledger: the webhook function, fed by the Trulience stand-in's avatar page, and the caps below")
	fs.StringVar(&sf.maxLive, "max-live-sessions", "", "MAX_LIVE_SESSIONS: refuse tokens (429 sessions_full) while this many sessions are live (implies -sessions)")
	fs.StringVar(&sf.dailyMinutes, "daily-session-minutes", "", "DAILY_SESSION_MINUTES: refuse tokens (429 session_budget_spent) once today's session minutes reach this (implies -sessions)")
	fs.DurationVar(&sf.maxDuration, "max-session-duration", 0, "the stand-in avatar's session limit, sent as max_session_duration; sessions end when it is up (implies -sessions)")
	fs.StringVar(&sf.faults, "webhook-faults", "", "the stand-in's webhook deliveries: duplicate, reorder, late=DURATION, drop=connect|disconnect|all, comma-separated (implies -sessions)")
	botCheck := fs.String("bot-check", "off", "Turnstile bot check: off, monitor or enforce (a siteverify stand-in with Cloudflare's test keys; the site shows the widget)")
	if err := fs.Parse(args); err != nil {
		return err
	}

	opts := devstack.Options{
		FrontDoorAddr:  *addr,
		SiteAddr:       *siteAddr,
		SiteDir:        *siteDir,
		AllowedOrigins: split(*origins),
		AvatarIDs:      split(*avatars),
		Env:            map[string]string{"LOG_LEVEL": *logLevel},
		Log:            stderr,
		Verbose:        *verbose,
		Real:           *real,
		BotCheck:       *botCheck,
	}
	if len(opts.AllowedOrigins) == 0 {
		opts.AllowedOrigins = defaultOrigins(*siteAddr)
	}
	if err := signedInOptions(&opts, *jwt, *avatarClaim); err != nil {
		return err
	}
	if *clientLimit != "" || *dailyLimit != "" {
		opts.Limits = &devstack.Limits{Client: *clientLimit, Daily: *dailyLimit}
	}
	if err := sessionOptions(&opts, sf); err != nil {
		return err
	}
	if opts.Limits != nil || opts.Sessions != nil {
		opts.Env["LIMITS_FAIL_MODE"] = *limitsFailMode
	}
	if *invoke != "" {
		return invokeOnce(opts, *invoke, *showJWT, stdout)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintln(stderr, "local: building the function and starting the stack…")
	s, err := devstack.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := banner(stdout, s, opts, *real, *avatarClaim); err != nil {
		return err
	}
	<-ctx.Done()
	fmt.Fprintln(stderr, "local: stopping…")
	return nil
}

// invokeOnce runs one event through the function, without ports to hold.
func invokeOnce(opts devstack.Options, file string, showJWT bool, stdout io.Writer) error {
	event, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	opts.FrontDoorAddr, opts.SiteAddr = "", ""
	ctx := context.Background()
	s, err := devstack.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer s.Close()
	out, err := s.Function.Invoke(ctx, event)
	var fe *rie.FunctionError
	if err != nil && !errors.As(err, &fe) {
		return err
	}
	var pretty any
	if json.Unmarshal(out, &pretty) == nil {
		out, _ = json.MarshalIndent(pretty, "", "  ")
	}
	if !showJWT {
		out = jwtPattern.ReplaceAllFunc(out, redact)
	}
	fmt.Fprintln(stdout, string(out))
	if fe != nil {
		return fmt.Errorf("invocation error (%s)", fe.Type)
	}
	return nil
}

// jwtPattern matches a JWT (even inside an escaped JSON string).
var jwtPattern = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+`)

// redact keeps a JWT's first 10 and last 6 characters, enough to tell tokens
// apart without printing one that works.
func redact(jwt []byte) []byte {
	return []byte(string(jwt[:10]) + "…" + string(jwt[len(jwt)-6:]) + " (shortened; -show-jwt prints it)")
}

func banner(w io.Writer, s *devstack.Stack, opts devstack.Options, real bool, avatarClaim string) error {
	mode := fmt.Sprintf("REAL mode: your secret %q in AWS, the real Trulience API", s.SecretID)
	if !real {
		mode = fmt.Sprintf("Secrets Manager: moto (secret %q), Trulience: stand-in at %s", s.SecretID, s.StandIn.URL)
	}
	origin := s.AllowedOrigins[0]
	signedIn, authz, err := signedInBanner(s, avatarClaim)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, `
Token endpoint running on loopback (%s)
  API:      %s   (POST, API Gateway HTTP API 2.0 -> function under the Lambda RIE)
  Site:     %s
  Origins:  %s
  Avatars:  %s
%s
Try:
  curl -s -X POST %s -H 'Origin: %s'%s -d '%s'

Ctrl-C stops everything.

`, mode, s.TokenURL, siteLine(s), strings.Join(s.AllowedOrigins, ", "), strings.Join(s.AvatarIDs, ", "),
		signedIn+botCheckLines(s)+sessionLines(s, opts.Sessions), s.TokenURL, origin, authz, tryBody(s))
	return nil
}

func defaultOrigins(siteAddr string) []string {
	host, port, err := net.SplitHostPort(siteAddr)
	if err != nil || port == "0" {
		return nil
	}
	if host == "" || host == "0.0.0.0" {
		host = "127.0.0.1"
	}
	return []string{"http://" + net.JoinHostPort(host, port), "http://localhost:" + port}
}

func split(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
