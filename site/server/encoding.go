package server

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// coding is a precompressed sibling: NAME+ext served with Content-Encoding: token.
type coding struct{ token, ext string }

// codings in the order preferred when the client weighs them equally
// (brotli is smaller for text and wasm).
var codings = []coding{{"br", ".br"}, {"gzip", ".gz"}}

// negotiate returns the codings an Accept-Encoding header accepts, best
// first, leaving out those with q=0 and those the client ranks below
// identity. No header, or an empty one, accepts none: identity is sent.
func negotiate(header []string) []coding {
	q := map[string]float64{} // explicit weights; a missing coding falls back to "*"
	for _, line := range header {
		for _, elem := range strings.Split(line, ",") {
			tok, params, _ := strings.Cut(elem, ";")
			tok = strings.ToLower(strings.TrimSpace(tok))
			if tok == "" {
				continue
			}
			if tok == "x-gzip" { // RFC 9110 §8.4.1.3: an alias of gzip
				tok = "gzip"
			}
			w, ok := qvalue(params)
			if !ok {
				continue // a malformed weight: ignore the element
			}
			q[tok] = w
		}
	}
	weight := func(tok string) float64 {
		if w, ok := q[tok]; ok {
			return w
		}
		return q["*"] // 0 when absent
	}
	identity, explicit := q["identity"]
	if !explicit {
		identity = 0 // never ranks above a coding the client listed
	}
	var out []coding
	for _, c := range codings {
		if w := weight(c.token); w > 0 && w >= identity {
			out = append(out, c)
		}
	}
	// By weight, keeping the preference order on ties.
	slices.SortStableFunc(out, func(a, b coding) int { return cmp.Compare(weight(b.token), weight(a.token)) })
	return out
}

// qvalue parses the parameters after a coding ("q=0.5"); no q means 1.
func qvalue(params string) (float64, bool) {
	for _, p := range strings.Split(params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		w, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || w < 0 || w > 1 {
			return 0, false
		}
		return w, true
	}
	return 1, true
}
