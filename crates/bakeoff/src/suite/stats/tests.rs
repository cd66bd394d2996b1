//! Fixed samples and seeded simulations: the interval's coverage and the verdict
//! test's false-difference rate are checked, not assumed.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

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
fn one_sample_is_single_with_no_interval() {
    let e = estimate(&[1234.5]).unwrap();
    assert_eq!(e.interval, Interval::Single);
    assert_eq!(
        (e.center(), e.ci_low, e.ci_high, e.n),
        (1234.5, 1234.5, 1234.5, 1)
    );
    assert!(!e.noisy);
    assert!(estimate(&[]).is_none());
}

#[test]
fn two_to_four_samples_give_the_range_around_the_median() {
    let e = estimate(&[700.0, 1300.0, 1000.0]).unwrap();
    assert_eq!(e.interval, Interval::Range);
    assert_eq!((e.center(), e.ci_low, e.ci_high), (1000.0, 700.0, 1300.0));
    assert!(e.noisy && (e.cv - 0.3).abs() < 1e-9, "{e:?}");
    let e = estimate(&[0.0, 900.0, 1000.0, 1100.0]).unwrap();
    assert_eq!(
        (e.interval, e.center(), e.ci_low, e.n),
        (Interval::Range, 950.0, 0.0, 4)
    );
}

#[test]
fn five_samples_give_a_t_interval_around_the_mean() {
    // mean 1000, sd = sqrt(250) ≈ 15.81; t(0.975, 4) = 2.776445
    let s = [980.0, 990.0, 1000.0, 1010.0, 1020.0];
    let e = estimate(&s).unwrap();
    assert_eq!(e.interval, Interval::TInterval95);
    assert_eq!(e.center(), 1000.0);
    let half = 2.776_445 * 250f64.sqrt() / 5f64.sqrt();
    assert!((e.ci_high - 1000.0 - half).abs() < 1e-3, "{e:?}");
    assert!((1000.0 - e.ci_low - half).abs() < 1e-3, "{e:?}");
}

#[test]
fn t_quantiles_match_the_published_table() {
    // Two-sided 95% critical values, from any statistics textbook.
    for (df, t) in [
        (1.0, 12.706_205),
        (2.0, 4.302_653),
        (4.0, 2.776_445),
        (9.0, 2.262_157),
        (30.0, 2.042_272),
        (1000.0, 1.962_339),
    ] {
        let got = t_quantile(0.975, df);
        assert!((got - t).abs() < 1e-5, "df {df}: {got} vs {t}");
        assert!((t_quantile(0.025, df) + t).abs() < 1e-5);
    }
    // Fractional degrees of freedom sit between their neighbours.
    let mid = t_quantile(0.975, 4.5);
    assert!(mid < 2.776_445 && mid > 2.570_582, "{mid}");
}

#[test]
fn welch_on_fixed_samples() {
    let a = estimate(&[10.0, 11.0, 12.0, 13.0, 14.0]).unwrap();
    let b = estimate(&[20.0, 21.0, 22.0, 23.0, 24.0]).unwrap();
    // t = −10 / sqrt(2.5/5 · 2) = −10, df = 8 → p ≈ 8.5e-6
    let p = welch_p(&a, &b).unwrap();
    assert!(p > 1e-6 && p < 1e-5, "{p}");
    assert!((welch_p(&a, &a).unwrap() - 1.0).abs() < 1e-12);
    // One side without variance: the other's variance carries the test.
    let c = estimate(&[12.0, 12.0, 12.0]).unwrap();
    let p = welch_p(&a, &c).unwrap();
    assert!(p > 0.9, "{p}");
    assert_eq!(welch_p(&c, &c), Some(1.0));
    assert_eq!(welch_p(&estimate(&[1.0]).unwrap(), &a), None);
    assert_eq!(
        welch_p(
            &estimate(&[0.0, 0.0]).unwrap(),
            &estimate(&[0.0, 0.0]).unwrap()
        ),
        Some(1.0)
    );
}

/// Identical trials are one grid value, not an exact one: two trials at 1,000
/// and two at 1,030 (one standard step apart) are no clear difference; a gap
/// of many steps still is.
#[test]
fn identical_trials_keep_the_grid_step_as_their_spread() {
    let e = |v: f64| estimate(&[v, v]).unwrap();
    let p = welch_p(&e(1000.0), &e(1030.0)).unwrap();
    assert!(p > ALPHA, "{p}");
    let p = welch_p(&e(1000.0), &e(1300.0)).unwrap();
    assert!(p < ALPHA, "{p}");
}

#[test]
fn holm_steps_down_from_the_smallest_p() {
    // m = 3: 0.01 < 0.05/3, 0.02 < 0.05/2, 0.04 < 0.05/1: all three.
    assert_eq!(holm(&[0.04, 0.01, 0.02], 0.05), [true, true, true]);
    // 0.02 ≥ 0.05/3 stops the first step: none, though each is below 5%.
    assert_eq!(holm(&[0.02, 0.03, 0.04], 0.05), [false, false, false]);
    assert_eq!(holm(&[0.001, 0.5, 0.02], 0.05), [true, false, true]);
    assert!(holm(&[], 0.05).is_empty());
}

