package devstack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/trulience-token/trulience-token/dev/frontdoor"
	"github.com/trulience-token/trulience-token/dev/moto"
	"github.com/trulience-token/trulience-token/dev/rie"
	"github.com/trulience-token/trulience-token/dev/standin/trulience"
	"github.com/trulience-token/trulience-token/dev/standin/turnstile"
)

// Defaults of `make local`.
const (
	DefaultFrontDoorAddr = "127.0.0.1:3000"
	DefaultSiteAddr      = "127.0.0.1:8000"
	// DemoAvatarID is the avatar the example site asks for.
	DemoAvatarID = "4386676996480451678"
	// SecretID is the name of the secret seeded in the local Secrets Manager.
	SecretID = "trulience-token-api-key"
	// Route is the API's one route, as in template.yaml.
	Route = "POST /token"
)

// Options configure a local stack. The zero value runs everything on free
// loopback ports with the demo avatar and the site's own origin allowed.
type Options struct {
	// FrontDoorAddr and SiteAddr are listen addresses; empty picks free
	// loopback ports.
	FrontDoorAddr, SiteAddr string
	// SiteDir is served by the site server; empty means <module>/site.
	SiteDir string
	// AllowedOrigins go into ALLOWED_ORIGINS; empty means the site's URL and
	// its http://localhost:<port> twin.
	AllowedOrigins []string
	// AvatarIDs go into ALLOWED_AVATAR_IDS; empty means DemoAvatarID.
	AvatarIDs []string
	// Env adds to (or overrides) the function's environment, e.g. LOG_LEVEL
	// or SECRET_TTL; an empty value removes a variable.
	Env map[string]string
	// Timeout is the function timeout; 0 means 10s.
	Timeout time.Duration
	// Log gets the front door's and the site's request lines and everything
	// the function prints; nil discards.
	Log io.Writer
	// Verbose also passes on the RIE's own lines (START/END/REPORT, rapid).
	Verbose bool
	// Bootstrap is a prebuilt function; empty builds ./functions/token.
	Bootstrap string
	// Moto is a running moto_server to share (a test package starts one
	// for all its stacks); nil starts one that the stack owns.
	Moto *moto.Moto
	// SecretID names the secret; empty means SecretID. Stacks sharing a
	// moto_server need their own.
	SecretID string
	// APIKey is the key the Trulience stand-in accepts; empty makes a
	// random demo key.
	APIKey string
	// SecretValue is the secret's value; empty means {"api_key": APIKey}.
	SecretValue string
	// TrulienceVia, when set, is given the stand-in's URL and returns the
	// URL the function calls instead (a relay that injects network faults).
	TrulienceVia func(standInURL string) (string, error)
	// Prepare, when set, runs once the peers are up and before the
	// function starts (to inject a fault its init meets, say).
	Prepare func(*Stack) error
	// SignedIn turns on signed-in mode: the front door's route has a JWT
	// authorizer (Stack.JWT, issuer JWTIssuer, audience JWTAudience), as
	// template.yaml's with JwtIssuer and JwtAudience, and CORS allows the
	// authorization header. Stack.BearerToken mints tokens it accepts.
	SignedIn bool
	// Limits, when set, turn the token limits on, counted in moto's
	// DynamoDB (not in Real mode).
	Limits *Limits
	// BotCheck is BOT_CHECK: "monitor" or "enforce" starts the siteverify
	// stand-in (Stack.Turnstile), stores TurnstileSecret in the secret and
	// aims the function at the stand-in; empty or "off" leaves the check off.
	BotCheck string
	// Sessions, when set, runs the session ledger: the webhook function,
	// its table and secret in moto, and the stand-in's webhook (not in
	// Real mode).
	Sessions *Sessions
	// TurnstileSecret is the Turnstile secret key stored in the secret;
	// empty means Cloudflare's always-passing test secret key (and
	// TURNSTILE_HOSTNAMES=example.com, the hostname its answers name).
	TurnstileSecret string
	// Real uses no stand-ins: the caller's TRULIENCE_SECRET_ID,
	// TRULIENCE_API_URL and AWS credentials/profile/region from the
	// environment reach the function, and it calls AWS and Trulience.
	Real bool
}

