// Package theory is repdyn's toolkit for the theory of ../shared/THEORY.md
// (our formal versions of the claims of Kawaguchi, Zhang & Deng,
// arXiv:2106.14836; results R1-R7, claims C1-C7): Jacobians and empirical NTKs
// of batch-norm ResNets in float64, the alignment (DAA) and structure (CMS)
// checks, helpers for R1-R7, aligned training, and NTK tracking.
//
// # Jacobians (jacobian.go)
//
// ComputeJacobian builds the explicit N x D Jacobian J = d yhat / d theta of
// the stacked outputs of n examples (N = n*m rows, example-major: row a*m+j is
// output j of example a) by N backward passes with unit upstream gradients
// e_i (nn.ZeroGrad, Backward, read Param.Grad; Param.Grad is restored after).
// Every result records its batch-norm mode: nn.Eval (running statistics;
// examples are independent, so each example runs alone as a batch of one, n
// times cheaper) or nn.BatchStats (statistics of the given batch; the n
// examples go through ONE forward pass and every backward pass includes the
// coupling). nn.Train is refused (it would move the running statistics).
// JacobianOptions.Params (see SelectParams) restricts the columns to
// parameter groups; JacobianOptions.Workers runs the backward passes on that
// many deep-copied replicas in parallel (default GOMAXPROCS; the result is
// bit-identical for every worker count).
//
// Matrix-free products: JTu (J^T u: one backward pass with upstream u, by
// nn.VJP) and Jv (J v: one exact forward-mode pass, by nn.JVPParams). The
// derivative rules are the layers' own (lib/nn: Backward, and ForwardJVP with
// parameter directions in Param.Tangent, batch-norm coupling included in
// BatchStats mode); this package's modules (Softmax, Scaled, AlignedModel)
// implement nn.JVPModule the same way.
// Nothing here uses finite differences (tests do, to check).
//
// # NTK (ntk.go, memplan.go)
//
// ComputeNTK computes K = J J^T blockwise after printing (NTKOptions.Log) and
// returning a memory plan (PlanNTK): the explicit strategy (all of J, one
// GEMM) or column chunks (the N backward passes repeated per chunk of
// parameter columns, K += J_c J_c^T), whichever fits NTKOptions.Budget with the
// fewest passes; an error when none fits. K is accumulated by symmetric
// rank-k updates (Dsyrk). The library sets no process-wide state: programs
// register repdyn's BLAS (blas64.Use(blas.Implementation{}), as
// lib/cmd/repdyn does) for the fast GEMM and SYRK, and may hand
// MemPlan.Peak to debug.SetMemoryLimit. KernelOf(J) for an explicit J.
// NTK.Eigen (descending), NTK.TopEigen (top-k by linalg.Lanczos, also
// matrix-free with NTKMatVec: K u = J (J^T u)), KernelDistance
// ||K_t - K_0||_F / ||K_0||_F, KernelTargetAlignment; LayerKernels and
// LayerKernelDistances split K = sum_l J_l J_l^T by layer or block (LayerOf,
// BlockOf). Dense linear algebra (SVDs, Subspace, eigen-decompositions,
// Lanczos) lives in lib/linalg.
//
// # Matrix-free estimators (krylov.go)
//
// For models whose J is too large to hold, through an Operator (J v and
// J^T u; ModelOperator): SmallestNonzeroEigen (Lanczos on K started in
// Col(K): an upper bound of lambda_min+ by interlacing and an interval from
// the Ritz residual, exact when Converged) and RandomizedDAA (a block-Krylov
// range finder: per tau an interval [Lower, Upper] for rho; Upper at
// round-off certifies y in Col(J), Lower above it certifies failure, with
// the probability of its a posteriori error estimate).
//
// # DAA (daa.go)
//
// DAA(J, y, opts) reports rank J against N, the singular values, rho =
// ||(I - U_r U_r^T) y|| / ||y|| at tau in {1e-10, 1e-8, 1e-6} with each
// cut-off's effective absolute value and round-off floor, the smallest
// kept singular value, the CMS residual ||(I - P) yhat|| / ||yhat||, and a
// verdict with its margin in decades. The floor is derived from the
// conditioning (RoundoffFloor: FloorSafety * Eps * sqrt(N) * sigma_max /
// sigma_min_kept, the ratio squared on the K path), never a fixed number:
// "holds" when rho is at its floor at every resolved tau, "fails" when it is
// above it everywhere and about constant, "tau-dependent" when rho spreads
// by orders of magnitude across tau (y leans on tiny singular directions).
// AnalyzeDAA adds the head-block
// certificate rank [H, 1] = n, with H the last hidden features obtained by
// HeadFeatures: the model (a models.Model or nn.Sequential ending in an
// nn.Linear) is run WITHOUT its final Linear, as one batch in the same mode.
// AddColumnSubset (a sufficient certificate for the full J) and
// AddExampleSubset (DAA for those examples only; a failure there is a failure
// of the whole) label what they certify. Every Check reports, besides its
// rank, sigma_min / sigma_max, the lambda_min it adds to the kernel and the
// step count R5 implies to reduce the loss by 1e-6 (R5Steps). DAAFromKernel
// gives the report from K alone when J is too large to hold: it keeps only
// eigenvalues above KernelCut * lambda_max (1e-13, well above the
// eigensolver's noise; sigma above 3.2e-7 sigma_max), and agrees with DAA on
// J in rank and verdict wherever the kept directions are resolved.
//
// # CMS (cms.go)
//
// EulerResidual(m, x, S, p, mode) = max_i ||sum_{k in S} theta_k df(x_i)/dtheta_k
// - p f(x_i)|| / ||f(x_i)||, with the sum computed exactly as the forward-mode
// derivative along theta_S. CMSAuto checks StandardCandidates: the last
// affine layer (p = 1), each Linear/Conv2d layer plus all later biases (p = 1),
// all weights (p = number of layers), a final batch-norm affine (p = 1).
// Softmax is the softmax-output non-example as a layer.
//
// # Results R1-R7 (results.go)
//
// SplitResidual (R1/R4: r = yhat - y split along Col(J); both parts
// computed directly, ||U_r^T r|| and ||(I - P) r||), PLRatio and
// PL.SetSmoothness (R5), CrossEntropyColumnInf (R2), ColumnSpaceInclusion
// (R6; models.WidenMLP builds the larger model), Sweep (R7; models.WidthOneChain
// is the width-1 chain, models.SmallMLP the small float64 MLPs);
// for C1 ("beyond NTK"): KernelDistance, FeatureDrift and Scaled (f -> alpha f,
// the lazy regime for large alpha).
//
// # Aligned training (aligned.go) and tracking (track.go)
//
// AlignedModel is f~(x) = f(x, theta) + c V phi(x), c = 1/sqrt(p) by default
// (so the curvature along V does not grow with the number of features p):
// V (zero) is a parameter from
// the start, so one optimizer serves both phases and phase 1 is the base run
// step for step; Switch freezes the snapshot (a deep copy of the first
// SnapshotLayers layers, eval-mode batch norm) and an optional frozen random
// nonlinear map (random 3x3 convolution + ReLU for images, random Linear + ReLU
// for vectors). Backward and ForwardJVP include the input path through phi
// (NoInputGradient skips it; Backward then returns a nil input gradient).
// PhiCertificate checks rank Phi = n (with its conditioning). RunAligned runs the base
// and aligned runs with lib/train under identical budgets and records both
// results and the certificate. NTKTracker (Callback) measures kernel
// distance (whole and per layer), top eigenvalues, rank and rho at every tau,
// sigma_min+ and the PL ratio on a probe subset at steps 1, 2, 4, 8, ...
// (float32 models through a float64 copy: Float64Model, ConvertAligned) and
// writes ntk_track.json next to every checkpoint.
//
// # Tests
//
// go test ./lib/theory runs the exact cases (about 15 s); TestTorchParity
// compares J and K with PyTorch (testdata/parity.py; skipped when
// /usr/bin/python3 cannot import torch). REPDYN_LONG=1 enables the ResNet-20
// NTK benchmark (REPDYN_NTK_N examples, default 512; REPDYN_TORCH_BENCH=1 also
// runs testdata/ntk_bench.py at the same thread count); `repdyn bench ntk`
// and bench/ntk_compare.sh compare it with PyTorch at 1 and 2 threads.
//
// # Example
//
//	m, _ := models.New[float64]("resnet20", models.Config{NumClasses: 10, Width: 0.25})
//	J, _ := theory.ComputeJacobian(m, x, theory.JacobianOptions{Mode: nn.Eval})
//	rep, _ := theory.DAA(J, theory.OneHot(labels, 10, 1), theory.DAAOptions{})
//	fmt.Print(rep) // rank, singular values, rho per tau, verdict, margin
//	cms, _ := theory.CMSAuto("resnet20", m, x, nn.Eval)
package theory
