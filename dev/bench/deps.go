package bench

// The reference Lambdas in testdata/ import the AWS SDK's config module,
// and go mod tidy does not look into testdata: this import keeps the module
// in dev/go.mod so that they build.
import _ "github.com/aws/aws-sdk-go-v2/config"