// Stack is a running local stack.
type Stack struct {
	// FrontDoorURL is the API's base URL (http://127.0.0.1:3000); TokenURL
	// is its token route.
	FrontDoorURL, TokenURL string
	// SiteURL is the static site's URL (http://127.0.0.1:8000).
	SiteURL string
	// AllowedOrigins and AvatarIDs are what the function was given.
	AllowedOrigins, AvatarIDs []string
	// Moto is the AWS emulator; SecretsManager is the proxy in front of it
	// that the function calls (counting calls, injecting faults). Both nil
	// in Real mode.
	Moto           *moto.Moto
	SecretsManager *AWSProxy
	// DynamoDB is the proxy in front of moto's DynamoDB that the function
	// counts tokens and reads the session ledger through, and LimitsTable
	// the limits' table; nil unless Options.Limits or Options.Sessions is
	// set, "" unless Options.Limits is.
	DynamoDB    *AWSProxy
	LimitsTable string
	// Webhook is the webhook function under its own RIE, WebhookURL its
	// route on the front door, WebhookDynamoDB its proxy to moto,
	// SessionsTable the ledger, and WebhookSecretID, WebhookHeader and
	// WebhookSecret the secret the stand-in sends in that header; all
	// empty unless Options.Sessions is set.
	Webhook                                       *rie.Emulator
	WebhookURL                                    string
	WebhookDynamoDB                               *AWSProxy
	SessionsTable                                 string
	WebhookSecretID, WebhookHeader, WebhookSecret string
	// SecretID names the secret holding the key.
	SecretID string
	// APIKey is the demo key seeded in the secret and accepted by the
	// stand-in (tests only; never logged); empty in Real mode.
	APIKey string
	// StandIn is the Trulience stand-in the function calls; nil in Real mode.
	StandIn *trulience.Server
	// Function is the function under the RIE (its logs, reports, Invoke).
	Function *rie.Emulator
	// JWT is the front door's JWT authorizer; nil unless Options.SignedIn.
	JWT *frontdoor.JWTAuth
	// BotCheck is the function's BOT_CHECK ("" when off); Turnstile is the
	// siteverify stand-in and TurnstileSecret the secret key stored in the
	// secret (nil and "" without the bot check, or in Real mode).
	BotCheck        string
	Turnstile       *turnstile.Server
	TurnstileSecret string

	closers    []func()
	webhookEnv map[string]string
}

// Start builds and starts everything; on error nothing is left running.
func Start(ctx context.Context, opts Options) (_ *Stack, err error) {
	s := &Stack{}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	log := slog.New(slog.NewTextHandler(orDiscard(opts.Log), nil))

	// Listen first: a busy port is the likeliest failure, and the
	// default origins depend on the site's port.
	feLn, err := listen(opts.FrontDoorAddr, "front door")
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, func() { feLn.Close() })
	siteLn, err := listen(opts.SiteAddr, "site")
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, func() { siteLn.Close() })
	s.FrontDoorURL = "http://" + feLn.Addr().String()
	s.TokenURL = s.FrontDoorURL + "/token"
	s.SiteURL = "http://" + siteLn.Addr().String()
	s.AllowedOrigins = opts.AllowedOrigins
	if len(s.AllowedOrigins) == 0 {
		_, port, _ := net.SplitHostPort(siteLn.Addr().String())
		s.AllowedOrigins = []string{s.SiteURL, "http://localhost:" + port}
	}
	s.AvatarIDs = opts.AvatarIDs
	if len(s.AvatarIDs) == 0 {
		s.AvatarIDs = []string{DemoAvatarID}
	}

	// Build while the stand-ins start (the channels are buffered: an early
	// return leaves the builds to finish on their own).
	if err := checkSessions(opts); err != nil {
		return nil, err
	}
	hookBuild := buildWebhook(ctx, opts)
	build := make(chan built, 1)
	if opts.Bootstrap != "" {
		build <- built{opts.Bootstrap, nil}
	} else {
		go func() {
			p, err := rie.BuildCached(ctx, rie.FunctionPackage)
			build <- built{p, err}
		}()
	}

	env := map[string]string{
		"ALLOWED_AVATAR_IDS": strings.Join(s.AvatarIDs, ","),
		"ALLOWED_ORIGINS":    strings.Join(s.AllowedOrigins, ","),
	}
	if opts.Real && opts.Limits != nil {
		return nil, errors.New("devstack: the limits count in moto's DynamoDB, which real mode does not start")
	}
	if err := s.startTurnstile(opts, env); err != nil {
		return nil, err
	}
	if opts.Real {
		if err := s.real(env); err != nil {
			return nil, err
		}
	} else if err := s.standIns(ctx, opts, env); err != nil {
		return nil, err
	}
	maps.Copy(env, opts.Env)
	if err := s.startJWT(opts); err != nil {
		return nil, err
	}
	if opts.Prepare != nil {
		if err := opts.Prepare(s); err != nil {
			return nil, err
		}
	}
	b := <-build
	if b.err != nil {
		return nil, b.err
	}
	bootstrap := b.path

	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	var fnLog io.Writer = &functionLog{w: orDiscard(opts.Log), verbose: opts.Verbose}
	s.Function, err = rie.Start(ctx, rie.Options{Bootstrap: bootstrap, Env: env, Timeout: timeout, Stdout: fnLog})
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, s.Function.Close)
	hb := <-hookBuild
	if hb.err != nil {
		return nil, hb.err
	}
	if err := s.startWebhook(ctx, hb.path, s.webhookEnv, timeout, opts); err != nil {
		return nil, err
	}

	fd := &http.Server{Handler: s.api(log.With("server", "frontdoor")), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = fd.Serve(feLn) }()
	s.closers = append(s.closers, func() { _ = fd.Close() })

	siteDir := opts.SiteDir
	if siteDir == "" {
		root, err := rie.RepoRoot(ctx)
		if err != nil {
			return nil, err
		}
		siteDir = filepath.Join(root, "site")
	}
	site := &http.Server{Handler: withLocalTurnstile(siteHandler(siteDir, s.PageParams, log.With("server", "site"))), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = site.Serve(siteLn) }()
	s.closers = append(s.closers, func() { _ = site.Close() })
	return s, nil
}

