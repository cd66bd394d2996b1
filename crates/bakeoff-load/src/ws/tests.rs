//! Unit tests of the fan-out engine's parts: stamps, nonces, censoring, closes.

use super::*;

#[test]
fn each_clients_missing_deliveries_are_its_last_messages() {
    // Of 10 messages: one client has all, one misses the last 3, one
    // the last 1; a client that counted more than sent misses none.
    let by_client = [10, 7, 9, 12];
    assert_eq!(missing_from_last(by_client.into_iter(), 10), [2, 1, 1]);
    assert_eq!(missing_from_last([10, 10].into_iter(), 10), [0u64; 0]);
    assert_eq!(missing_from_last([0, 0].into_iter(), 2), [2, 2]);
    assert_eq!(missing_from_last(std::iter::empty(), 5), [0u64; 0]);
}

#[test]
fn stamps_round_trip_and_foreign_messages_are_ignored() {
    assert_eq!(parse_stamp("bk1 3 9 12345 xxxx", "bk1"), Some((9, 12345)));
    assert_eq!(parse_stamp("bk2 3 9 12345 xxxx", "bk1"), None);
    assert_eq!(parse_stamp("hello", "bk1"), None);
}

/// Each run tags its messages afresh (the tag was the pid and a clock
/// read a few ns after `start`: the same in nearly every window).
#[test]
fn every_run_draws_its_own_nonce() {
    let nonces: std::collections::BTreeSet<String> = (0..1_000).map(|_| run_nonce()).collect();
    assert_eq!(nonces.len(), 1_000);
}

/// A sink whose close never completes (its peer stopped reading).
struct Stuck;

impl futures_util::Sink<()> for Stuck {
    type Error = ();
    fn poll_ready(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), ()>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn start_send(self: std::pin::Pin<&mut Self>, _: ()) -> Result<(), ()> {
        Ok(())
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), ()>> {
        std::task::Poll::Pending
    }
    fn poll_close(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), ()>> {
        std::task::Poll::Pending
    }
}

/// A thousand clients that never finish closing cost one timeout, not one each.
#[tokio::test(start_paused = true)]
async fn stuck_closes_end_together_within_one_timeout() {
    let mut sinks: Vec<Stuck> = (0..1_000).map(|_| Stuck).collect();
    let t0 = Instant::now();
    close_all(&mut sinks, CLOSE_WITHIN).await;
    assert_eq!(t0.elapsed(), CLOSE_WITHIN);
}
