//! Checks of the endpoints without a database: `/plaintext`, `/json`, `/io`
//! (against the upstream's call counter) and `/cpu` (against a Rust prime count).

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{Kind, Probe, VerifyContext};

pub(super) async fn plaintext(p: &mut Probe<'_>) {
    let path = "/plaintext";
    if let Some(resp) = p.get(path, 200, Kind::Text).await {
        if resp.body != b"Hello, World!" {
            p.fail(
                path,
                "body `Hello, World!`",
                format!("`{}`", resp.body_text()),
            );
        }
    }
}

pub(super) async fn json(p: &mut Probe<'_>) {
    let path = "/json";
    if let Some((_, v)) = p.get_json(path, 200).await {
        let want = json!({"message": "Hello, World!"});
        if v != want {
            p.fail(path, want, v);
        }
    }
}

/// Delays asked of `/io`: two different values so a hard-coded answer fails,
/// and a repeat so an answer cached per `ms` fails (its seq is not new).
const IO_DELAYS_MS: [u64; 3] = [20, 35, 20];

pub(super) async fn io(p: &mut Probe<'_>, ctx: &VerifyContext<'_>) {
    let before = ctx.upstream.calls();
    let mut last_seq = before;
    let mut made = 0u64;
    for ms in IO_DELAYS_MS {
        let path = format!("/io?ms={ms}");
        if p.is_dead() {
            break;
        }
        let started = Instant::now();
        made += 1;
        let Some((_, v)) = p.get_json(&path, 200).await else {
            continue;
        };
        let elapsed = started.elapsed();
        let now = ctx.upstream.calls();
        match io_seq(&v, ms) {
            Err(e) => p.fail(&path, format!("{{\"ms\":{ms},\"seq\":S}} ({e})"), &v),
            Ok(seq) => {
                if seq <= last_seq || seq > now {
                    let expected = if now > last_seq {
                        format!(
                            "a seq the upstream issued during this request ({}..={now})",
                            last_seq + 1
                        )
                    } else {
                        "a seq the upstream issued during this request (it received no call)"
                            .to_string()
                    };
                    p.fail(
                        &path,
                        expected,
                        format!("seq {seq}: /io did not return the upstream's answer"),
                    );
                } else {
                    last_seq = seq;
                }
            }
        }
        if elapsed < Duration::from_millis(ms) {
            p.fail(
                &path,
                format!("at least {ms} ms (the upstream's delay)"),
                format!("an answer after {elapsed:?}"),
            );
        }
    }
    let calls = ctx.upstream.calls() - before;
    if calls != made {
        p.reasons.push(format!(
            "io: expected the upstream to receive exactly {made} /delay calls (one per /io request), it received {calls}"
        ));
    }
}

/// The `seq` of an `/io` answer that must be exactly `{"ms":ms,"seq":S}`.
fn io_seq(v: &Value, ms: u64) -> Result<u64, String> {
    let obj = v.as_object().ok_or("not an object")?;
    if obj.len() != 2 {
        return Err(format!("{} keys instead of 2", obj.len()));
    }
    if obj.get("ms").and_then(Value::as_u64) != Some(ms) {
        return Err(format!("ms must be {ms}"));
    }
    obj.get("seq")
        .and_then(Value::as_u64)
        .ok_or_else(|| "seq must be a non-negative integer".to_string())
}

/// `n` the random `/cpu` case is drawn from.
const CPU_RANDOM_N: std::ops::Range<u64> = 2..50_000;

/// Fixed `/cpu` cases, `(query, n answered, primes)`. The primes 2 and 7919
/// catch a count of primes *below* n (random draws are rarely prime); 0 and
/// `foo` check clamping and the default.
const CPU_CASES: [(&str, u64, u64); 7] = [
    ("n=10", 10, 4),
    ("n=2", 2, 1),
    ("n=7919", 7919, 1000),
    ("n=10000", 10_000, 1229),
    ("n=0", 1, 0),
    ("n=foo", 10_000, 1229),
    ("", 10_000, 1229),
];

pub(super) async fn cpu(p: &mut Probe<'_>) {
    let span = (CPU_RANDOM_N.end - CPU_RANDOM_N.start) as u32;
    let random_n = CPU_RANDOM_N.start + u64::from(bakeoff_load::rng::Rng::unseeded().below(span));
    let mut cases: Vec<(String, u64, u64)> = CPU_CASES
        .iter()
        .map(|&(q, n, k)| {
            let path = if q.is_empty() {
                "/cpu".to_string()
            } else {
                format!("/cpu?{q}")
            };
            (path, n, k)
        })
        .collect();
    // An extra against special-casing the fixed values; never the only check.
    cases.push((
        format!("/cpu?n={random_n}"),
        random_n,
        prime_count(random_n),
    ));
    for (path, n, primes) in cases {
        let Some((_, v)) = p.get_json(&path, 200).await else {
            continue;
        };
        let want = json!({"n": n, "primes": primes});
        if v != want {
            let got = v.get("primes").and_then(Value::as_u64);
            let hint = if got == Some(primes.wrapping_sub(1)) && prime_count(n) > prime_count(n - 1)
            {
                format!(" (primes ≤ {n} counts {n} itself: it is prime)")
            } else {
                String::new()
            };
            p.fail(&path, format!("{want}{hint}"), v);
        }
    }
}

/// Primes ≤ n by trial division, exactly the contract's algorithm.
pub(crate) fn prime_count(n: u64) -> u64 {
    let mut count = 0;
    for i in 2..=n {
        let mut d = 2;
        let mut prime = true;
        while d * d <= i {
            if i % d == 0 {
                prime = false;
                break;
            }
            d += 1;
        }
        if prime {
            count += 1;
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prime_counts_match_known_values() {
        for &(_, n, k) in &CPU_CASES {
            assert_eq!(prime_count(n), k, "n={n}");
        }
        for (n, k) in [
            (0, 0),
            (1, 0),
            (2, 1),
            (10, 4),
            (100, 25),
            (10_000, 1229),
            (100_000, 9592),
        ] {
            assert_eq!(prime_count(n), k, "n={n}");
        }
    }

    #[test]
    fn io_answers_must_be_the_upstream_shape() {
        assert_eq!(io_seq(&json!({"ms":20,"seq":7}), 20), Ok(7));
        assert!(io_seq(&json!({"ms":21,"seq":7}), 20).is_err());
        assert!(io_seq(&json!({"ms":20,"seq":7,"x":1}), 20).is_err());
        assert!(io_seq(&json!({"ms":20,"seq":"7"}), 20).is_err());
        assert!(io_seq(&json!([20, 7]), 20).is_err());
    }
}
