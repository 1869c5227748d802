package secret

import (
	"errors"

	"github.com/aws/smithy-go"
)

// revokedCodes are the Secrets Manager error codes of GetSecretValue that
// mean the function's access to the key was taken away on purpose (the kill
// switch): its role lost the permission, the secret was deleted or is
// scheduled for deletion (InvalidRequestException: for GetSecretValue, the
// API reference names no other cause), or the KMS key that protects it may
// no longer be used. Retrying does not help, and serving a key read earlier
// would defeat the operator who took the access away.
var revokedCodes = map[string]bool{
	"AccessDeniedException":     true,
	"ResourceNotFoundException": true,
	"InvalidRequestException":   true,
	"DecryptionFailure":         true,
}

// Revoked reports whether err, from GetSecretValue, means that access to
// the secret was taken away rather than that Secrets Manager failed for a
// while (throttling, a 5xx, a timeout, the network). It reads the error
// code the SDK decoded, never the message.
func Revoked(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && revokedCodes[api.ErrorCode()]
}
