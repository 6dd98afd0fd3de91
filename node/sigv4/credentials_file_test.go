package sigv4

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseCredentials(t *testing.T) {
	tests := []struct {
		name, in string
		want     StaticCredentials
		err      string
	}{
		{name: "two keys", in: "# cluster keys\nAKID1 secret1 ops\n\n\tAKID2\tsecret/2+x==  \n",
			want: StaticCredentials{
				"AKID1": {AccessKeyID: "AKID1", SecretAccessKey: "secret1", Principal: "ops"},
				"AKID2": {AccessKeyID: "AKID2", SecretAccessKey: "secret/2+x=="},
			}},
		{name: "one field", in: "AKID1\n", err: "line 1 has 1 fields"},
		{name: "four fields", in: "\nA B C D\n", err: "line 2 has 4 fields"},
		{name: "duplicate", in: "A s1\nA s2\n", err: `line 2: access key id "A" is given twice`},
		{name: "empty", in: "# nothing\n", err: "no access key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCredentials(strings.NewReader(tt.in))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.err)
				}
				if strings.Contains(err.Error(), "s2") {
					t.Fatalf("error quotes a secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestLoadCredentialsFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "creds")
	if err := os.WriteFile(path, []byte("AKID secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCredentialsFile(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("mode 0644: err = %v, want a refusal", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadCredentialsFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if c["AKID"].SecretAccessKey != "secret" {
		t.Fatalf("got %+v", c)
	}
	if _, err := LoadCredentialsFile(path + ".missing"); err == nil {
		t.Fatal("missing file: no error")
	}
}
