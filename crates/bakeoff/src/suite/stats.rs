//! Statistics over trials: median, coefficient of variation, and a percentile
//! bootstrap 95% confidence interval of the median with a fixed-seed RNG, so the
//! same samples always give the same interval.

use crate::model::Estimate;

/// A cell is noisy when its coefficient of variation exceeds this.
pub const NOISY_CV: f64 = 0.10;
/// Bootstrap resamples; 2,000 keeps the 2.5/97.5 percentiles stable to a few ‰.
pub const BOOTSTRAP_RESAMPLES: usize = 2_000;
const SEED: u64 = 0x6261_6b65_6f66_6621; // "bakeoff!"

/// Median of the samples (mean of the two middle values for an even count).
/// `None` for no samples.
pub fn median(samples: &[f64]) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut v = samples.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

pub fn mean(samples: &[f64]) -> Option<f64> {
    if samples.is_empty() {
        None
    } else {
        Some(samples.iter().sum::<f64>() / samples.len() as f64)
    }
}

/// Sample standard deviation (n − 1) over the mean; 0 for fewer than two samples
/// or a zero mean.
pub fn cv(samples: &[f64]) -> f64 {
    let n = samples.len();
    let Some(m) = mean(samples) else { return 0.0 };
    if n < 2 || m == 0.0 {
        return 0.0;
    }
    let var = samples.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n as f64 - 1.0);
    var.sqrt() / m.abs()
}

/// Percentile bootstrap 95% CI of the median. One sample (or identical samples)
/// gives the degenerate interval [x, x].
pub fn bootstrap_ci(samples: &[f64]) -> Option<(f64, f64)> {
    let n = samples.len();
    if n == 0 {
        return None;
    }
    if n == 1 {
        return Some((samples[0], samples[0]));
    }
    let mut rng = SplitMix64(SEED);
    let mut medians = Vec::with_capacity(BOOTSTRAP_RESAMPLES);
    let mut resample = vec![0.0; n];
    for _ in 0..BOOTSTRAP_RESAMPLES {
        for slot in resample.iter_mut() {
            *slot = samples[rng.below(n as u64) as usize];
        }
        medians.push(median(&resample).unwrap_or(0.0));
    }
    medians.sort_by(f64::total_cmp);
    Some((
        quantile_sorted(&medians, 0.025),
        quantile_sorted(&medians, 0.975),
    ))
}

/// Linear-interpolated quantile of sorted data.
fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let frac = pos - lo as f64;
    sorted[lo] + (sorted[hi] - sorted[lo]) * frac
}

/// Median, bootstrap CI, CV and the noisy flag. `None` for no samples.
pub fn estimate(samples: &[f64]) -> Option<Estimate> {
    let median = median(samples)?;
    let (ci_low, ci_high) = bootstrap_ci(samples)?;
    let cv = cv(samples);
    Some(Estimate {
        median,
        ci_low,
        ci_high,
        cv,
        n: samples.len() as u32,
        noisy: cv > NOISY_CV,
    })
}

/// SplitMix64: tiny, deterministic across platforms and crate versions.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in 0..n (multiply-shift; the bias is negligible for small n).
    fn below(&mut self, n: u64) -> u64 {
        ((self.next() as u128 * n as u128) >> 64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_odd_even_empty() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn cv_on_fixed_samples() {
        // mean 10, sample sd = sqrt(((−2)² + 0 + 2²)/2) = 2 → cv 0.2
        assert!((cv(&[8.0, 10.0, 12.0]) - 0.2).abs() < 1e-12);
        assert_eq!(cv(&[5.0]), 0.0);
        assert_eq!(cv(&[0.0, 0.0]), 0.0);
    }

    #[test]
    fn single_sample_gives_degenerate_interval() {
        let e = estimate(&[1234.5]).unwrap();
        assert_eq!(
            (e.median, e.ci_low, e.ci_high, e.n),
            (1234.5, 1234.5, 1234.5, 1)
        );
        assert!(!e.noisy);
        assert!(estimate(&[]).is_none());
    }

    #[test]
    fn quiet_samples_are_not_noisy_and_ci_brackets_median() {
        let s = [1000.0, 1010.0, 990.0, 1005.0, 995.0];
        let e = estimate(&s).unwrap();
        assert_eq!(e.median, 1000.0);
        assert!(e.ci_low <= e.median && e.median <= e.ci_high, "{e:?}");
        assert!(e.ci_low >= 990.0 && e.ci_high <= 1010.0, "{e:?}");
        assert!(e.cv < 0.02 && !e.noisy, "{e:?}");
    }

    #[test]
    fn spread_samples_are_noisy_with_a_wide_interval() {
        let s = [700.0, 1000.0, 1300.0];
        let e = estimate(&s).unwrap();
        assert!(e.noisy && (e.cv - 0.3).abs() < 1e-9, "{e:?}");
        // With three samples the bootstrap medians are drawn from {700, 1000, 1300}.
        assert_eq!(e.ci_low, 700.0);
        assert_eq!(e.ci_high, 1300.0);
    }

    #[test]
    fn bootstrap_is_deterministic() {
        let s = [12.0, 15.0, 11.0, 19.0, 14.0, 13.0, 16.0, 30.0];
        assert_eq!(bootstrap_ci(&s), bootstrap_ci(&s));
        let (lo, hi) = bootstrap_ci(&s).unwrap();
        assert!(lo >= 11.0 && hi <= 30.0 && lo < hi);
    }
}
