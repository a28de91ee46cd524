// Package gemm is repdyn's matrix-multiply engine: packed, cache-blocked,
// multi-threaded C = alpha*op(A)*op(B) + beta*C for float32 and float64,
// row-major, with assembly micro-kernels for AVX-512 and AVX2+FMA on amd64
// and a portable Go micro-kernel everywhere else. lib/blas wraps it behind
// gonum's BLAS interfaces; lib/conv uses the packed-operand API below to
// build implicit-GEMM convolutions without materialising im2col.
//
// # Structure (BLIS-style, roles of A and B swapped for row-major C)
//
// The micro-kernel computes an MR×NR tile of C from an MR-row panel of packed
// A (broadcast one element at a time) and a kc×NR panel of B (NR/lanes vector
// loads per k). The loops around it are
//
//	for each (row block, column block [j0, j0+nc))  (parallel work items)
//	  for each k block [k0, k0+kc)                   (in order; never split across threads)
//	    pack the kc×nc block of B                    (lives in L2)
//	    for each MR-row panel of A                   (MR×kc, lives in L1)
//	      for each NR-column panel of B
//	        micro-kernel (C tile = alpha*acc + beta*C; beta = 1 after the first k block)
//
// Work items are (row block, column block) pairs chosen from the shape alone;
// every item runs all k blocks in order, so every element of C is computed
// by the same sequence of floating-point operations whatever the thread
// count: results are bit-identical for any parallel.Threads().
//
// Tile sizes (MR×NR), by level and dtype (see Tile):
//
//	level     float32   float64
//	avx512    8×32      8×16     (zmm: 16 accumulators, NR = 2 vectors)
//	avx2+fma  6×16      6×8      (ymm: 12 accumulators, NR = 2 vectors)
//	neon      8×12      8×6      (arm64: 24 accumulators, NR = 3 vectors)
//	generic   4×4       4×4      (portable Go)
//
// The AVX2 kernels run packed operands 4 k steps per loop pass with
// displacement addressing (98% of the FMA peak on L1-resident panels); the
// first row panel of every block reads B in place and writes the packed
// block as it computes (no separate packing pass); a partial last row panel
// runs an r×NR kernel (r = 1..5) on C directly, which also lets A be read
// in place for any M. The column block is sized to half the L2 cache
// (cpu.L2, read at start-up). The NEON kernels read packed A only.
//
// The assembly levels also have a half-width kernel (MR×NR/2) for a last
// column panel that is at most half full, so N = 16 (float32, AVX-512) does
// not waste half of every FMA. Partial tiles go through a scratch tile.
//
// Gemm picks, from the shape alone:
//   - packed A and packed B (the general case);
//   - A read in place (no packing pass) when op(B) is a single column panel
//     (N <= NR) and M is a multiple of MR: each A element is used once;
//   - on AVX-512, float32, B not transposed, M a multiple of 16 up to 64
//     (the ResNet-20 convolutions): a 16×16 kernel that reads B in place,
//     one 64-byte line per k step, with software prefetch; B is never packed.
//
// Packing a row-major panel that must be transposed (A not transposed, or
// B transposed) uses AVX 8×8 (float32) / 4×4 (float64) register transposes.
//
// KC is 256 for every level (k blocks are balanced: K is cut into
// ceil(K/256) blocks of equal size, rounded up). The level is read from
// cpu.Selected when an operand is packed (PackedA) or when Gemm runs.
//
// # Packed layouts
//
// Packed A (PackedA, MR rows per panel, rows zero-padded to a multiple of MR,
// Mp = ceil(M/MR)*MR):
//
//	k block b covers [k0, k0+kc); it starts at offset k0*Mp;
//	inside it, panel i (rows i*MR .. i*MR+MR-1) starts at i*MR*kc;
//	inside a panel, element (row i*MR+r, column k0+p) is at p*MR + r.
//
// Packed B (PackB, NR columns per panel, columns zero-padded to a multiple of
// NR), for one k block of kc rows and nc columns:
//
//	panel j (columns j*NR .. j*NR+NR-1) starts at j*NR*kc;
//	inside a panel, element (row p, column j*NR+c) is at p*NR + c.
//
// # API for implicit GEMM (conv)
//
//	var pa gemm.PackedA[float32]
//	pa.Pack(false, cout, cin*9, weights, cin*9)   // once; reuse across calls
//	// (b) B row-major (e.g. one image's im2col columns), B packed internally:
//	gemm.GemmPackedA(&pa, false, n, 1, b, ldb, 0, c, ldc)
//	// (c) B already packed by the caller, one k block at a time:
//	for blk := 0; blk < pa.KBlocks(); blk++ {
//		k0, kc := pa.KBlock(blk)
//		// write packed B for rows [k0,k0+kc) and columns [j0,j0+nc) into bp
//		// (layout above; pa.PackB does it from a row-major matrix)
//		beta := T(1); if blk == 0 { beta = beta0 }
//		gemm.MacroKernel(&pa, blk, 0, pa.M(), bp, nc, alpha, beta, c[j0:], ldc)
//	}
//
// All functions are safe for concurrent use on distinct outputs; a PackedA
// may be shared read-only by many goroutines once packed. Gemm and
// GemmPackedA run on up to parallel.Threads() goroutines and do not allocate
// in steady state (pack buffers come from pools). MacroKernel runs on the
// calling goroutine only, so that a caller can parallelise over its own
// column blocks.
package gemm
