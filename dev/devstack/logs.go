package devstack

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// functionLog passes on what the function prints, one prefixed line at a
// time; the RIE's own lines only when verbose.
type functionLog struct {
	mu      sync.Mutex
	w       io.Writer
	verbose bool
	prefix  string // empty: "function: "
	partial []byte
}

func (f *functionLog) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.partial = append(f.partial, p...)
	for {
		i := bytes.IndexByte(f.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := string(f.partial[:i+1])
		f.partial = f.partial[i+1:]
		if f.verbose || !rieLine(line) {
			prefix := f.prefix
			if prefix == "" {
				prefix = "function: "
			}
			_, _ = io.WriteString(f.w, prefix+line)
		}
	}
}

// rieLine tells the RIE's own lines from the function's.
func rieLine(line string) bool {
	for _, p := range []string{"START RequestId:", "END RequestId:", "REPORT RequestId:"} {
		if strings.HasPrefix(line, p) {
			return true
		}
	}
	return strings.Contains(line, "] (rapid) ")
}

// siteHandler serves dir without caching, its pages with params (see
// withPageParams), with one log line per request.
func siteHandler(dir string, params func() url.Values, log *slog.Logger) http.Handler {
	files := withPageParams(http.FileServer(http.Dir(dir)), params)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		rec.Header().Set("Cache-Control", "no-store")
		files.ServeHTTP(rec, r)
		log.Info("request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "latency_ms", time.Since(start).Milliseconds())
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}
