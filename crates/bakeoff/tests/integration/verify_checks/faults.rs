//! One broken mini contender per fault class of docs/verification.md's table:
//! each must fail verify with a reason that names the fault. Every check here
//! is deterministic: none relies on the verifier's random draws.

use super::server::{Faults, Raw};
use super::{failed_reasons, fails, verify_declared, verify_faulty, verify_raw};
use bakeoff::workload::verify::COMMON;

#[tokio::test]
async fn a_date_frozen_at_start_up_fails() {
    let checks = verify_faulty(
        Faults {
            frozen_date: true,
            ..Faults::default()
        },
        &["plaintext"],
    )
    .await;
    // Each response alone looks current: only the common check sees it.
    assert!(checks[0].passed, "{:?}", checks[0]);
    let r = failed_reasons(&checks, COMMON);
    assert!(
        r.contains("GET /plaintext: expected the Date header to advance")
            && r.contains("fixed at start-up"),
        "{r}"
    );
}

#[tokio::test]
async fn undeclared_connection_close_fails_and_declared_passes() {
    let faults = Faults {
        no_keep_alive: true,
        ..Faults::default()
    };
    let checks = verify_declared(faults, &["plaintext"], true).await;
    let r = failed_reasons(&checks, COMMON);
    assert!(
        r.contains("keep_alive = true") && r.contains("`Connection: close`"),
        "{r}"
    );
    assert!(r.contains("declare `keep_alive = false`"), "{r}");

    let checks = verify_declared(faults, &["plaintext"], false).await;
    for c in &checks {
        assert!(c.passed, "{c:?}");
    }
}

#[tokio::test]
async fn declaring_no_keep_alive_for_a_server_that_keeps_it_fails() {
    let checks = verify_declared(Faults::default(), &["json"], false).await;
    let r = failed_reasons(&checks, COMMON);
    assert!(
        r.contains("declares keep_alive = false") && r.contains("GET /json on one connection"),
        "{r}"
    );
}

