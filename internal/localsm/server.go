package localsm

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Account is the account ID in the ARNs the local server makes up.
const Account = "123456789012"

// Server is an in-memory Secrets Manager speaking the JSON 1.1 protocol,
// enough for the SDK's GetSecretValue, CreateSecret and PutSecretValue.
type Server struct {
	// URL is the endpoint (http://127.0.0.1:port) when started with Start.
	URL string
	// Region goes into the ARNs; us-east-1 when empty.
	Region string

	http *http.Server

	mu         sync.Mutex
	secrets    map[string]*secret // by name
	calls      map[string]int
	credential string
}

type secret struct {
	name, arn, value, version string
	created                   time.Time
}

// New returns an empty server.
func New() *Server {
	return &Server{secrets: map[string]*secret{}, calls: map[string]int{}}
}

// Start serves a new server on addr (empty: a free loopback port) until Close.
func Start(addr string) (*Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := New()
	s.URL = "http://" + ln.Addr().String()
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.http.Serve(ln) }()
	return s, nil
}

// Close stops a server started with Start.
func (s *Server) Close() {
	if s.http != nil {
		_ = s.http.Close()
	}
}

// Calls is how many times operation (e.g. "GetSecretValue") was called.
func (s *Server) Calls(operation string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[operation]
}

// LastCredential is the Credential of the last signed call:
// "<access key ID>/<date>/<region>/secretsmanager/aws4_request".
func (s *Server) LastCredential() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.credential
}

func credentialScope(auth string) string {
	_, after, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return ""
	}
	cred, _, _ := strings.Cut(after, ",")
	return cred
}

// awsError is an error answer of the JSON protocol.
type awsError struct {
	status       int
	typ, message string
}

func (e *awsError) Error() string { return e.typ + ": " + e.message }

func notFound() *awsError {
	return &awsError{400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret."}
}

// ServeHTTP answers one JSON 1.1 call, dispatched on X-Amz-Target.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, "secretsmanager.")
	var out any
	var err *awsError
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	switch {
	case r.Method != http.MethodPost || !ok:
		err = &awsError{400, "UnknownOperationException", ""}
	case !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 "):
		err = &awsError{400, "MissingAuthenticationTokenException", "Missing Authentication Token"}
	default:
		s.mu.Lock()
		s.calls[op]++
		s.credential = credentialScope(r.Header.Get("Authorization"))
		s.mu.Unlock()
		out, err = s.call(op, body)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-RequestId", newID())
	if err != nil {
		w.Header().Set("X-Amzn-ErrorType", err.typ)
		w.WriteHeader(err.status)
		b, _ := json.Marshal(map[string]string{"__type": err.typ, "message": err.message})
		_, _ = w.Write(b)
		return
	}
	b, _ := json.Marshal(out)
	_, _ = w.Write(b)
}

func (s *Server) call(op string, body []byte) (any, *awsError) {
	var in struct {
		Name, SecretId, SecretString, ClientRequestToken string
	}
	if json.Unmarshal(body, &in) != nil {
		return nil, &awsError{400, "SerializationException", "Start of structure or map found where not expected."}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch op {
	case "GetSecretValue":
		sec := s.find(in.SecretId)
		if sec == nil {
			return nil, notFound()
		}
		return map[string]any{
			"ARN": sec.arn, "Name": sec.name, "VersionId": sec.version,
			"SecretString": sec.value, "VersionStages": []string{"AWSCURRENT"},
			"CreatedDate": float64(sec.created.UnixMilli()) / 1000,
		}, nil
	case "CreateSecret":
		if in.Name == "" {
			return nil, &awsError{400, "ValidationException", "1 validation error detected: Value at 'name' failed to satisfy constraint: Member must not be null"}
		}
		if s.secrets[in.Name] != nil {
			return nil, &awsError{400, "ResourceExistsException", fmt.Sprintf("The operation failed because the secret %s already exists.", in.Name)}
		}
		sec := &secret{name: in.Name, arn: s.arn(in.Name), value: in.SecretString, version: version(in.ClientRequestToken), created: time.Now()}
		s.secrets[in.Name] = sec
		return map[string]any{"ARN": sec.arn, "Name": sec.name, "VersionId": sec.version}, nil
	case "PutSecretValue":
		sec := s.find(in.SecretId)
		if sec == nil {
			return nil, notFound()
		}
		sec.value, sec.version, sec.created = in.SecretString, version(in.ClientRequestToken), time.Now()
		return map[string]any{"ARN": sec.arn, "Name": sec.name, "VersionId": sec.version, "VersionStages": []string{"AWSCURRENT"}}, nil
	}
	return nil, &awsError{400, "UnknownOperationException", ""}
}

// find looks a secret up by name or ARN.
func (s *Server) find(id string) *secret {
	if sec := s.secrets[id]; sec != nil {
		return sec
	}
	for _, sec := range s.secrets {
		if sec.arn == id {
			return sec
		}
	}
	return nil
}

func (s *Server) arn(name string) string {
	region := s.Region
	if region == "" {
		region = "us-east-1"
	}
	return fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", region, Account, name, newID()[:6])
}

func version(token string) string {
	if token != "" {
		return token
	}
	return newID()
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
