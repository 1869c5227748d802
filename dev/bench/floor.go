package bench

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// EmulationFloor is the cold path of a client that does nothing but the
// job's unavoidable network work, run in this process on network n: a new
// TLS connection to the Trulience stand-in, then one token request. Against
// the physical limit it shows what the proxies, the TLS handshake's CPU and
// this machine add by themselves; the rest of an implementation's cold path
// is its own. The median of runs.
func EmulationFloor(ctx context.Context, p *Peers, n Network, runs int) (time.Duration, error) {
	c, err := newBareClient(p, n)
	if err != nil {
		return 0, err
	}
	var ds []time.Duration
	for range runs {
		tr := c.transport()
		start := time.Now()
		err := c.request(ctx, tr)
		d := time.Since(start)
		tr.CloseIdleConnections()
		if err != nil {
			return 0, err
		}
		ds = append(ds, d)
	}
	return Median(ds), nil
}

// EmulationWarm is the warm counterpart of EmulationFloor: the times of n
// token requests from the bench process on one kept-alive TLS connection
// (opened first, not counted), each after a siteverify call on another when
// the bot check is on. Against the warm floor (Latency.GuardedWarmLimit) it
// shows what the proxies and the stand-ins add to a warm request by
// themselves. DynamoDB is left out: its calls run beside Turnstile's and
// end sooner.
func EmulationWarm(ctx context.Context, p *Peers, n Network, count int) ([]time.Duration, error) {
	c, err := newBareClient(p, n)
	if err != nil {
		return nil, err
	}
	tr, verifyTr := c.transport(), c.transport()
	defer tr.CloseIdleConnections()
	defer verifyTr.CloseIdleConnections()
	var ds []time.Duration
	for i := range count + 1 {
		start := time.Now()
		if p.Guards.BotCheck != "" {
			if err := c.siteverify(ctx, verifyTr, n); err != nil {
				return nil, err
			}
		}
		if err := c.request(ctx, tr); err != nil {
			return nil, err
		}
		if i > 0 {
			ds = append(ds, time.Since(start))
		}
	}
	return ds, nil
}

// bareClient sends token requests to the Trulience stand-in on network n
// from the bench process, trusting its certificate.
type bareClient struct {
	roots *x509.CertPool
	url   string
	body  []byte
}

func newBareClient(p *Peers, n Network) (*bareClient, error) {
	roots := x509.NewCertPool()
	if p.CAFile != "" {
		pem, err := os.ReadFile(p.CAFile)
		if err != nil {
			return nil, err
		}
		roots.AppendCertsFromPEM(pem)
	}
	return &bareClient{
		roots: roots,
		url:   strings.TrimRight(n.TrulienceURL, "/") + "/auth/generate-token",
		body:  []byte(`{"avatar_id":"` + AvatarID + `"}`),
	}, nil
}

// transport is a new transport: its first request opens a new connection.
func (c *bareClient) transport() *http.Transport {
	return &http.Transport{TLSClientConfig: &tls.Config{RootCAs: c.roots, NextProtos: []string{"http/1.1"}}}
}

func (c *bareClient) request(ctx context.Context, tr *http.Transport) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(c.body))
	if err != nil {
		return err
	}
	req.Header.Set("X-Api-Key", APIKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the stand-in answered %s to a bare token request", resp.Status)
	}
	return nil
}

// siteverify checks the test token with the test secret, as the function's
// bot check does.
func (c *bareClient) siteverify(ctx context.Context, tr *http.Transport, n Network) error {
	form := url.Values{"secret": {TurnstileSecret}, "response": {TurnstileToken}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.TurnstileURL+"/turnstile/v0/siteverify", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var out struct {
		Success bool `json:"success"`
	}
	err = json.NewDecoder(resp.Body).Decode(&out)
	_, _ = io.Copy(io.Discard, resp.Body) // to the end, so the connection is kept
	if err != nil || !out.Success {
		return fmt.Errorf("the siteverify stand-in refused the bench's test token (%s)", resp.Status)
	}
	return nil
}
