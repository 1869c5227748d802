package devstack

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/trulience-token/trulience-token/dev/moto"
	"github.com/trulience-token/trulience-token/dev/proc"
	"github.com/trulience-token/trulience-token/dev/standin/trulience"
)

func TestStack(t *testing.T) {
	for _, sm := range []string{"own moto", "shared moto"} {
		t.Run(sm, func(t *testing.T) {
			var logs proc.Buffer
			opts := Options{Log: &logs, Env: map[string]string{"LOG_LEVEL": "debug"}}
			if sm == "shared moto" {
				opts.Moto = moto.ForTest(t)
				opts.SecretID = "stack-test/" + randHex(4)
			}
			s, err := Start(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(s.Close)

			req, _ := http.NewRequest("POST", s.TokenURL, strings.NewReader(`{}`))
			req.Header.Set("Origin", s.SiteURL)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var out struct {
				JWT      string `json:"jwt"`
				AvatarID string `json:"avatar_id"`
			}
			if err := json.Unmarshal(body, &out); err != nil || resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			if !s.StandIn.WasMinted(out.JWT) || out.AvatarID != DemoAvatarID {
				t.Errorf("answer %s not minted by the stand-in", body)
			}
			if resp.Header.Get("Access-Control-Allow-Origin") != s.SiteURL {
				t.Errorf("ACAO %q", resp.Header.Get("Access-Control-Allow-Origin"))
			}
			if s.SecretsCalls("GetSecretValue") < 1 {
				t.Error("the function never read the secret")
			}

			resp, err = http.Get(s.SiteURL + "/")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("site: %d", resp.StatusCode)
			}
			s.Close()
			all := logs.String()
			for _, secret := range []string{s.APIKey, out.JWT} {
				if strings.Contains(all, secret) {
					t.Errorf("a secret reached the logs:\n%s", all)
				}
			}
			for _, want := range []string{"server=frontdoor", "path=/token", "status=200", "server=site", "function: "} {
				if !strings.Contains(all, want) {
					t.Errorf("logs lack %q:\n%s", want, all)
				}
			}
		})
	}
}

func TestBusyPort(t *testing.T) {
	s, err := Start(context.Background(), Options{Moto: moto.ForTest(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	_, err = Start(context.Background(), Options{FrontDoorAddr: strings.TrimPrefix(s.FrontDoorURL, "http://")})
	if err == nil || !strings.Contains(err.Error(), "front door") {
		t.Errorf("second stack on the same port: %v", err)
	}
}

// TestReal runs Real mode with the caller's environment aimed at local peers:
// the function must get the caller's secret ID, credentials, API URL and
// Secrets Manager endpoint, and no stand-in is started.
func TestReal(t *testing.T) {
	ctx := context.Background()
	m := moto.ForTest(t)
	sm, err := StartAWSProxy(m.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sm.Close)
	trulience, err := trulience.Start("", map[string]trulience.Key{"tru_live_real_mode_key": {}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(trulience.Close)
	name, value := "my/real/secret", "tru_live_real_mode_key"
	if _, err := moto.ClientIn(m.URL, "eu-west-1").CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: &name, SecretString: &value}); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"TRULIENCE_SECRET_ID":              "my/real/secret",
		"TRULIENCE_API_URL":                trulience.URL,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": sm.URL,
		"AWS_ACCESS_KEY_ID":                "AKIACALLERSOWN00000",
		"AWS_SECRET_ACCESS_KEY":            "callers-own-secret",
		"AWS_REGION":                       "eu-west-1",
	} {
		t.Setenv(k, v)
	}
	s, err := Start(ctx, Options{Real: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if s.StandIn != nil || s.Moto != nil || s.APIKey != "" {
		t.Errorf("real mode started stand-ins: %+v", s)
	}
	req, _ := http.NewRequest("POST", s.TokenURL, strings.NewReader(`{}`))
	req.Header.Set("Origin", s.SiteURL)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(trulience.Minted()) != 1 {
		t.Fatalf("%d %s\n%s", resp.StatusCode, body, s.Function.Logs())
	}
	if n := sm.Calls("GetSecretValue"); n != 1 {
		t.Errorf("GetSecretValue calls %d", n)
	}
	if cred := sm.LastCredential(); !strings.HasPrefix(cred, "AKIACALLERSOWN00000/") || !strings.Contains(cred, "/eu-west-1/secretsmanager/") {
		t.Errorf("the function signed with %q, not the caller's credentials and region", cred)
	}

	t.Setenv("TRULIENCE_SECRET_ID", "")
	if _, err := Start(ctx, Options{Real: true}); err == nil || !strings.Contains(err.Error(), "TRULIENCE_SECRET_ID") {
		t.Errorf("real mode without a secret ID: %v", err)
	}
}
