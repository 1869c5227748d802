package bench

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"path/filepath"

	"github.com/trulience-token/trulience-token/dev/rie"
)

// MinimalPackage is the reference Lambda: AWS SDK config, a Secrets Manager
// client, a trivial handler.
const MinimalPackage = "./dev/bench/testdata/minimal"

// MinimalSecretPackage is the minimal reference that also reads the secret
// during init: the floor of any function that prefetches its secret.
const MinimalSecretPackage = "./dev/bench/testdata/minimalsecret"

// Build compiles pkg (relative to the module root dir) for linux/goarch with
// the deployment's flags into out.
func Build(ctx context.Context, dir, pkg, goarch, out string) error {
	return rie.GoBuild(ctx, dir, pkg, "linux", goarch, out)
}

// ZipSize is the size of a zip archive holding the file at path as an
// executable named bootstrap, deflated: what Lambda's deployment package is.
func ZipSize(path string) (int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return 0, err
	}
	if _, err := w.Write(data); err != nil {
		return 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	return int64(buf.Len()), nil
}

// FileSize is the size of the file at path.
func FileSize(path string) (int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// Sizes are the deployment sizes of one bootstrap.
type Sizes struct {
	Binary, Zip int64
}

// MeasureSizes builds pkg for arm64 into dir/name and measures it and its zip.
func MeasureSizes(ctx context.Context, root, pkg, dir, name string) (Sizes, error) {
	out := filepath.Join(dir, name)
	if err := Build(ctx, root, pkg, "arm64", out); err != nil {
		return Sizes{}, err
	}
	bin, err := FileSize(out)
	if err != nil {
		return Sizes{}, err
	}
	z, err := ZipSize(out)
	return Sizes{Binary: bin, Zip: z}, err
}
