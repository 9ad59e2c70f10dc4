package jsonapi

import (
	"encoding/json"
	"testing"
)

var identifierSeeds = []string{
	`{"type":"connect/share-token","id":"cnst_1","attributes":{"a":[1,{"b":"}"}],"c":null}}`,
	` { "id" : "x" , "type" : null } `,
	`{}`,
	`{"TYPE":"a","Id":"b","type":"c"}`,
	`{"type":"a\"b","id":"c"}`,
	`{"type":"\u0061","id":"c"}`,
	`{"typé":"a","id":"c"}`,
	`{"type":"é","id":"c"}`,
	`{"type":1,"id":"c"}`,
	`{"type":["a"],"id":"c"}`,
	`{"x":-1.5e3,"y":true,"z":false,"type":"t","id":"i"}`,
	`{"ty\\pe":"a"}`,
	`[{"type":"a"}]`,
	`"type"`,
	`null`,
	`12`,
}

// checkIdentifier fails unless Identifier, where it answers, agrees with
// encoding/json on a valid document.
func checkIdentifier(t *testing.T, doc string) {
	t.Helper()
	if !json.Valid([]byte(doc)) {
		return // Identifier's contract starts at valid JSON
	}
	typ, id, ok := Identifier([]byte(doc))
	if !ok {
		return
	}
	var want struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	}
	if err := json.Unmarshal([]byte(doc), &want); err != nil {
		t.Fatalf("Identifier(%s) answered, encoding/json refused: %v", doc, err)
	}
	if typ != want.Type || id != want.ID {
		t.Fatalf("Identifier(%s) = %q, %q; encoding/json %q, %q", doc, typ, id, want.Type, want.ID)
	}
}

func TestIdentifier(t *testing.T) {
	t.Parallel()
	for _, doc := range identifierSeeds {
		checkIdentifier(t, doc)
	}
	// The fast path must answer the shape Persona sends, or it is no fast path.
	typ, id, ok := Identifier([]byte(identifierSeeds[0]))
	if !ok || typ != "connect/share-token" || id != "cnst_1" {
		t.Fatalf("Identifier = %q, %q, %v", typ, id, ok)
	}
	for _, doc := range []string{`{"type":"a\"b"}`, `{"type":1}`, `[]`, `{"typé":"a"}`} {
		if _, _, ok := Identifier([]byte(doc)); ok {
			t.Errorf("Identifier(%s) answered; it must leave it to encoding/json", doc)
		}
	}
}

func FuzzIdentifier(f *testing.F) {
	for _, doc := range identifierSeeds {
		f.Add(doc)
	}
	f.Fuzz(checkIdentifier)
}
