# Generates the scipy-written MAT v5 fixtures used by TestSVHNScipyFixtures:
#   python3 gen_mat.py   (needs numpy and scipy; python3-scipy on Debian)
# X[y, x, c, i] = (y + 2x + 5c + 7i) % 256 (uint8, 32x32x3x11, as SVHN),
# y = i % 10 + 1 (so image 9 has label 10, meaning digit 0).
import numpy as np
import scipy.io

n = 11
yy, xx, cc, ii = np.meshgrid(np.arange(32), np.arange(32), np.arange(3), np.arange(n), indexing="ij")
X = ((yy + 2 * xx + 5 * cc + 7 * ii) % 256).astype(np.uint8)
y = (np.arange(n) % 10 + 1).reshape(n, 1)
scipy.io.savemat("svhn_scipy_compressed.mat", {"X": X, "y": y.astype(np.float64)}, do_compression=True)
scipy.io.savemat("svhn_scipy_plain.mat", {"X": X, "y": y.astype(np.uint8)}, do_compression=False)
