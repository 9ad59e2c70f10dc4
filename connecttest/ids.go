package connecttest

import "crypto/rand"

const idAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz123456789"

// newID returns prefix followed by 24 random characters, e.g. "cnst_AbC...". The
// randomness makes ids unguessable across organizations, as Persona's are.
func newID(prefix string) string {
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		// crypto/rand.Read never fails on supported platforms (Go 1.24+ documents
		// this); a fake server has nothing better to do than stop.
		panic("connecttest: crypto/rand: " + err.Error())
	}
	for i, r := range raw {
		raw[i] = idAlphabet[int(r)%len(idAlphabet)]
	}
	return prefix + string(raw[:])
}
