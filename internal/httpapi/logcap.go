package httpapi

import (
	"strconv"
	"unicode/utf8"
)

// maxLoggedValue is the most of one request-supplied value (a header, the
// method) that goes into a log line. A caller controls these: uncapped, one
// request could write kilobytes to the log for every refusal.
const maxLoggedValue = 256

// capped returns s when it fits maxLoggedValue bytes, else its start (cut on a
// UTF-8 boundary) followed by how many bytes were left out.
func capped(s string) string {
	if len(s) <= maxLoggedValue {
		return s
	}
	cut := maxLoggedValue
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…(+" + strconv.Itoa(len(s)-cut) + " bytes)"
}
