package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestValidAvatarID(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"1", true},
		{"4386676996480451678", true},
		{strings.Repeat("9", 32), true},
		{strings.Repeat("9", 33), false},
		{"", false},
		{"12a", false},
		{"-1", false},
		{"+1", false},
		{"1.0", false},
		{"1e3", false},
		{" 1", false},
		{"0x1f", false},
		{"١٢٣", false},      // Arabic-Indic digits
		{"１２３", false},      // fullwidth digits
		{"12\u00b3", false}, // superscript three
		{"123\x00", false},
	}
	for _, tt := range tests {
		if got := ValidAvatarID(tt.in); got != tt.want {
			t.Errorf("ValidAvatarID(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseAvatars(t *testing.T) {
	tests := []struct {
		in   string
		want Avatars
	}{
		{"4386676996480451678", Avatars{IDs: []string{"4386676996480451678"}, Default: "4386676996480451678"}},
		{"2,1,3", Avatars{IDs: []string{"2", "1", "3"}, Default: "2"}},
		{" 2 , 1 ,, 2 ", Avatars{IDs: []string{"2", "1"}, Default: "2"}},
		{strings.Repeat("7", 32), Avatars{IDs: []string{strings.Repeat("7", 32)}, Default: strings.Repeat("7", 32)}},
		{"*", Avatars{Any: true}},
		{" * ", Avatars{Any: true}},
		{"*,5", Avatars{Any: true, IDs: []string{"5"}, Default: "5"}},
		{"5,*", Avatars{Any: true, IDs: []string{"5"}, Default: "5"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseAvatars(tt.in)
			if err != nil {
				t.Fatalf("ParseAvatars: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseAvatars(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseAvatarsRefused(t *testing.T) {
	for _, in := range []string{
		"",
		",",
		strings.Repeat("1", 33),
		"123,abc",
		"avatar-1",
		"١٢٣",
		"１２３",
		"12 34",
		"-5",
		"**",
		"1;2",
	} {
		t.Run(in, func(t *testing.T) {
			if got, err := ParseAvatars(in); err == nil {
				t.Errorf("ParseAvatars(%q) = %+v, want an error", in, got)
			}
		})
	}
}

func TestAvatarsAllows(t *testing.T) {
	list, _ := ParseAvatars("111,222")
	any, _ := ParseAvatars("*")
	tests := []struct {
		a    Avatars
		id   string
		want bool
	}{
		{list, "111", true},
		{list, "222", true},
		{list, "333", false},
		{list, "11", false},
		{list, "1111", false},
		{list, "", false},
		{any, "999", true},
		{any, "4386676996480451678", true},
	}
	for _, tt := range tests {
		if got := tt.a.Allows(tt.id); got != tt.want {
			t.Errorf("%+v.Allows(%q) = %v, want %v", tt.a, tt.id, got, tt.want)
		}
	}
}

func TestParseOrigins(t *testing.T) {
	tests := []struct {
		in   string
		want Origins
	}{
		{"", Origins{}},
		{" , ", Origins{}},
		{"*", Origins{Any: true}},
		{"https://www.example.com", Origins{List: []string{"https://www.example.com"}}},
		{"https://www.example.com/", Origins{List: []string{"https://www.example.com"}}},
		{"HTTPS://WWW.Example.COM", Origins{List: []string{"https://www.example.com"}}},
		{"https://www.example.com:443", Origins{List: []string{"https://www.example.com"}}},
		{"http://www.example.com:80/", Origins{List: []string{"http://www.example.com"}}},
		{"https://www.example.com:8443", Origins{List: []string{"https://www.example.com:8443"}}},
		{"http://www.example.com:443", Origins{List: []string{"http://www.example.com:443"}}},
		{"https://www.example.com:80", Origins{List: []string{"https://www.example.com:80"}}},
		{"http://localhost:8000", Origins{List: []string{"http://localhost:8000"}}},
		{"http://127.0.0.1:8000", Origins{List: []string{"http://127.0.0.1:8000"}}},
		{"http://[::1]:8000", Origins{List: []string{"http://[::1]:8000"}}},
		{"http://[::1]:80", Origins{List: []string{"http://[::1]"}}},
		{"https://xn--bcher-kva.example", Origins{List: []string{"https://xn--bcher-kva.example"}}},
		{"https://" + strings.Repeat("a.", 126) + "a", Origins{List: []string{"https://" + strings.Repeat("a.", 126) + "a"}}},
		{
			"https://a.example.com, https://b.example.com ,https://A.example.com:443/",
			Origins{List: []string{"https://a.example.com", "https://b.example.com"}},
		},
		{"*, https://a.example.com", Origins{Any: true, List: []string{"https://a.example.com"}}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseOrigins(tt.in)
			if err != nil {
				t.Fatalf("ParseOrigins: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseOrigins(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseOriginsRefused(t *testing.T) {
	for _, in := range []string{
		"null",
		"www.example.com",
		"example.com:443",
		"https://www.example.com/app",
		"https://www.example.com//",
		"https://www.example.com?x=1",
		"https://www.example.com#top",
		"https://user@www.example.com",
		"https://user:pw@www.example.com",
		"ftp://www.example.com",
		"file:///index.html",
		"https://",
		"https://exa mple.com",
		"https://a.example.com,null",
		"https://*.example.com",
		"https://bücher.example",
		"https://under_score.example.com",
		"https://" + strings.Repeat("a.", 127) + "a",
	} {
		t.Run(in, func(t *testing.T) {
			got, err := ParseOrigins(in)
			if err == nil {
				t.Fatalf("ParseOrigins(%q) = %+v, want an error", in, got)
			}
			if !strings.Contains(err.Error(), "not an origin") {
				t.Errorf("error %q does not explain what an origin is", err)
			}
		})
	}
}

// A wildcard host such as https://*.example.com is not an origin any browser
// sends: accepting it silently would refuse every request from the site the
// operator meant to allow. ALLOWED_ORIGINS takes exact origins, so the
// configuration should say so at start-up.
func TestParseOriginsRefusesWildcardHost(t *testing.T) {
	if got, err := ParseOrigins("https://*.example.com"); err == nil {
		t.Errorf("ParseOrigins(https://*.example.com) = %+v, want an error (wildcards are not origins)", got)
	}
}

func TestOriginsAllows(t *testing.T) {
	list, _ := ParseOrigins("https://www.example.com, http://localhost:8000")
	any, _ := ParseOrigins("*")
	none, _ := ParseOrigins("")
	tests := []struct {
		name   string
		o      Origins
		origin string
		want   bool
	}{
		{"listed", list, "https://www.example.com", true},
		{"listed with port", list, "http://localhost:8000", true},
		{"other port", list, "http://localhost:8001", false},
		{"other scheme", list, "http://www.example.com", false},
		{"subdomain", list, "https://evil.www.example.com", false},
		{"suffix", list, "https://www.example.com.evil.com", false},
		{"trailing slash", list, "https://www.example.com/", false},
		{"null", list, "null", false},
		{"empty", list, "", false},
		{"several values joined", list, "https://www.example.com, https://evil.com", false},
		{"any", any, "https://anything.example", true},
		{"any null", any, "null", true},
		{"any but empty", any, "", false},
		{"none", none, "https://www.example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.o.Allows(tt.origin); got != tt.want {
				t.Errorf("Allows(%q) = %v, want %v", tt.origin, got, tt.want)
			}
		})
	}
}

func TestIsLoopback(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"localhost", true},
		{"LocalHost", true},
		{"127.0.0.1", true},
		{"::1", true},
		{"example.com", false},
		{"localhost.example.com", false},
		{"10.0.0.1", false},
		{"0.0.0.0", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsLoopback(tt.host); got != tt.want {
			t.Errorf("IsLoopback(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
}
