package secret

import (
	"errors"
	"strings"

	"github.com/aws/smithy-go"
)

// revokedCodes are the Secrets Manager error codes that mean the function's
// access to the key was taken away on purpose (the kill switch): its role
// lost the permission, the secret was deleted, or the KMS key that protects
// it may no longer be used. Retrying does not help, and serving a key read
// earlier would defeat the operator who took the access away.
var revokedCodes = map[string]bool{
	"AccessDeniedException":     true,
	"ResourceNotFoundException": true,
	"DecryptionFailure":         true,
}

// Revoked reports whether err, from GetSecretValue, means that access to
// the secret was taken away rather than that Secrets Manager failed for a
// while (throttling, a 5xx, a timeout, the network). A secret scheduled for
// deletion answers InvalidRequestException "... marked for deletion", which
// counts as taken away too; other InvalidRequestExceptions do not.
func Revoked(err error) bool {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return false
	}
	code := api.ErrorCode()
	if revokedCodes[code] {
		return true
	}
	return code == "InvalidRequestException" && markedForDeletion(api.ErrorMessage())
}

// markedForDeletion recognises the message of an InvalidRequestException
// about a deleted secret: AWS says "... because it was marked for deletion",
// moto "... a secret that's currently marked deleted".
func markedForDeletion(msg string) bool {
	msg = strings.ToLower(msg)
	i := strings.Index(msg, "marked ")
	return i >= 0 && strings.HasPrefix(strings.TrimPrefix(msg[i+len("marked "):], "for "), "delet")
}
