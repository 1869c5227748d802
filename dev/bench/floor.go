package bench

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
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
	roots := x509.NewCertPool()
	if p.CAFile != "" {
		pem, err := os.ReadFile(p.CAFile)
		if err != nil {
			return 0, err
		}
		roots.AppendCertsFromPEM(pem)
	}
	url := strings.TrimRight(n.TrulienceURL, "/") + "/auth/generate-token"
	body := []byte(`{"avatar_id":"` + AvatarID + `"}`)
	var ds []time.Duration
	for range runs {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, NextProtos: []string{"http/1.1"}}}
		start := time.Now()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		req.Header.Set("X-Api-Key", APIKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		d := time.Since(start)
		tr.CloseIdleConnections()
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("the stand-in answered %s to a bare token request", resp.Status)
		}
		ds = append(ds, d)
	}
	return Median(ds), nil
}
