// Command straightforward is the token function's job written the usual way,
// the peer make bench compares the function with: the AWS SDK reads the
// secret during init, then lambda.Start; each request decodes the HTTP API
// event with aws-lambda-go's types, posts to Trulience over one keep-alive
// http.Client (its connection opened by the first request) and answers.
// No allowlists and no retries: the least the job needs.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

var (
	apiKey   string
	endpoint = strings.TrimRight(os.Getenv("TRULIENCE_API_URL"), "/") + "/auth/generate-token"
	client   = &http.Client{Timeout: 5 * time.Second}
)

func main() {
	ctx := context.Background()
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	id := os.Getenv("TRULIENCE_SECRET_ID")
	out, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &id})
	if err != nil {
		log.Fatal(err)
	}
	apiKey = strings.TrimSpace(*out.SecretString)
	if strings.HasPrefix(apiKey, "{") {
		var s struct {
			APIKey string `json:"api_key"`
		}
		if err := json.Unmarshal([]byte(apiKey), &s); err != nil {
			log.Fatal("the secret is not JSON with api_key")
		}
		apiKey = s.APIKey
	}
	lambda.Start(handle)
}

func handle(ctx context.Context, e events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	var in struct {
		AvatarID string `json:"avatar_id"`
	}
	if err := json.Unmarshal([]byte(e.Body), &in); err != nil || in.AvatarID == "" {
		return answer(http.StatusBadRequest, map[string]any{"error": map[string]string{"code": "invalid_request"}})
	}
	body, _ := json.Marshal(map[string]string{"avatar_id": in.AvatarID})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Api-Key", apiKey)
	if o := e.Headers["origin"]; o != "" {
		req.Header.Set("Origin", o)
	}
	resp, err := client.Do(req)
	if err != nil {
		return answer(http.StatusBadGateway, map[string]any{"error": map[string]string{"code": "upstream_unavailable"}})
	}
	defer resp.Body.Close()
	var t struct {
		JWT       string `json:"jwt"`
		ExpiresIn int    `json:"expires_in"`
		AvatarID  string `json:"avatar_id"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&t) != nil {
		return answer(http.StatusBadGateway, map[string]any{"error": map[string]string{"code": "upstream_error"}})
	}
	return answer(http.StatusOK, map[string]any{"token": t.JWT, "expires_in": t.ExpiresIn, "avatar_id": t.AvatarID})
}

func answer(status int, v any) (events.APIGatewayV2HTTPResponse, error) {
	b, err := json.Marshal(v)
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(b),
	}, err
}
