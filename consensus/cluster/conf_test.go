package cluster

import (
	"slices"
	"strings"
	"testing"
)

func TestParseClusterConf(t *testing.T) {
	cases := []struct {
		name, in string
		want     []string
		err      string
	}{
		{name: "plain", in: "10.0.0.1:8848\n10.0.0.2:8849\n", want: []string{"10.0.0.1:8848", "10.0.0.2:8849"}},
		{name: "default port", in: "10.0.0.1\n", want: []string{"10.0.0.1:8848"}},
		{name: "comments and blanks", in: "# cluster\n\n  10.0.0.2:1 # second\n\t\n10.0.0.1 #first\n", want: []string{"10.0.0.1:8848", "10.0.0.2:1"}},
		{name: "comma list", in: "10.0.0.1:1, 10.0.0.2:2\n", want: []string{"10.0.0.1:1", "10.0.0.2:2"}},
		{name: "duplicates collapse", in: "10.0.0.1\n10.0.0.1:8848\n", want: []string{"10.0.0.1:8848"}},
		{name: "hostnames lowercased", in: "Node-A.example:80\n", want: []string{"node-a.example:80"}},
		{name: "ipv6", in: "[::1]:9000\n::2\n[fe80::1]\n", want: []string{"[::1]:9000", "[::2]:8848", "[fe80::1]:8848"}},
		{name: "crlf", in: "10.0.0.1:1\r\n10.0.0.2:2\r\n", want: []string{"10.0.0.1:1", "10.0.0.2:2"}},
		{name: "bad port", in: "10.0.0.1:x\n", err: "line 1"},
		{name: "port zero", in: "\n10.0.0.1:0\n", err: "line 2"},
		{name: "port too big", in: "10.0.0.1:70000\n", err: "bad port"},
		{name: "bad host", in: "bad host:1\n", err: "bad host"},
		{name: "garbage colons", in: "a:b:c\n", err: "bad member address"},
		{name: "empty", in: "# nothing\n\n", err: "no members"},
		{name: "line too long", in: strings.Repeat("a", 5000) + "\n", err: "longer than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseClusterConf(strings.NewReader(c.in))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestParseMembers(t *testing.T) {
	got, err := ParseMembers([]string{" 10.0.0.2 ", "10.0.0.1:9", ""})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"10.0.0.1:9", "10.0.0.2:8848"}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if _, err := ParseMembers([]string{"", " "}); err == nil {
		t.Error("empty list accepted")
	}
	if _, err := ParseMembers([]string{"10.0.0.1:-1"}); err == nil {
		t.Error("bad port accepted")
	}
}
