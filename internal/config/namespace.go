package config

import (
	"errors"
	"fmt"
	"strings"
)

// DefaultMetricsNamespace is the CloudWatch namespace when METRICS_NAMESPACE is unset.
const DefaultMetricsNamespace = "TrulienceToken"

// parseNamespace reads METRICS_NAMESPACE: 1-255 of letters, digits and
// . _ / # : - space, not starting with AWS/. A loop, not a regular
// expression: a compiled {1,255} repetition costs most of a millisecond of
// every cold start's package initialization.
func parseNamespace(v string) (string, error) {
	ns := strings.TrimSpace(v)
	if ns == "" {
		return DefaultMetricsNamespace, nil
	}
	ok := len(ns) <= 255
	for i := 0; ok && i < len(ns); i++ {
		c := ns[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._/#: -", c) >= 0
	}
	switch {
	case !ok:
		return "", fmt.Errorf("%q is not a CloudWatch namespace (1-255 of letters, digits and . - _ / # : space)", ns)
	case strings.HasPrefix(ns, "AWS/"):
		return "", errors.New("namespaces starting with AWS/ are reserved for AWS services")
	}
	return ns, nil
}
