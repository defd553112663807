package cpu

// put finishes output channel co at pixels x... of the tile from the sums v
// of its taps, clipped to the tile: it adds the bias or, for a later block
// of input channels, the partial sums already in out, then the residual.
func (a *convArgs) put(co, x int, v []float32) {
	if co >= a.cout {
		return
	}
	i := a.outOff + co*a.plane + x
	n := min(len(v), a.nx-x)
	o, v := a.out[i:i+n], v[:n]
	if a.bias != nil {
		b := a.bias[co/convCo][co%convCo]
		for k := range o {
			o[k] = v[k] + b
		}
	} else {
		for k := range o {
			o[k] += v[k]
		}
	}
	if a.res != nil {
		r := a.res[i : i+n]
		for k := range o {
			o[k] += r[k]
		}
	}
}
