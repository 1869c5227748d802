package localsm

import (
	"context"
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// TestSDK drives each peer with the real AWS SDK v2 client, so the local
// server is held to what moto (and AWS) answer.
func TestSDK(t *testing.T) {
	ctx := context.Background()
	s, err := Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	endpoints := map[string]string{"localsm": s.URL}
	if m, err := StartMoto(ctx); err == nil {
		t.Cleanup(m.Close)
		endpoints["moto"] = m.URL
	} else if !errors.Is(err, ErrNoMoto) || requireIntegration() {
		t.Fatal(err)
	} else {
		t.Log("moto_server not on PATH: checking the local server only")
	}
	for name, endpoint := range endpoints {
		t.Run(name, func(t *testing.T) {
			c := Client(endpoint)
			v1, err := PutSecret(ctx, endpoint, "app/key", "tru_live_one")
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("app/key")})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(got.SecretString) != "tru_live_one" || aws.ToString(got.VersionId) != v1 || aws.ToString(got.Name) != "app/key" {
				t.Errorf("got %+v", got)
			}
			if !strings.HasPrefix(aws.ToString(got.ARN), "arn:aws:secretsmanager:us-east-1:") || len(got.VersionStages) != 1 || got.VersionStages[0] != "AWSCURRENT" {
				t.Errorf("ARN %q stages %v", aws.ToString(got.ARN), got.VersionStages)
			}
			byARN, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: got.ARN})
			if err != nil || aws.ToString(byARN.SecretString) != "tru_live_one" {
				t.Errorf("by ARN: %v %v", byARN, err)
			}

			v2, err := PutSecret(ctx, endpoint, "app/key", `{"api_key":"tru_live_two"}`)
			if err != nil {
				t.Fatal(err)
			}
			got, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("app/key")})
			if err != nil || aws.ToString(got.SecretString) != `{"api_key":"tru_live_two"}` || v2 == v1 || aws.ToString(got.VersionId) != v2 {
				t.Errorf("after put: %+v %v", got, err)
			}

			_, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("missing")})
			var nf *types.ResourceNotFoundException
			if !errors.As(err, &nf) || nf.ErrorMessage() != "Secrets Manager can't find the specified secret." {
				t.Errorf("missing secret: %v", err)
			}
			_, err = c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("app/key"), SecretString: aws.String("x")})
			var exists *types.ResourceExistsException
			if !errors.As(err, &exists) {
				t.Errorf("duplicate create: %v", err)
			}
		})
	}
}

func TestServerRefusesUnsigned(t *testing.T) {
	s := New()
	tests := []struct {
		name, target, auth, want string
	}{
		{"unsigned", "secretsmanager.GetSecretValue", "", "MissingAuthenticationTokenException"},
		{"unknown op", "secretsmanager.DeleteSecret", "AWS4-HMAC-SHA256 Credential=x", "UnknownOperationException"},
		{"other service", "kms.Decrypt", "AWS4-HMAC-SHA256 Credential=x", "UnknownOperationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", strings.NewReader(`{}`))
			r.Header.Set("X-Amz-Target", tt.target)
			r.Header.Set("Content-Type", "application/x-amz-json-1.1")
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			w := httptest.NewRecorder()
			s.ServeHTTP(w, r)
			if w.Code != 400 || !strings.Contains(w.Body.String(), `"__type":"`+tt.want+`"`) {
				t.Errorf("got %d %s", w.Code, w.Body)
			}
		})
	}
}

func TestCounter(t *testing.T) {
	ctx := context.Background()
	s := New()
	backend := httptest.NewServer(s)
	t.Cleanup(backend.Close)
	u, _ := url.Parse(backend.URL)
	c := NewCounter(u)
	front := httptest.NewServer(c)
	t.Cleanup(front.Close)
	if _, err := PutSecret(ctx, front.URL, "k", "tru_live_x"); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := Client(front.URL).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("k")}); err != nil {
			t.Fatal(err)
		}
	}
	if c.Calls("GetSecretValue") != 3 || s.Calls("GetSecretValue") != 3 || c.Calls("CreateSecret") != 1 {
		t.Errorf("counter %v, server %d", c.calls, s.Calls("GetSecretValue"))
	}
	if cred := s.LastCredential(); !strings.HasPrefix(cred, "testing/") || !strings.HasSuffix(cred, "/us-east-1/secretsmanager/aws4_request") {
		t.Errorf("LastCredential %q", cred)
	}
}
