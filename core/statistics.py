"""Statistics of pixel values: mergeable per-band moments (count, mean and sum of squared
deviations, Chan et al.) and the precision of a mean over a number of pixel pairs.

Tiles are merged in a fixed order, so the result does not depend on the number of threads.
Accumulation is always float64 with integer counts, whatever the calculation dtype.
"""
import numpy as np

# Pixel pairs beyond which an overlap's mean is no more certain (see overlap_precision).
SYSTEMATIC_PAIRS = 10000.0


def overlap_precision(pixel_pairs):
    """The weight of a comparison of two means over ``pixel_pairs`` common pixels (an overlap in
    the set anchoring, a block in the local surfaces): one over the standard error of a mean,
    in units of the scene's spread, ``1 / sqrt(1 / n + 1 / SYSTEMATIC_PAIRS)``. The first term
    is the sampling error of n pixel pairs; the second stands for what differs systematically
    between two images whatever the overlap's size (registration, view angle, time), so that
    beyond some ten thousand pixels an overlap's mean is not more certain. The reference weighs
    rows by n itself: one overlap of 10^8 pixels outvoted one of 3 by 10^15 in the objective,
    which also ruined the precision of the normal equations."""
    return 1.0 / np.sqrt(1.0 / pixel_pairs + 1.0 / SYSTEMATIC_PAIRS)


class Moments:
    """Count, mean and M2 for each band."""

    def __init__(self, bands):
        self.count = np.zeros(bands, dtype=np.int64)
        self.mean = np.zeros(bands, dtype=np.float64)
        self.m2 = np.zeros(bands, dtype=np.float64)

    @classmethod
    def of_tile(cls, data, valid):
        """Moments of the valid values of a (bands, rows, cols) tile."""
        moments = cls(data.shape[0])
        for band in range(data.shape[0]):
            keep = valid[band]
            count = int(np.count_nonzero(keep))
            if count:
                values = data[band]
                mean = np.sum(values, where=keep, dtype=np.float64) / count
                deviation = np.subtract(values, mean, dtype=np.float64)
                moments.count[band] = count
                moments.mean[band] = mean
                moments.m2[band] = np.sum(np.square(deviation, out=deviation), where=keep)
        return moments

    def merge(self, other):
        """Add another set of moments into this one."""
        total = self.count + other.count
        safe_total = np.where(total > 0, total, 1)
        delta = other.mean - self.mean
        self.mean = self.mean + delta * other.count / safe_total
        self.m2 = self.m2 + other.m2 + delta * delta * self.count * other.count / safe_total
        self.count = total
        return self

    @property
    def std(self):
        """Population standard deviation (ddof=0); 0 where there is no value."""
        return np.sqrt(np.maximum(self.m2, 0.0) / np.where(self.count > 0, self.count, 1))

