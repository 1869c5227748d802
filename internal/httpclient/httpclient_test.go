package httpclient

import (
	"net/http"
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	c := New(nil)
	tr, ok := c.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("Transport is %T, want *http.Transport", c.Transport)
	}
	if tr.Proxy != nil {
		t.Error("the transport honours proxy variables; the key must go straight to Trulience")
	}
	if tr.TLSClientConfig == nil || tr.TLSClientConfig.InsecureSkipVerify || tr.TLSClientConfig.MinVersion < 0x0303 {
		t.Errorf("TLS config %+v: want verification on and TLS 1.2 or later", tr.TLSClientConfig)
	}
	if tr.DisableKeepAlives {
		t.Error("keep-alives are disabled")
	}
	if c.CheckRedirect == nil {
		t.Error("redirects are followed")
	}
}

func TestUserAgentNamesTheProject(t *testing.T) {
	if !strings.Contains(UserAgent, "trulience-token") || strings.Contains(UserAgent, "Go-http-client") {
		t.Errorf("UserAgent = %q, want one naming this project", UserAgent)
	}
}
