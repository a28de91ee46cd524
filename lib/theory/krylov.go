package theory

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"

	"repdyn/lib/linalg"
	"repdyn/lib/nn"
	"repdyn/lib/tensor"
)

// Operator is J given matrix-free: N rows, D columns, J v (MatVec) and
// J^T u (TMatVec). ModelOperator gives it for a model through forward-mode
// (Jv) and reverse-mode (JTu) passes; JacobianOperator for an explicit J.
type Operator struct {
	N, D    int
	MatVec  func(v []float64) ([]float64, error) // J v
	TMatVec func(u []float64) ([]float64, error) // J^T u
}

// ModelOperator is J of m on x (parameters opt.Params or all): one exact
// forward-mode pass per J v, one backward pass per J^T u.
func ModelOperator(m nn.Module[float64], x *tensor.Tensor[float64], opt JacobianOptions) (*Operator, error) {
	os, err := m.OutShape(x.Shape())
	if err != nil {
		return nil, err
	}
	return &Operator{N: prod(os), D: paramLen(opt.params(m)),
		MatVec: func(v []float64) ([]float64, error) {
			jv, _, err := Jv(m, x, v, opt)
			return jv, err
		},
		TMatVec: func(u []float64) ([]float64, error) { return JTu(m, x, u, opt) },
	}, nil
}

// JacobianOperator is the operator of an explicit Jacobian.
func JacobianOperator(j *Jacobian) *Operator {
	return &Operator{N: j.N, D: j.D,
		MatVec:  func(v []float64) ([]float64, error) { return j.MatVec(v), nil },
		TMatVec: func(u []float64) ([]float64, error) { return j.TMatVec(u), nil },
	}
}

// kernelApply is K u = J (J^T u).
func (op *Operator) kernelApply(u []float64) ([]float64, error) {
	g, err := op.TMatVec(u)
	if err != nil {
		return nil, err
	}
	return op.MatVec(g)
}

// MinEigenEstimate is the matrix-free estimate of the smallest nonzero
// eigenvalue lambda_min+ = sigma_min+^2 of K = J J^T.
type MinEigenEstimate struct {
	// Theta is the smallest Ritz value above KernelCut * lambda_max of the
	// Lanczos iteration on K started in Col(K): every Ritz vector lies in
	// Col(J), so by interlacing Theta >= lambda_min+ (an upper bound).
	Theta float64
	// Residual is ||K s - Theta s|| for its unit Ritz vector s: some
	// eigenvalue of K lies in [Theta - Residual, Theta + Residual].
	Residual float64
	// Lower and Upper bound lambda_min+ when Converged: [Theta - Residual,
	// Theta]. Without convergence Upper is still an upper bound and Lower
	// only bounds the eigenvalue nearest Theta.
	Lower, Upper float64
	LambdaMax    float64 // largest Ritz value (a lower bound of lambda_max)
	Steps        int     // Lanczos steps (one K product each: a backward and a forward-mode pass)
	// Converged: the Krylov space became invariant (it spans the part of
	// Col(K) the start vector reaches), so the Ritz values are eigenvalues.
	Converged bool
}

// SigmaMin is sqrt(Theta), the estimate of sigma_min+ of J.
func (e *MinEigenEstimate) SigmaMin() float64 { return math.Sqrt(math.Max(e.Theta, 0)) }

func (e *MinEigenEstimate) String() string {
	return fmt.Sprintf("lambda_min+ in [%.6g, %.6g] (Ritz %.6g, residual %.2g; %d steps, converged %v; lambda_max >= %.6g)",
		e.Lower, e.Upper, e.Theta, e.Residual, e.Steps, e.Converged, e.LambdaMax)
}