#[tokio::test]
async fn counting_primes_below_n_fails_on_prime_n() {
    let r = fails(|f| f.cpu_below_n = true, "cpu").await;
    assert!(
        r.contains(r#"GET /cpu?n=7919: expected {"n":7919,"primes":1000} (primes ≤ 7919 counts 7919 itself"#),
        "{r}"
    );
    assert!(r.contains("GET /cpu?n=2: expected"), "{r}");
    assert!(!r.contains("/cpu?n=10:"), "n=10 is not prime: {r}");
}

#[tokio::test]
async fn io_answers_cached_per_delay_fail() {
    let r = fails(|f| f.cached_io = true, "io").await;
    assert!(
        r.contains("GET /io?ms=20") && r.contains("did not return the upstream's answer"),
        "{r}"
    );
    assert!(
        r.contains("exactly 3 /delay calls") && r.contains("received 2"),
        "{r}"
    );
}

#[tokio::test]
async fn rows_served_from_a_start_up_cache_fail() {
    let checks = verify_faulty(
        Faults {
            cached_rows: true,
            ..Faults::default()
        },
        &["db", "queries"],
    )
    .await;
    for (ep, path) in [
        ("db", "GET /db: row id"),
        ("queries", "GET /queries?queries=0: row id"),
    ] {
        let r = failed_reasons(&checks, ep);
        assert!(
            r.contains(path) && r.contains("a cached or made-up row is stale"),
            "{r}"
        );
    }
}

#[tokio::test]
async fn a_constant_row_fails_the_randomness_checks() {
    let checks = verify_faulty(
        Faults {
            constant_row: true,
            ..Faults::default()
        },
        &["db", "queries"],
    )
    .await;
    let r = failed_reasons(&checks, "db");
    assert!(
        r.contains("over 10 calls of GET /db: expected random ids")
            && r.contains("only 1 distinct"),
        "{r}"
    );
    let r = failed_reasons(&checks, "queries");
    assert!(
        r.contains("GET /queries?queries=500: expected random ids"),
        "{r}"
    );
}

#[tokio::test]
async fn queries_that_ignore_n_fail() {
    let r = fails(|f| f.queries_ignore_n = true, "queries").await;
    assert!(
        r.contains("GET /queries?queries=20: expected 20 rows") && r.contains("got 1 rows"),
        "{r}"
    );
    assert!(
        r.contains("GET /queries?queries=501: expected 500 rows"),
        "{r}"
    );
}

#[tokio::test]
async fn updates_that_persist_other_values_fail() {
    let r = fails(|f| f.updates_persist_other = true, "updates").await;
    assert!(
        r.contains("GET /updates?queries=5: row id")
            && r.contains("to hold the returned randomNumber")
            && r.contains("(persisted)"),
        "{r}"
    );
}

#[tokio::test]
async fn fortunes_without_the_added_row_fail() {
    let r = fails(|f| f.fortunes_no_added_row = true, "fortunes").await;
    assert!(r.contains("expected 13 fortune rows"), "{r}");
    assert!(
        r.contains("(0, \"Additional fortune added at request time.\")") && r.contains("missing"),
        "{r}"
    );
}

#[tokio::test]
async fn unsorted_fortunes_fail() {
    let r = fails(|f| f.fortunes_unsorted = true, "fortunes").await;
    assert!(r.contains("expected rows sorted by message"), "{r}");
    assert!(!r.contains("missing"), "only the order is wrong: {r}");
}

#[tokio::test]
async fn a_fortunes_page_rendered_once_fails() {
    let r = fails(|f| f.fortunes_cached = true, "fortunes").await;
    assert!(
        r.contains("as the database holds it at request time") && r.contains("bakeoff-verify"),
        "{r}"
    );
}

#[tokio::test]
async fn data_sorted_by_product_fails() {
    let r = fails(|f| f.data_unsorted = true, "data").await;
    assert!(
        r.contains("GET /data?region=africa: expected products sorted by revenue descending"),
        "{r}"
    );
    assert!(
        !r.contains("expected revenue"),
        "the numbers are right: {r}"
    );
}

#[tokio::test]
async fn data_rounded_to_cents_fails() {
    let r = fails(|f| f.data_rounded = true, "data").await;
    assert!(
        r.contains("expected mean_unit_price") && r.contains("±1e-6 relative"),
        "{r}"
    );
}

#[tokio::test]
async fn data_for_an_unknown_region_must_be_404() {
    let r = fails(|f| f.data_unknown_region_ok = true, "data").await;
    assert!(
        r.contains("GET /data?region=atlantis: expected status 404, got status 200"),
        "{r}"
    );
    assert!(r.contains("GET /data: expected status 404"), "{r}");
}

#[tokio::test]
async fn more_bytes_than_the_content_length_fail() {
    // The first 13 bytes are a correct answer: only the framing check sees it.
    let (checks, _) = verify_raw(Raw::DoubleBody, &["plaintext"]).await;
    let r = failed_reasons(&checks, "plaintext");
    assert!(
        r.contains("GET /plaintext: the server sent 13 bytes after the body")
            && r.contains("Content-Length"),
        "{r}"
    );
}

#[tokio::test]
async fn keep_alive_ignored_silently_fails() {
    let (checks, _) = verify_raw(Raw::SilentClose, &["plaintext"]).await;
    assert!(checks[0].passed, "{:?}", checks[0]);
    let r = failed_reasons(&checks, COMMON);
    assert!(
        r.contains("keep_alive = true")
            && r.contains(
                "closed the connection after one answer to GET /plaintext without announcing it"
            ),
        "{r}"
    );
}

#[tokio::test]
async fn an_echo_server_is_not_a_chat_room() {
    let r = fails(|f| f.ws_echo_only = true, "ws").await;
    assert!(r.contains("client 0: expected client 1's message"), "{r}");
    assert!(!r.contains("its own message"), "{r}");
}
