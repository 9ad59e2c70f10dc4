package jsonapi

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestKebabKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"kebab untouched", `{"created-at":"x","a":[{"b-c":1}]}`, `{"created-at":"x","a":[{"b-c":1}]}`},
		{"camel", `{"createdAt":"x","relationships":{"connectConnection":{"data":null}}}`, `{"created-at":"x","relationships":{"connect-connection":{"data":null}}}`},
		{"snake", `{"failure_reason":"source_not_found","redeemed_at":null}`, `{"failure-reason":"source_not_found","redeemed-at":null}`},
		{"values untouched", `{"a":"createdAt","b":["x_y","Zz"],"c":{"d":"e_f"}}`, `{"a":"createdAt","b":["x_y","Zz"],"c":{"d":"e_f"}}`},
		{"strings in arrays are not keys", `[{"k_a":["v_a",{"k_b":"v_b"}]},"w_c"]`, `[{"k-a":["v_a",{"k-b":"v_b"}]},"w_c"]`},
		{"escaped quote in value", `{"a_b":"x\"_y","c_d":1}`, `{"a-b":"x\"_y","c-d":1}`},
		{"whitespace", "{ \"a_b\" : { \"cD\" : [ 1 , 2 ] } , \"e_f\" : null }", "{ \"a-b\" : { \"c-d\" : [ 1 , 2 ] } , \"e-f\" : null }"},
		{"leading capital", `{"Name":1}`, `{"name":1}`},
		// An escape's hex digits are not letters of the key: "\u004A" is "J".
		{"escapes in keys kept", `{"\u004Ab_c":1,"d\"E":2}`, `{"\u004Ab-c":1,"d\"-e":2}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := string(KebabKeys([]byte(tt.in)))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("KebabKeys(%s) mismatch (-want +got):\n%s", tt.in, diff)
			}
			if json.Valid([]byte(tt.in)) && !json.Valid([]byte(got)) {
				t.Errorf("KebabKeys made invalid JSON: %s", got)
			}
		})
	}
}

func TestKebabKeysReturnsInputWhenUnchanged(t *testing.T) {
	in := []byte(`{"data":{"type":"connect/share-token","attributes":{"created-at":"2023-08-17T23:18:13.000Z"}}}`)
	if got := KebabKeys(in); &got[0] != &in[0] {
		t.Error("KebabKeys copied a document that needed no change")
	}
	if n := testing.AllocsPerRun(100, func() { KebabKeys(in) }); n != 0 {
		t.Errorf("KebabKeys allocated %v times on a kebab document, want 0", n)
	}
}

// Valid JSON stays valid, and folding twice changes nothing more.
func FuzzKebabKeys(f *testing.F) {
	f.Add([]byte(`{"createdAt":"x","a_b":[{"cD":"e_F"}]}`))
	f.Add([]byte(`{"a":"\"","b_c":"\\"}`))
	f.Add([]byte(`[[[{`))
	f.Add([]byte(`{"\u004Ab-c":{"d\\E_f":[{"g-h":1}]}}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		out := KebabKeys(doc)
		if !json.Valid(doc) {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("valid %q became invalid %q", doc, out)
		}
		if again := KebabKeys(out); string(again) != string(out) {
			t.Fatalf("KebabKeys(%q) = %q, and again %q", doc, out, again)
		}
	})
}

// Unmarshal decodes the three inflections into one set of kebab-case tags.
func TestUnmarshalFoldsKeys(t *testing.T) {
	t.Parallel()
	type attrs struct {
		CreatedAt string `json:"created-at"`
		Status    string `json:"status"`
	}
	for _, doc := range []string{
		`{"created-at":"t","status":"s"}`,
		`{"createdAt":"t","status":"s"}`,
		`{"created_at":"t","status":"s"}`,
	} {
		var got attrs
		if err := Unmarshal([]byte(doc), &got); err != nil {
			t.Fatalf("Unmarshal(%s): %v", doc, err)
		}
		if diff := cmp.Diff(attrs{CreatedAt: "t", Status: "s"}, got); diff != "" {
			t.Errorf("Unmarshal(%s) mismatch (-want +got):\n%s", doc, diff)
		}
	}
}