// SmallestNonzeroEigen estimates lambda_min+ of K = J J^T matrix-free by the
// Lanczos iteration with full re-orthogonalization, started from K g (g
// Gaussian), so the Krylov space stays inside Col(K) and the zero
// eigenvalues of a rank-deficient K do not appear (round-off that leaks
// into the null space is cut at KernelCut * lambda_max). It runs until the
// space is invariant (Converged) or maxSteps steps (0: N).
func SmallestNonzeroEigen(op *Operator, maxSteps int, seed uint64) (*MinEigenEstimate, error) {
	n := op.N
	if maxSteps <= 0 || maxSteps > n {
		maxSteps = n
	}
	r := tensor.NewRNG(seed)
	g := make([]float64, n)
	for i := range g {
		g[i] = r.Normal()
	}
	q, err := op.kernelApply(g)
	if err != nil {
		return nil, err
	}
	nq := nrm2(q)
	if nq == 0 {
		return nil, fmt.Errorf("theory: SmallestNonzeroEigen: K is zero")
	}
	scal(q, 1/nq)
	var Q [][]float64
	var alpha, beta []float64
	converged := false
	for it := 0; it < maxSteps; it++ {
		Q = append(Q, slices.Clone(q))
		w, err := op.kernelApply(q)
		if err != nil {
			return nil, err
		}
		alpha = append(alpha, dot(w, q))
		for pass := 0; pass < 2; pass++ {
			for _, qq := range Q {
				axpy(-dot(w, qq), qq, w)
			}
		}
		b := nrm2(w)
		amax := 0.0
		for _, a := range alpha {
			amax = max(amax, math.Abs(a))
		}
		if b <= 1e-10*amax {
			converged = true
			beta = append(beta, b)
			break
		}
		beta = append(beta, b)
		if it == maxSteps-1 {
			break
		}
		copy(q, w)
		scal(q, 1/b)
	}
	m := len(alpha)
	T := mat.NewSymDense(m, nil)
	for i := 0; i < m; i++ {
		T.SetSym(i, i, alpha[i])
		if i+1 < m {
			T.SetSym(i, i+1, beta[i])
		}
	}
	var es mat.EigenSym
	if !es.Factorize(T, true) {
		return nil, fmt.Errorf("theory: SmallestNonzeroEigen: tridiagonal eigenproblem did not converge")
	}
	vals := es.Values(nil)
	var vecs mat.Dense
	es.VectorsTo(&vecs)
	lmax := slices.Max(vals)
	e := &MinEigenEstimate{Steps: m, Converged: converged, LambdaMax: lmax, Theta: math.Inf(1)}
	for i, v := range vals {
		if v > KernelCut*lmax && v < e.Theta {
			e.Theta = v
			e.Residual = math.Abs(beta[m-1] * vecs.At(m-1, i))
		}
	}
	e.Upper = e.Theta
	e.Lower = math.Max(0, e.Theta-e.Residual)
	return e, nil
}

// SketchDAA is the DAA check by a randomized block-Krylov range finder
// through J v and J^T u: an interval for rho at each tau, with what each
// end certifies.
type SketchDAA struct {
	Columns  int       // orthonormal basis size (block size times blocks)
	Singular []float64 // singular values of Q^T J (each <= the matching one of J)
	// Epsilon estimates ||(I - Q Q^T) J|| from Probes fresh Gaussian
	// vectors: 10 sqrt(2/pi) max_i ||(I - Q Q^T) J w_i||, a bound that
	// holds with probability at least 1 - 10^-Probes (Halko, Martinsson
	// and Tropp's a posteriori estimator).
	Epsilon float64
	Probes  int
	PerTau  []SketchTau
	Passes  int // J v and J^T u products used
}

// SketchTau is the sketched check at one cut-off.
type SketchTau struct {
	Tau  float64
	Rank int // kept directions of the sketch: sigma~ > tau sigma~_max
	// Upper is ||(I - U U^T) y|| / ||y|| for the kept sketch directions U:
	// they lie in Col(J) with ||J^T u|| >= SmallestKept, so Upper at
	// round-off CERTIFIES y = J z with ||z|| <= ||y|| / SmallestKept
	// (sufficient, like a column subset).
	Upper float64
	// Lower bounds rho of the explicit report at this tau (cut-off c = tau
	// sigma_max(J), sigma_max estimated by the sketch): rho >= ||(I - Q Q^T)
	// y|| / ||y|| - Epsilon / c (with the probability of Epsilon); a Lower
	// above round-off CERTIFIES that DAA fails at this cut-off.
	Lower        float64
	SmallestKept float64
}

