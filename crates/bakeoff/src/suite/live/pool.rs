//! How many connections a window's generator opens, and the least latency
//! each target has answered in, which sizes them.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

/// The most connections a window opens for a workload that does not wait:
/// TechEmpower's highest concurrency. A pool of 2,048 made every window prime
/// 2,048 requests at once and failed short windows far below what long ones
/// held (docs/methodology.md, "Open loop and coordinated omission").
pub(super) const MAX_POOL: f64 = 512.0;

/// The most a workload that waits opens, whatever the files allow.
pub(super) const MAX_WAIT_POOL: f64 = 8_192.0;

/// Descriptors a connection costs bakeoff: its socket, and for `io` the
/// upstream's end of the contender's call (the upstream runs in bakeoff).
const FILES_PER_CONNECTION: u64 = 2;
/// Descriptors kept for everything else: the store, logs, pipes, runtimes.
const FILES_KEPT: u64 = 256;

/// Connections for a window at `rate`: enough to hold it at a mean latency
/// of twice the SLO, 16 at least and [`MAX_POOL`] at most. A workload whose
/// every request waits (`wait`: the least latency the target has answered
/// it in, 50 ms and more for `io`'s upstream) gets enough for twice that
/// wait too, since
/// [`MAX_POOL`] would bind before the server does (512 connections hold
/// 10,240 req/s at a 50 ms wait, and a Node.js server held 8,667 on two
/// cores): up to [`MAX_WAIT_POOL`] and what the open-files limit (`files`)
/// leaves room for.
pub(in crate::suite) fn connections(
    rate: f64,
    slo: Duration,
    wait: Option<Duration>,
    files: Option<u64>,
) -> u32 {
    let pool = (rate * slo.as_secs_f64() * 2.0)
        .ceil()
        .clamp(16.0, MAX_POOL);
    let Some(wait) = wait else {
        return pool as u32;
    };
    let held = (rate * wait.min(slo).as_secs_f64() * 2.0).ceil();
    pool.max(held.min(wait_cap(files))) as u32
}

/// The most connections a workload that waits opens: [`MAX_WAIT_POOL`], or
/// fewer where the open-files limit (`files`) leaves room for fewer.
fn wait_cap(files: Option<u64>) -> f64 {
    let room = files.map_or(MAX_WAIT_POOL, |f| {
        (f.saturating_sub(FILES_KEPT) / FILES_PER_CONNECTION) as f64
    });
    room.min(MAX_WAIT_POOL)
}

/// The rule a window's connections follow under the open-files limit
/// `files`, as a run's environment records it.
pub fn rule(files: Option<u64>) -> String {
    let limit = files.map_or("no open-files limit".into(), |f| format!("{f} open files"));
    format!(
        "2 × rate × SLO, 16 to {MAX_POOL}; a workload that waits, at least 2 × rate × its least median latency, up to {} ({limit})",
        wait_cap(files).max(MAX_POOL)
    )
}

/// Why a window's pool, not its server, limits its rate: at the least latency
/// the target has answered in (`floor`), `connections` turn over
/// `connections ÷ floor` times a second, and a `rate` of 95% of that or more
/// queues its sends for a connection in the generator even were the server to
/// answer each at its floor, a wait the corrected latency would count as the
/// server's (Little's law: the rate times the latency is what is in flight).
/// Only a pool its caps (the open-files limit, [`MAX_WAIT_POOL`]) hold under
/// `rate × floor` gets here: [`connections`] gives twice that otherwise. A
/// floor at or over the SLO is the server's to fail at any rate, whatever
/// the pool.
pub(super) fn short(
    connections: u32,
    rate: f64,
    floor: Option<Duration>,
    slo: Duration,
) -> Option<String> {
    let floor = floor.filter(|f| *f < slo)?.as_secs_f64();
    let holds = f64::from(connections) / floor;
    (rate >= 0.95 * holds).then(|| {
        format!(
            "the generator's {connections} connections (its cap) hold at most {holds:.0} req/s at the least median the server answered in ({:.1} ms): the pool, not the server, limits this rate",
            floor * 1000.0
        )
    })
}

/// The least latency each target (a contender's workload, or a URL) has
/// answered in: the median from the actual send of its windows, the lowest
/// seen, which its light first window reads. `io` waits 50 ms on its
/// upstream; a workload of a contender's own may wait on something slower.
#[derive(Debug, Default)]
pub struct LatencyFloors {
    seen: Mutex<BTreeMap<(String, String), f64>>,
}

impl LatencyFloors {
    /// The floor of `workload` against `target`, once a window has read one.
    pub(super) fn get(&self, target: &str, workload: &str) -> Option<Duration> {
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.get(&(target.to_string(), workload.to_string()))
            .map(|&ms| Duration::from_secs_f64(ms / 1000.0))
    }

