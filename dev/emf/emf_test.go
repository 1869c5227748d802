package emf

import (
	"strings"
	"testing"
)

func TestValidateAcceptsTheSpecificationsExample(t *testing.T) {
	line := `{"_aws":{"Timestamp":1574109732004,"CloudWatchMetrics":[{"Namespace":"lambda-function-metrics","Dimensions":[["functionVersion"]],"Metrics":[{"Name":"time","Unit":"Milliseconds","StorageResolution":60}]}]},"functionVersion":"$LATEST","time":100,"requestId":"989ffbf8-9ace-4817-a57c-e4dd734019ee"}`
	if _, err := Validate(line); err != nil {
		t.Fatal(err)
	}
}

func TestValidateRefuses(t *testing.T) {
	ok := `{"_aws":{"Timestamp":1574109732004,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["D"]],"Metrics":[{"Name":"M","Unit":"Count"}]}]},"D":"x","M":1}`
	if _, err := Validate(ok); err != nil {
		t.Fatal(err)
	}
	bad := map[string]string{
		"not JSON":             `{"_aws":`,
		"no _aws":              `{"M":1}`,
		"timestamp in seconds": strings.Replace(ok, "1574109732004", "1574109732", 1),
		"timestamp a string":   strings.Replace(ok, "1574109732004", `"1574109732004"`, 1),
		"no directives":        `{"_aws":{"Timestamp":1574109732004,"CloudWatchMetrics":[]}}`,
		"no namespace":         strings.Replace(ok, `"Namespace":"N",`, "", 1),
		"metric missing":       strings.Replace(ok, `,"M":1`, "", 1),
		"metric a string":      strings.Replace(ok, `"M":1`, `"M":"1"`, 1),
		"dimension missing":    strings.Replace(ok, `"D":"x",`, "", 1),
		"dimension a number":   strings.Replace(ok, `"D":"x"`, `"D":7`, 1),
		"bad unit":             strings.Replace(ok, `"Count"`, `"Things"`, 1),
		"bad resolution":       strings.Replace(ok, `"Unit":"Count"`, `"Unit":"Count","StorageResolution":5`, 1),
		"31 dimension keys":    strings.Replace(ok, `[["D"]]`, `[["D"`+strings.Repeat(`,"D"`, 30)+`]]`, 1),
		"101 metrics":          strings.Replace(ok, `[{"Name":"M","Unit":"Count"}]`, `[{"Name":"M"}`+strings.Repeat(`,{"Name":"M"}`, 100)+`]`, 1),
	}
	for name, line := range bad {
		if _, err := Validate(line); err == nil {
			t.Errorf("%s: accepted %s", name, line)
		}
	}
}

func TestCheckProject(t *testing.T) {
	rec, err := Validate(`{"_aws":{"Timestamp":1574109732004,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["Origin"]],"Metrics":[{"Name":"M"}]}]},"Origin":"https://x.example","M":1}`)
	if err != nil {
		t.Fatal(err)
	}
	if CheckProject(rec) == nil {
		t.Error("an Origin dimension passed")
	}
	rec, _ = Validate(`{"_aws":{"Timestamp":1574109732004,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["Reason"]],"Metrics":[{"Name":"M"}]}]},"Reason":"203.0.113.9","M":1}`)
	if CheckProject(rec) == nil {
		t.Error("an address as Reason passed")
	}
	rec, _ = Validate(`{"_aws":{"Timestamp":1574109732004,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[[]],"Metrics":[{"Name":"M"}]}]},"M":1,"ip":"203.0.113.9"}`)
	if CheckProject(rec, "203.0.113.9") == nil {
		t.Error("a forbidden value passed")
	}
}
