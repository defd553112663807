"""Cross-check for tools/internal/metrics: BasicSR's Y-channel PSNR/SSIM in plain numpy.

    /usr/bin/python3 tools/train/metrics_crosscheck.py

Re-implements BasicSR (basicsr/metrics/psnr_ssim.py + utils/color_util.py,
test_y_channel=True, crop_border=0) without cv2/scipy: to_y_channel (float32
/255, np.dot with the BGR weights + 16, /255, astype float32, *255), PSNR on
float64, and _ssim with cv2.getGaussianKernel(11, 1.5) and cv2.filter2D
cropped by 5 pixels (written here as an explicit 'valid' 2-D correlation).

The test images are integer formulas that tools/internal/metrics/metrics_test.go
builds identically; the printed values are hard-coded there.
"""
import numpy as np

W, H = 48, 32


def pair():
    yy, xx = np.mgrid[0:H, 0:W]
    a = np.zeros((H, W, 3), np.int64)
    b = np.zeros((H, W, 3), np.int64)
    for c in range(3):
        a[..., c] = (xx * 5 + yy * 3 + c * 40 + (xx * yy) % 17) % 256
        b[..., c] = np.clip(a[..., c] + (xx * 7 + yy * 11 + c * 3) % 21 - 10, 0, 255)
    return a.astype(np.uint8), b.astype(np.uint8)


def to_y_channel(rgb_u8):
    img = rgb_u8.astype(np.float32) / 255.0
    bgr = img[..., ::-1]
    y = np.dot(bgr, [24.966, 128.553, 65.481]) + 16.0
    y = (y / 255.0).astype(np.float32)
    return (y * 255.0).astype(np.float64)


def psnr(a, b):
    mse = np.mean((to_y_channel(a) - to_y_channel(b)) ** 2)
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0 * 255.0 / mse)


def gaussian_kernel(n=11, sigma=1.5):
    k = np.exp(-((np.arange(n) - n // 2) ** 2) / (2 * sigma * sigma))
    return k / k.sum()


def filter_valid(img, win):
    n = win.shape[0]
    h, w = img.shape
    out = np.zeros((h - n + 1, w - n + 1))
    for i in range(n):
        for j in range(n):
            out += win[i, j] * img[i:i + h - n + 1, j:j + w - n + 1]
    return out


def ssim(a, b):
    x, y = to_y_channel(a), to_y_channel(b)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    k = gaussian_kernel()
    win = np.outer(k, k)
    mu1, mu2 = filter_valid(x, win), filter_valid(y, win)
    s1 = filter_valid(x * x, win) - mu1 ** 2
    s2 = filter_valid(y * y, win) - mu2 ** 2
    s12 = filter_valid(x * y, win) - mu1 * mu2
    m = ((2 * mu1 * mu2 + c1) * (2 * s12 + c2)) / ((mu1 ** 2 + mu2 ** 2 + c1) * (s1 + s2 + c2))
    return m.mean()


if __name__ == "__main__":
    a, b = pair()
    print("numpy", np.__version__)
    print("pair 48x32: PSNR %.10f  SSIM %.12f" % (psnr(a, b), ssim(a, b)))
    g1 = np.full((16, 16, 3), 100, np.uint8)
    g2 = np.full((16, 16, 3), 110, np.uint8)
    print("gray 100 vs 110: PSNR %.10f  SSIM %.12f" % (psnr(g1, g2), ssim(g1, g2)))
    print("identical: PSNR %s  SSIM %.12f" % (psnr(a, a), ssim(a, a)))