/// The floor is the coarsest step any profile bisects to.
#[test]
fn the_floor_follows_the_profiles_resolution() {
    use crate::model::Profile;
    use crate::suite::plan::Phases;
    let coarsest = Profile::ALL
        .into_iter()
        .map(|p| Phases::for_profile(p).resolution)
        .fold(0.0, f64::max);
    assert_eq!(SEARCH_RESOLUTION_MAX, coarsest);
}

/// A mildly right-skewed capacity-like sample: log-normal with σ = 0.25.
fn lognormal(rng: &mut StdRng, mean_log: f64) -> f64 {
    (mean_log + 0.25 * normal(rng)).exp()
}

/// Standard normal by Box–Muller (rand without rand_distr).
fn normal(rng: &mut StdRng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

#[test]
fn t_interval_coverage_is_what_it_claims() {
    const RUNS: usize = 20_000;
    let mut rng = StdRng::seed_from_u64(0x6261_6b65);
    // The log-normal's true mean is exp(μ + σ²/2).
    let skewed_mean = (7.0f64 + 0.25 * 0.25 / 2.0).exp();
    for n in [5usize, 10] {
        for skewed in [false, true] {
            let mut covered = 0;
            for _ in 0..RUNS {
                let s: Vec<f64> = (0..n)
                    .map(|_| {
                        if skewed {
                            lognormal(&mut rng, 7.0)
                        } else {
                            1000.0 + 100.0 * normal(&mut rng)
                        }
                    })
                    .collect();
                let e = estimate(&s).unwrap();
                assert_eq!(e.interval, Interval::TInterval95);
                let truth = if skewed { skewed_mean } else { 1000.0 };
                if e.ci_low <= truth && truth <= e.ci_high {
                    covered += 1;
                }
            }
            let coverage = covered as f64 / RUNS as f64;
            eprintln!("t-interval coverage, n {n}, skewed {skewed}: {coverage:.4}");
            assert!(
                (coverage - 0.95).abs() <= 0.015,
                "n {n}, skewed {skewed}: coverage {coverage:.4}"
            );
        }
    }
}

#[test]
fn welch_on_identical_distributions_rarely_finds_a_difference() {
    const PAIRS: usize = 20_000;
    let mut rng = StdRng::seed_from_u64(0x7765_6c63);
    for n in [3usize, 5] {
        for skewed in [false, true] {
            let mut false_differences = 0;
            for _ in 0..PAIRS {
                let draw = |rng: &mut StdRng| -> Estimate {
                    let s: Vec<f64> = (0..n)
                        .map(|_| {
                            if skewed {
                                lognormal(rng, 7.0)
                            } else {
                                1000.0 + 100.0 * normal(rng)
                            }
                        })
                        .collect();
                    estimate(&s).unwrap()
                };
                let (a, b) = (draw(&mut rng), draw(&mut rng));
                if welch_p(&a, &b).unwrap() < ALPHA {
                    false_differences += 1;
                }
            }
            let rate = false_differences as f64 / PAIRS as f64;
            eprintln!("Welch false differences, n {n} vs {n}, skewed {skewed}: {rate:.4}");
            // Welch is slightly conservative for equal variances (3.2–4.5% here).
            assert!(rate <= ALPHA, "n {n}, skewed {skewed}: {rate:.4}");
            assert!(rate > 0.02, "a test that never fires is no test: {rate:.4}");
        }
    }
}

/// Trials as the search returns them: the last passing rate of a geometric
/// grid of one resolution's steps, under a capacity that moves a little between
/// trials. Many trials are the same grid value; identical capacities must still
/// rarely look different (the floor), at the standard and quick steps.
#[test]
fn grid_valued_trials_rarely_find_a_difference() {
    const PAIRS: usize = 20_000;
    let mut rng = StdRng::seed_from_u64(0x6772_6964);
    for resolution in [0.03, SEARCH_RESOLUTION_MAX] {
        for n in [2usize, 3] {
            let mut false_differences = 0;
            for _ in 0..PAIRS {
                // Where the true capacity sits on the grid is anyone's guess.
                let capacity = 1000.0 * (1.0 + resolution).powf(rng.random::<f64>());
                let step = (1.0 + resolution).ln();
                let mut draw = || -> Estimate {
                    let s: Vec<f64> = (0..n)
                        .map(|_| {
                            let c = capacity * (1.0 + 0.02 * normal(&mut rng));
                            ((c.ln() / step).floor() * step).exp()
                        })
                        .collect();
                    estimate(&s).unwrap()
                };
                let (a, b) = (draw(), draw());
                if welch_p(&a, &b).unwrap() < ALPHA {
                    false_differences += 1;
                }
            }
            let rate = false_differences as f64 / PAIRS as f64;
            eprintln!("grid {resolution}, n {n} vs {n}: false differences {rate:.4}");
            assert!(rate <= ALPHA, "grid {resolution}, n {n}: {rate:.4}");
        }
    }
}