// RandomizedDAA runs the range finder: a Gaussian block of `block` columns
// (J Omega), `iters` block-Krylov steps (K = J J^T applied to the last
// block), full re-orthogonalization, then B = Q^T J by J^T products and the
// SVD of B; Epsilon from `probes` fresh vectors (0: 10). Cost: (iters + 1)
// * block * 2 + block * (iters + 1) + probes products.
func RandomizedDAA(op *Operator, y []float64, block, iters, probes int, taus []float64, seed uint64) (*SketchDAA, error) {
	if len(y) != op.N {
		return nil, fmt.Errorf("theory: RandomizedDAA: %d targets for N = %d", len(y), op.N)
	}
	if len(taus) == 0 {
		taus = DefaultTaus
	}
	if probes <= 0 {
		probes = 10
	}
	block = max(1, min(block, op.N))
	r := tensor.NewRNG(seed)
	gauss := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = r.Normal()
		}
		return v
	}
	res := &SketchDAA{Probes: probes}
	var Q [][]float64
	orthAdd := func(v []float64) bool {
		n0 := nrm2(v)
		for pass := 0; pass < 2; pass++ {
			for _, qq := range Q {
				axpy(-dot(v, qq), qq, v)
			}
		}
		nv := nrm2(v)
		if nv <= 1e-12*n0 || nv == 0 {
			return false
		}
		scal(v, 1/nv)
		Q = append(Q, v)
		return true
	}
	var last [][]float64
	for j := 0; j < block; j++ {
		v, err := op.MatVec(gauss(op.D))
		if err != nil {
			return nil, err
		}
		res.Passes++
		if orthAdd(v) {
			last = append(last, Q[len(Q)-1])
		}
	}
	for it := 0; it < iters && len(Q) < op.N; it++ {
		var next [][]float64
		for _, q := range last {
			v, err := op.kernelApply(q)
			if err != nil {
				return nil, err
			}
			res.Passes += 2
			if len(Q) < op.N && orthAdd(v) {
				next = append(next, Q[len(Q)-1])
			}
		}
		last = next
	}
	k := len(Q)
	res.Columns = k
	// B = Q^T J (k x D) by k products J^T q.
	B := mat.NewDense(k, op.D, nil)
	for i, q := range Q {
		g, err := op.TMatVec(q)
		if err != nil {
			return nil, err
		}
		res.Passes++
		B.SetRow(i, g)
	}
	var svd mat.SVD
	if !svd.Factorize(B, mat.SVDThinU) {
		return nil, fmt.Errorf("theory: RandomizedDAA: SVD of the %d x %d sketch did not converge", k, op.D)
	}
	res.Singular = svd.Values(nil)
	var ub mat.Dense
	svd.UTo(&ub)
	// U = Q U_B (N x k)
	U := mat.NewDense(op.N, k, nil)
	for i, q := range Q {
		for c := 0; c < k; c++ {
			f := ub.At(i, c)
			for row := 0; row < op.N; row++ {
				U.Set(row, c, U.At(row, c)+f*q[row])
			}
		}
	}
	proj := func(v []float64) []float64 { // (I - Q Q^T) v
		out := slices.Clone(v)
		for _, q := range Q {
			axpy(-dot(out, q), q, out)
		}
		return out
	}
	for i := 0; i < probes; i++ {
		v, err := op.MatVec(gauss(op.D))
		if err != nil {
			return nil, err
		}
		res.Passes++
		res.Epsilon = max(res.Epsilon, 10*math.Sqrt(2/math.Pi)*nrm2(proj(v)))
	}
	ny := nrm2(y)
	rhoQ := nrm2(proj(y)) / ny
	s := &linalg.Subspace{Rows: op.N, Singular: res.Singular, U: U}
	smax := 0.0
	if len(res.Singular) > 0 {
		smax = res.Singular[0]
	}
	for _, tau := range taus {
		st := SketchTau{Tau: tau, Rank: s.Rank(tau), Upper: s.Residual(y, tau), SmallestKept: s.SmallestKept(tau)}
		st.Lower = math.Max(0, rhoQ-res.Epsilon/(tau*smax))
		res.PerTau = append(res.PerTau, st)
	}
	return res, nil
}

func (s *SketchDAA) String() string {
	out := fmt.Sprintf("randomized DAA: %d basis columns, %d products, ||(I - QQ^T) J|| <= %.3g (probability >= 1 - 1e-%d)\n", s.Columns, s.Passes, s.Epsilon, s.Probes)
	for _, t := range s.PerTau {
		out += fmt.Sprintf("  tau %.0e: rank %d, smallest kept %.4g, rho in [%.3e, %.3e] (upper: y in Col J certified when at round-off; lower: failure certified when above it)\n", t.Tau, t.Rank, t.SmallestKept, t.Lower, t.Upper)
	}
	return out
}
