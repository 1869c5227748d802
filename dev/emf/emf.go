// Package emf checks CloudWatch embedded metric format (EMF) records
// against the specification, and against this project's own rules for
// them, so every test that makes the function write records (unit and
// end-to-end) validates all of them the same way.
package emf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Specification limits.
const (
	MaxMetrics            = 100  // metric definitions per directive
	MaxDimensionKeys      = 30   // keys per dimension set
	MaxDimensionValueLen  = 1024 // characters of a dimension value
	MaxValuesPerMetric    = 100  // values in a metric's array
	MaxEventBytes         = 1 << 20
	minPlausibleTimestamp = 1_000_000_000_000 // ms: 2001, i.e. not seconds
)

// Units CloudWatch accepts.
var units = map[string]bool{
	"Seconds": true, "Microseconds": true, "Milliseconds": true, "Bytes": true, "Kilobytes": true,
	"Megabytes": true, "Gigabytes": true, "Terabytes": true, "Bits": true, "Kilobits": true,
	"Megabits": true, "Gigabits": true, "Terabits": true, "Percent": true, "Count": true,
	"Bytes/Second": true, "Kilobytes/Second": true, "Megabytes/Second": true, "Gigabytes/Second": true,
	"Terabytes/Second": true, "Bits/Second": true, "Kilobits/Second": true, "Megabits/Second": true,
	"Gigabits/Second": true, "Terabits/Second": true, "Count/Second": true, "None": true,
}

// Record is one parsed record.
type Record struct {
	Raw  string
	Root map[string]any
	// Metrics are the metric names its directives define; Dimensions the
	// dimension keys.
	Metrics, Dimensions []string
	Namespaces          []string
}

// Number is the value of metric name, and whether it is there as a number.
func (r Record) Number(name string) (float64, bool) {
	v, ok := r.Root[name].(float64)
	return v, ok
}

// IsRecord reports whether a log line is meant as an EMF record.
func IsRecord(line string) bool { return strings.Contains(line, `"_aws"`) }

