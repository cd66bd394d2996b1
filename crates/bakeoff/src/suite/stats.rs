//! Statistics over trials: the estimate of a cell's value with an interval that
//! claims no more than it has, and Welch's t-test for verdicts.
//!
//! - 1 sample: the value alone ([`Interval::Single`]), indicative only.
//! - 2–4 samples: the range [min, max] around the median ([`Interval::Range`]);
//!   with so few samples no interval has a coverage worth stating.
//! - 5 samples or more: mean ± t(0.975, n − 1) · sd / √n ([`Interval::TInterval95`]).
//!
//! Welch's test floors each side's sd at the search's grid step (see
//! [`grid_sd_floor`]): trials on the same grid value are not exact.
//!
//! The Student t distribution is computed exactly (regularized incomplete beta),
//! so Welch's fractional degrees of freedom need no table.

use crate::model::{Estimate, Interval};

/// A cell is noisy when its coefficient of variation exceeds this.
pub const NOISY_CV: f64 = 0.10;
/// From this many samples the estimate carries a 95% t-interval.
pub const T_INTERVAL_MIN_N: usize = 5;
/// Two-sided significance level of the verdict test.
pub const ALPHA: f64 = 0.05;

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

/// Sample standard deviation (n − 1); 0 for fewer than two samples.
pub fn sd(samples: &[f64]) -> f64 {
    let n = samples.len();
    let Some(m) = mean(samples) else { return 0.0 };
    if n < 2 {
        return 0.0;
    }
    (samples.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n as f64 - 1.0)).sqrt()
}

/// Sample standard deviation over the mean; 0 for fewer than two samples or a
/// zero mean.
pub fn cv(samples: &[f64]) -> f64 {
    match mean(samples) {
        Some(m) if samples.len() >= 2 && m != 0.0 => sd(samples) / m.abs(),
        _ => 0.0,
    }
}

/// The estimate over the samples, its interval chosen by their number (see the
/// module docs). `None` for no samples.
pub fn estimate(samples: &[f64]) -> Option<Estimate> {
    let median = median(samples)?;
    let mean = mean(samples)?;
    let n = samples.len();
    let sd = sd(samples);
    let cv = cv(samples);
    let (interval, ci_low, ci_high) = match n {
        1 => (Interval::Single, samples[0], samples[0]),
        n if n < T_INTERVAL_MIN_N => {
            let lo = samples.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = samples.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (Interval::Range, lo, hi)
        }
        n => {
            let half = t_quantile(0.975, n as f64 - 1.0) * sd / (n as f64).sqrt();
            (Interval::TInterval95, mean - half, mean + half)
        }
    };
    Some(Estimate {
        median,
        mean,
        sd,
        ci_low,
        ci_high,
        cv,
        n: n as u32,
        noisy: cv > NOISY_CV,
        interval,
    })
}

/// The coarsest search resolution of any profile (quick's 8%): a trial's
/// capacity is the last passing rate of a bisection that stops when the failing
/// rate is within this step above it, so it lies somewhere in one grid step
/// below the true capacity. Trials often land on the same grid value.
pub const SEARCH_RESOLUTION_MAX: f64 = 0.08;

/// The smallest standard deviation the test grants a side, relative to its
/// mean: that of a value spread evenly over one search step (step ÷ √12),
/// at the coarsest step, since an estimate does not record its profile and
/// `compare` may pair runs of different profiles. Identical trials thus say
/// "within one grid step", not "no spread at all".
pub fn grid_sd_floor(mean: f64) -> f64 {
    mean.abs() * SEARCH_RESOLUTION_MAX / 12f64.sqrt()
}

/// Welch's two-sided t-test of equal means from two estimates' summaries, each
/// side's sd floored at [`grid_sd_floor`]. `None` when either side has fewer
/// than two samples. Both means zero (so no spread at all): p = 1.
pub fn welch_p(a: &Estimate, b: &Estimate) -> Option<f64> {
    if a.n < 2 || b.n < 2 {
        return None;
    }
    let (na, nb) = (a.n as f64, b.n as f64);
    let sd = |e: &Estimate| e.sd.max(grid_sd_floor(e.mean));
    let (va, vb) = (sd(a).powi(2) / na, sd(b).powi(2) / nb);
    let se2 = va + vb;
    let diff = a.mean - b.mean;
    if se2.is_nan() || se2 <= 0.0 {
        return Some(if diff == 0.0 { 1.0 } else { 0.0 });
    }
    let t = diff / se2.sqrt();
    // Welch–Satterthwaite degrees of freedom; a zero-variance side adds nothing.
    let mut den = 0.0;
    if va > 0.0 {
        den += va * va / (na - 1.0);
    }
    if vb > 0.0 {
        den += vb * vb / (nb - 1.0);
    }
    let df = se2 * se2 / den;
    Some(2.0 * t_sf(t.abs(), df))
}

/// Holm's step-down correction: which of `p`'s hypotheses are rejected with
/// the family-wise error rate held at `alpha`. Sorted ascending, the k-th
/// smallest (from 0) is rejected when it and every smaller one are below
/// alpha ÷ (m − k).
pub fn holm(p: &[f64], alpha: f64) -> Vec<bool> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut rejected = vec![false; m];
    for (k, &i) in order.iter().enumerate() {
        if p[i] >= alpha / (m - k) as f64 {
            break;
        }
        rejected[i] = true;
    }
    rejected
}

/// Upper tail P(T > t) of Student's t with `df` degrees of freedom, t ≥ 0.
pub fn t_sf(t: f64, df: f64) -> f64 {
    if t.is_infinite() {
        return 0.0;
    }
    0.5 * inc_beta(df / 2.0, 0.5, df / (df + t * t))
}

/// The q-quantile of Student's t with `df` degrees of freedom (0 < q < 1), by
/// bisection on the exact upper tail over [0, 1e6] (by symmetry for q < 0.5):
/// 80 halvings reach ~1e-18, far below f64 resolution at these magnitudes.
pub fn t_quantile(q: f64, df: f64) -> f64 {
    if q < 0.5 {
        return -t_quantile(1.0 - q, df);
    }
    let tail = 1.0 - q;
    let (mut lo, mut hi) = (0.0, 1e6);
    for _ in 0..80 {
        let mid = 0.5 * (lo + hi);
        if t_sf(mid, df) > tail {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Regularized incomplete beta I_x(a, b), by the continued fraction (modified
/// Lentz), using the symmetry I_x(a, b) = 1 − I_{1−x}(b, a) where it converges
/// faster.
fn inc_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * beta_cf(a, b, x) / a
    } else {
        1.0 - ln_front.exp() * beta_cf(b, a, 1.0 - x) / b
    }
}

fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut c = 1.0;
    let mut d = 1.0 - (a + b) * x / (a + 1.0);
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=300 {
        let m = m as f64;
        let m2 = 2.0 * m;
        for aa in [
            m * (b - m) * x / ((a + m2 - 1.0) * (a + m2)),
            -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0)),
        ] {
            d = 1.0 + aa * d;
            if d.abs() < TINY {
                d = TINY;
            }
            c = 1.0 + aa / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            h *= d * c;
            if (d * c - 1.0).abs() < 1e-15 {
                return h;
            }
        }
    }
    h
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; ~15 significant digits).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1−x) = π / sin(πx).
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

#[cfg(test)]
mod tests;
