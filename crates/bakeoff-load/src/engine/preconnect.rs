//! Opening a run's connections before its clock starts, and priming them
//! ([`crate::Prime`]): all at once, or in turn so that a pre-fork server
//! spreads them over its workers as it would clients arriving over time.

use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use crate::http::Conn;
use crate::ticked::Ticker;

/// The most rounds connections primed in turn are opened in. Each round waits
/// for its answers, a round trip to the server: 512 connections one by one
/// cost a window about a second when those answers were read on the open
/// loop's ticks (see [`Opening::open`]). 32 rounds still give a pre-fork
/// server 32 separate arrivals to spread over its workers.
const PRIME_ROUNDS: usize = 32;

/// How to open a run's connections.
pub(super) struct Opening<'a> {
    pub(super) connections: usize,
    pub(super) addr: SocketAddr,
    /// The open loop's ticker, which reads the connections.
    pub(super) ticker: Option<&'a Rc<Ticker>>,
    /// Each connect's bound, and each priming exchange's.
    pub(super) timeout: Duration,
    /// The request each connection carries first (its bytes, and whether it is
    /// a HEAD); none: connect only.
    pub(super) prime: Option<(&'a [u8], bool)>,
    /// Open them in rounds, each after the last's answers ([`prime_rounds`]).
    pub(super) in_turn: bool,
}

impl Opening<'_> {
    /// The connections (`None` where one failed: it connects lazily at its
    /// first request), and a warning when any failed.
    pub(super) async fn run(&self) -> (Vec<Option<Conn>>, Option<String>) {
        let n = self.connections;
        if !self.in_turn {
            let opened = futures_util::future::join_all((0..n).map(|_| self.open())).await;
            let failed = opened.iter().filter(|c| c.is_none()).count();
            let warning = (failed > 0).then(|| format!(
                "{failed} of {n} connections could not be opened (or primed) before the run; they connect at their first request"
            ));
            return (opened, warning);
        }
        let mut opened = Vec::with_capacity(n);
        let mut stopped = None;
        for round in prime_rounds(n) {
            let at = opened.len();
            let conns = futures_util::future::join_all((0..round).map(|_| self.open())).await;
            let failed = conns.iter().any(Option::is_none);
            opened.extend(conns);
            if failed {
                stopped = Some(at);
                break;
            }
        }
        opened.resize_with(n, || None);
        let failed = opened.iter().filter(|c| c.is_none()).count();
        let warning = stopped.map(|at| format!(
            "priming stopped at connection {} of {n}: it, or one opened in its round, could not be opened or primed before the run; the {failed} not primed connect at their first request",
            at + 1
        ));
        (opened, warning)
    }

    /// One connection, primed if asked: `None` if either step failed or the
    /// server closed it after the priming answer.
    ///
    /// It is opened and primed in tokio's reactor, which wakes on the answer,
    /// and only then moved to the open loop's ticker: read on the ticker's
    /// ticks (which back off to 16 ms while nothing arrives), each round cost
    /// ~4 ms, and 32 rounds of 512 connections 0.08–0.23 s a window, as long
    /// as a quick run's 0.3 s search windows themselves (docs/benchmarks.md,
    /// "Fortieth pass").
    async fn open(&self) -> Option<Conn> {
        let connect = Conn::connect(self.addr, None);
        let mut conn = tokio::time::timeout(self.timeout, connect)
            .await
            .ok()?
            .ok()?;
        if let Some((request, head)) = self.prime {
            match tokio::time::timeout(self.timeout, conn.exchange(request, head, false)).await {
                Ok(Ok(resp)) if !resp.close => {}
                _ => return None,
            }
        }
        match self.ticker {
            Some(t) => conn.into_ticked(t).ok(),
            None => Some(conn),
        }
    }
}

/// The sizes of the rounds `n` connections primed in turn are opened in: one
/// each up to [`PRIME_ROUNDS`], then as even as they divide.
fn prime_rounds(n: usize) -> impl Iterator<Item = usize> {
    let rounds = n.min(PRIME_ROUNDS);
    (0..rounds).map(move |i| n / rounds + usize::from(i < n % rounds))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Connections primed in turn open one by one up to 32, then in 32 rounds
    /// as even as they divide, every connection in one.
    #[test]
    fn priming_rounds_are_single_then_even() {
        assert_eq!(prime_rounds(3).collect::<Vec<_>>(), [1, 1, 1]);
        assert_eq!(prime_rounds(32).collect::<Vec<_>>(), [1; 32]);
        let r: Vec<usize> = prime_rounds(512).collect();
        assert_eq!((r.len(), r.iter().sum::<usize>()), (32, 512));
        assert!(r.iter().all(|&k| k == 16), "{r:?}");
        let r: Vec<usize> = prime_rounds(100).collect();
        assert_eq!((r.len(), r.iter().sum::<usize>()), (32, 100));
        assert!(r.iter().all(|&k| k == 3 || k == 4), "{r:?}");
        assert_eq!(prime_rounds(0).count(), 0);
    }

    /// Priming reads its answers in tokio's reactor, not on the open loop's
    /// ticks: with no harvester running at all it still completes, and every
    /// connection ends up in the ticker's set for the run. (Read on ticks,
    /// each of the 32 rounds cost ~4 ms, a quick run's windows 0.08–0.23 s.)
    #[test]
    fn priming_needs_no_tick_and_hands_the_connections_to_the_ticker() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        tokio::task::LocalSet::new().block_on(&rt, async {
            let srv = crate::testkit::FixedServiceServer::start(Duration::ZERO, None).unwrap();
            let ticker = Ticker::new().unwrap(); // its `run` is never spawned
            let authority = srv.addr().to_string();
            let request =
                crate::http::serialize(&crate::RequestSpec::get("/"), &authority).unwrap();
            let open = Opening {
                connections: 40,
                addr: srv.addr(),
                ticker: Some(&ticker),
                timeout: Duration::from_secs(5),
                prime: Some((&request, false)),
                in_turn: true,
            };
            let (conns, warning) = tokio::time::timeout(Duration::from_secs(20), open.run())
                .await
                .expect("priming waited for a tick that never came");
            assert_eq!(warning, None);
            assert!(conns.iter().all(Option::is_some));
            assert_eq!(ticker.registered(), 40);
            assert_eq!((srv.accepts(), srv.requests()), (40, 40));
        });
    }
}