// Validate parses line and checks it against the EMF specification.
func Validate(line string) (Record, error) {
	rec := Record{Raw: line}
	if len(line) > MaxEventBytes {
		return rec, fmt.Errorf("record of %d bytes is over the 1 MB log event limit", len(line))
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(line)))
	if err := dec.Decode(&rec.Root); err != nil {
		return rec, fmt.Errorf("not a JSON object: %w", err)
	}
	awsObj, ok := rec.Root["_aws"].(map[string]any)
	if !ok {
		return rec, errors.New(`no "_aws" object`)
	}
	ts, ok := awsObj["Timestamp"].(float64)
	if !ok || ts != float64(int64(ts)) || ts < minPlausibleTimestamp {
		return rec, fmt.Errorf("_aws.Timestamp %v is not a whole number of milliseconds since the epoch", awsObj["Timestamp"])
	}
	directives, ok := awsObj["CloudWatchMetrics"].([]any)
	if !ok || len(directives) == 0 {
		return rec, errors.New("_aws.CloudWatchMetrics is not a non-empty array")
	}
	var errs []error
	for i, d := range directives {
		dir, ok := d.(map[string]any)
		if !ok {
			errs = append(errs, fmt.Errorf("directive %d is not an object", i))
			continue
		}
		ns, ok := dir["Namespace"].(string)
		if !ok || ns == "" || len(ns) > 255 {
			errs = append(errs, fmt.Errorf("directive %d: Namespace %v is not a string of 1-255 characters", i, dir["Namespace"]))
		}
		rec.Namespaces = append(rec.Namespaces, ns)
		sets, ok := dir["Dimensions"].([]any)
		if !ok {
			errs = append(errs, fmt.Errorf("directive %d: Dimensions is not an array of dimension sets", i))
		}
		for _, s := range sets {
			keys, ok := s.([]any)
			if !ok {
				errs = append(errs, fmt.Errorf("directive %d: a dimension set is not an array", i))
				continue
			}
			if len(keys) > MaxDimensionKeys {
				errs = append(errs, fmt.Errorf("directive %d: a dimension set has %d keys (at most %d)", i, len(keys), MaxDimensionKeys))
			}
			for _, k := range keys {
				key, ok := k.(string)
				if !ok {
					errs = append(errs, fmt.Errorf("directive %d: dimension key %v is not a string", i, k))
					continue
				}
				rec.Dimensions = append(rec.Dimensions, key)
				v, ok := rec.Root[key].(string)
				switch {
				case !ok:
					errs = append(errs, fmt.Errorf("dimension %q is not a string member of the record", key))
				case v == "" || len(v) > MaxDimensionValueLen:
					errs = append(errs, fmt.Errorf("dimension %q has a value of %d characters (1-%d)", key, len(v), MaxDimensionValueLen))
				}
			}
		}
		metrics, ok := dir["Metrics"].([]any)
		if !ok {
			errs = append(errs, fmt.Errorf("directive %d: Metrics is not an array", i))
		}
		if len(metrics) > MaxMetrics {
			errs = append(errs, fmt.Errorf("directive %d defines %d metrics (at most %d)", i, len(metrics), MaxMetrics))
		}
		for _, m := range metrics {
			def, ok := m.(map[string]any)
			name, _ := def["Name"].(string)
			if !ok || name == "" || len(name) > 1024 {
				errs = append(errs, fmt.Errorf("directive %d: metric definition %v has no Name", i, m))
				continue
			}
			rec.Metrics = append(rec.Metrics, name)
			if u, has := def["Unit"]; has {
				if s, ok := u.(string); !ok || !units[s] {
					errs = append(errs, fmt.Errorf("metric %q: Unit %v is not a CloudWatch unit", name, u))
				}
			}
			if r, has := def["StorageResolution"]; has && r != float64(1) && r != float64(60) {
				errs = append(errs, fmt.Errorf("metric %q: StorageResolution %v is not 1 or 60", name, r))
			}
			switch v := rec.Root[name].(type) {
			case float64:
			case []any:
				if len(v) == 0 || len(v) > MaxValuesPerMetric {
					errs = append(errs, fmt.Errorf("metric %q has %d values (1-%d)", name, len(v), MaxValuesPerMetric))
				}
				for _, x := range v {
					if _, ok := x.(float64); !ok {
						errs = append(errs, fmt.Errorf("metric %q has a value %v that is not a number", name, x))
					}
				}
			default:
				errs = append(errs, fmt.Errorf("metric %q is not a number on the record (%v)", name, rec.Root[name]))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return rec, fmt.Errorf("%w\nrecord: %s", err, line)
	}
	return rec, nil
}

// Dimensions this project may use, and what their values look like: only
// small fixed sets (error codes), never a value from the request.
var (
	AllowedDimensions = map[string]*regexp.Regexp{
		"Reason":          regexp.MustCompile(`^[a-z][a-z_]{0,39}$`),
		"FunctionVersion": regexp.MustCompile(`^(\$LATEST|[0-9]{1,10})$`),
		"FunctionName":    regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`),
	}
)

// CheckProject checks a valid record against the project's rules: its
// dimensions are the allowed ones, and none of forbidden (secrets, keys,
// addresses, users, JWTs, origins) appears anywhere in it.
func CheckProject(rec Record, forbidden ...string) error {
	var errs []error
	for _, d := range rec.Dimensions {
		re, ok := AllowedDimensions[d]
		if !ok {
			errs = append(errs, fmt.Errorf("dimension %q is not one of the fixed set", d))
			continue
		}
		if v, _ := rec.Root[d].(string); !re.MatchString(v) {
			errs = append(errs, fmt.Errorf("dimension %s=%q is not from its fixed set", d, v))
		}
	}
	for _, f := range forbidden {
		if f != "" && strings.Contains(rec.Raw, f) {
			errs = append(errs, fmt.Errorf("the record carries a forbidden value (%d characters): %s", len(f), rec.Raw))
		}
	}
	return errors.Join(errs...)
}

// Records validates every record among the lines of logs (a function's
// output) and checks each against the project's rules. It returns the
// records and every problem found.
func Records(logs string, forbidden ...string) ([]Record, error) {
	var recs []Record
	var errs []error
	for line := range strings.SplitSeq(logs, "\n") {
		line = strings.TrimSpace(line)
		if !IsRecord(line) {
			continue
		}
		rec, err := Validate(line)
		if err == nil {
			err = CheckProject(rec, forbidden...)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		recs = append(recs, rec)
	}
	return recs, errors.Join(errs...)
}

// Sum adds metric name over recs.
func Sum(recs []Record, name string) float64 {
	var n float64
	for _, r := range recs {
		if v, ok := r.Number(name); ok {
			n += v
		}
	}
	return n
}