    /// A window's median service latency, in ms (none answered: nothing).
    pub(super) fn learn(&self, target: &str, workload: &str, p50_ms: f64) {
        if !(p50_ms.is_finite() && p50_ms > 0.0) {
            return;
        }
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let floor = seen
            .entry((target.to_string(), workload.to_string()))
            .or_insert(p50_ms);
        *floor = floor.min(p50_ms);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SLO: Duration = Duration::from_millis(100);
    const WAIT: Option<Duration> = Some(Duration::from_millis(50));

    #[test]
    fn the_pool_follows_the_rate_up_to_512() {
        assert_eq!(connections(10.0, SLO, None, None), 16);
        assert_eq!(connections(1000.0, SLO, None, None), 200);
        assert_eq!(connections(2_000.0, SLO, None, None), 400);
        assert_eq!(connections(1e6, SLO, None, None), 512);
    }

    /// 512 connections hold 10,240 req/s at a 50 ms wait: past that a wait
    /// gets twice what it holds, within the files and the cap.
    #[test]
    fn a_wait_gets_the_connections_it_holds() {
        assert_eq!(connections(1000.0, SLO, WAIT, None), 200);
        assert_eq!(connections(5_000.0, SLO, WAIT, None), 512);
        assert_eq!(connections(10_000.0, SLO, WAIT, None), 1_000);
        assert_eq!(connections(12_000.0, SLO, WAIT, Some(20_000)), 1_200);
        assert_eq!(connections(1e6, SLO, WAIT, None), 8_192);
        // 1,024 files leave room for 384 connections: never under 512.
        assert_eq!(connections(12_000.0, SLO, WAIT, Some(1_024)), 512);
        assert_eq!(connections(12_000.0, SLO, WAIT, Some(2_256)), 1_000);
        // A wait longer than the SLO needs no more than the SLO's pool.
        let long = Some(Duration::from_millis(400));
        assert_eq!(connections(10_000.0, SLO, long, None), 2_000);
    }

    /// A pool is blamed only for a rate it cannot hold at the server's
    /// floor: whatever the server does at a rate it can hold is the server's.
    #[test]
    fn a_rate_the_pool_cannot_hold_at_the_floor_is_the_generators() {
        let floor = Some(Duration::from_millis(50));
        // 512 connections turn over 10,240 times a second at 50 ms.
        let capped = short(512, 12_000.0, floor, SLO);
        assert!(capped.is_some_and(|w| w.contains("512 connections") && w.contains("10240 req/s")));
        assert!(short(512, 9_800.0, floor, SLO).is_some());
        assert_eq!(short(512, 9_600.0, floor, SLO), None);
        assert_eq!(short(512, 12_000.0, None, SLO), None);
        // Never the pool the rule gives: twice what the rate needs at the floor.
        let pool = connections(12_000.0, SLO, floor, Some(20_000));
        assert_eq!(short(pool, 12_000.0, floor, SLO), None);
        // `json` at its 0.3 ms floor: 512 hold 1.7 million req/s.
        let json = Some(Duration::from_micros(300));
        assert_eq!(short(512, 200_000.0, json, SLO), None);
        // A server slower than the SLO fails it at any rate: its own failure,
        // though its pool (2 × rate × SLO) holds less than rate × floor.
        let slow = Some(Duration::from_millis(400));
        let pool = connections(1_000.0, SLO, slow, Some(20_000));
        assert_eq!(short(pool, 1_000.0, slow, SLO), None);
        assert_eq!(short(512, 12_000.0, floor, Duration::from_millis(20)), None);
    }

    #[test]
    fn the_rule_names_the_caps_the_files_allow() {
        assert!(rule(Some(20_000)).contains("up to 8192 (20000 open files)"));
        assert!(rule(Some(2_256)).contains("up to 1000 (2256 open files)"));
        assert!(rule(Some(1_024)).contains("up to 512 (1024 open files)"));
        assert!(rule(None).contains("16 to 512") && rule(None).contains("up to 8192"));
    }

    #[test]
    fn a_floor_is_the_least_median_a_target_answered_in() {
        let f = LatencyFloors::default();
        assert_eq!(f.get("a", "io"), None);
        f.learn("a", "io", 0.0); // nothing answered
        f.learn("a", "io", f64::NAN);
        assert_eq!(f.get("a", "io"), None);
        f.learn("a", "io", 80.0);
        f.learn("a", "io", 52.0);
        f.learn("a", "io", 300.0);
        assert_eq!(f.get("a", "io"), Some(Duration::from_millis(52)));
        assert_eq!(f.get("a", "json"), None);
        assert_eq!(f.get("b", "io"), None);
    }
}