// standIns starts the stand-in and a seeded Secrets Manager and aims the
// function at them.
func (s *Stack) standIns(ctx context.Context, opts Options, env map[string]string) error {
	s.APIKey = opts.APIKey
	if s.APIKey == "" {
		s.APIKey = "tru_live_demo_" + randHex(12)
	}
	s.SecretID = opts.SecretID
	if s.SecretID == "" {
		s.SecretID = SecretID
	}
	var err error
	if s.StandIn, err = trulience.Start("", map[string]trulience.Key{s.APIKey: {}}); err != nil {
		return err
	}
	s.closers = append(s.closers, s.StandIn.Close)
	apiURL := s.StandIn.URL
	if opts.TrulienceVia != nil {
		if apiURL, err = opts.TrulienceVia(apiURL); err != nil {
			return err
		}
	}

	s.Moto = opts.Moto
	if s.Moto == nil {
		if s.Moto, err = moto.StartMoto(ctx); err != nil {
			return err
		}
		s.closers = append(s.closers, s.Moto.Close)
	}
	value := opts.SecretValue
	if value == "" {
		b, _ := json.Marshal(s.secretFields(s.APIKey))
		value = string(b)
	}
	if err := s.PutSecret(ctx, value); err != nil {
		return err
	}
	if s.SecretsManager, err = StartAWSProxy(s.Moto.URL); err != nil {
		return err
	}
	s.closers = append(s.closers, s.SecretsManager.Close)

	env["TRULIENCE_SECRET_ID"] = s.SecretID
	env["TRULIENCE_API_URL"] = apiURL
	env["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = s.SecretsManager.URL
	if opts.Limits != nil {
		if err := s.startLimits(ctx, opts.Limits, env); err != nil {
			return err
		}
	}
	if opts.Sessions != nil {
		if s.webhookEnv, err = s.startSessions(ctx, opts.Sessions, env); err != nil {
			return err
		}
	}
	return nil
}

// api is the front door: the token route, and with the session ledger the
// webhook's route to the webhook function, without CORS and never behind
// the JWT authorizer (Trulience's servers call it, with neither).
func (s *Stack) api(log *slog.Logger) http.Handler {
	token := &frontdoor.Handler{Function: s.Function, Routes: []string{Route}, CORS: s.cors(), JWT: s.JWT, Log: log}
	if s.Webhook == nil {
		return token
	}
	_, path, _ := strings.Cut(WebhookRoute, " ")
	hook := &frontdoor.Handler{Function: s.Webhook, Routes: []string{WebhookRoute}, Log: log}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == path {
			hook.ServeHTTP(w, r)
			return
		}
		token.ServeHTTP(w, r)
	})
}

// real passes the caller's configuration and AWS credentials through.
func (s *Stack) real(env map[string]string) error {
	s.SecretID = os.Getenv("TRULIENCE_SECRET_ID")
	if s.SecretID == "" {
		return errors.New("devstack: real mode needs TRULIENCE_SECRET_ID (name or ARN of your secret) in the environment")
	}
	env["TRULIENCE_SECRET_ID"] = s.SecretID
	// Drop the RIE's dummy credentials and /dev/null config files, then
	// pass on whatever the caller's SDK would use.
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EC2_METADATA_DISABLED"} {
		env[k] = ""
	}
	for _, k := range []string{"TRULIENCE_API_URL", "HOME", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE",
		"AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env[k] = v
		}
	}
	return nil
}

// PutAPIKey stores key as the secret's new value ({"api_key":key}), as
// scripts/put-api-key.sh does in AWS (a rotation).
func (s *Stack) PutAPIKey(ctx context.Context, key string) error {
	value, _ := json.Marshal(s.secretFields(key))
	return s.PutSecret(ctx, string(value))
}

// secretFields is the secret's JSON: the key, and the Turnstile secret key
// when the bot check is on.
func (s *Stack) secretFields(key string) map[string]string {
	m := map[string]string{"api_key": key}
	if s.TurnstileSecret != "" {
		m["turnstile_secret"] = s.TurnstileSecret
	}
	return m
}

// PutSecret stores value as the secret's new value in moto.
func (s *Stack) PutSecret(ctx context.Context, value string) error {
	if s.Moto == nil {
		return errors.New("devstack: no local Secrets Manager in real mode")
	}
	_, err := moto.PutSecret(ctx, s.Moto.URL, s.SecretID, value)
	return err
}

// SecretsCalls is how many calls of operation (e.g. "GetSecretValue") the
// function made to the local Secrets Manager.
func (s *Stack) SecretsCalls(operation string) int {
	if s.SecretsManager == nil {
		return 0
	}
	return s.SecretsManager.Calls(operation)
}

// Close stops everything, last started first.
func (s *Stack) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

func listen(addr, what string) (net.Listener, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("devstack: %s: %w (is another `make local` running? choose other ports with the flags)", what, err)
	}
	return ln, nil
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
