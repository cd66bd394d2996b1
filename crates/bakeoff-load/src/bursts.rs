//! Steal in bursts: a thread that reads each CPU's steal from /proc/stat
//! every [`SLICE`] while a [`StealMeter`](crate::StealMeter) runs, and keeps
//! the most any CPU lost within [`SPAN`]. A span's average hides a burst: a
//! 150 ms pause of the contender's vCPU holds every request that arrives
//! meanwhile past a 100 ms p99, and is 3% of a 5 s window, under the 5% of
//! one CPU that voids it.

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::sys::{cpu_steal_ticks, read_stat};

/// How often the thread reads /proc/stat.
pub const SLICE: Duration = Duration::from_millis(250);
/// The span a burst is summed over: two slices, so a pause of up to a slice
/// lies whole within one span wherever it falls.
pub const SPAN: Duration = Duration::from_millis(500);

/// The thread, until [`BurstSampler::finish`].
pub(crate) struct BurstSampler {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<Vec<Duration>>,
}

impl BurstSampler {
    /// Start reading from `start` (the meter's first reading). The thread
    /// inherits the caller's CPU affinity: the engine thread's core, never
    /// the contender's. None where no thread can be started (no bursts read).
    pub(crate) fn start(start: Vec<u64>) -> Option<BurstSampler> {
        Self::start_every(start, SLICE)
    }

    /// [`BurstSampler::start`], reading every `slice`.
    fn start_every(start: Vec<u64>, slice: Duration) -> Option<BurstSampler> {
        let (stop, stopped) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("bakeoff-steal".into())
            .spawn(move || {
                let mut most = Most::new(start);
                loop {
                    let last = !matches!(
                        stopped.recv_timeout(slice),
                        Err(mpsc::RecvTimeoutError::Timeout)
                    );
                    most.read(cpu_steal_ticks(&read_stat()));
                    if last {
                        return most.stolen();
                    }
                }
            })
            .ok()?;
        Some(BurstSampler { stop, thread })
    }

    /// Stop with a last reading: each CPU's most steal within one [`SPAN`].
    pub(crate) fn finish(self) -> Vec<Duration> {
        let _ = self.stop.send(());
        self.thread.join().unwrap_or_default()
    }
}

/// Each CPU's most steal ticks between readings two slices apart.
#[derive(Debug)]
struct Most {
    before_last: Option<Vec<u64>>,
    last: Vec<u64>,
    most: Vec<u64>,
}

impl Most {
    fn new(start: Vec<u64>) -> Most {
        Most {
            before_last: None,
            most: vec![0; start.len()],
            last: start,
        }
    }

    /// Take the next reading (a CPU set that changed length is skipped).
    fn read(&mut self, now: Vec<u64>) {
        if now.len() != self.last.len() {
            return;
        }
        let base = self.before_last.as_ref().unwrap_or(&self.last);
        for ((most, b), n) in self.most.iter_mut().zip(base).zip(&now) {
            *most = (*most).max(n.saturating_sub(*b));
        }
        self.before_last = Some(std::mem::replace(&mut self.last, now));
    }

    /// The most ticks as time, by CPU number (empty without a clock rate).
    fn stolen(&self) -> Vec<Duration> {
        let hz = rustix::param::clock_ticks_per_second();
        if hz == 0 {
            return Vec::new();
        }
        self.most
            .iter()
            .map(|&t| Duration::from_secs_f64(t as f64 / hz as f64))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_summed_over_two_slices_wherever_it_falls() {
        let mut m = Most::new(vec![100, 100]);
        // CPU 1 loses 3 ticks at the end of one slice and 3 at the start of
        // the next: six within one span, none more than 3 in a slice.
        for now in [[100, 103], [100, 106], [101, 106], [102, 107]] {
            m.read(now.to_vec());
        }
        assert_eq!(m.most, vec![2, 6]);
        // A quiet machine's scattered ticks stay one or two per span.
        let mut q = Most::new(vec![0]);
        for t in [1, 2, 2, 3, 4, 4, 5] {
            q.read(vec![t]);
        }
        assert_eq!(q.most, vec![2]);
    }

    #[test]
    fn a_changed_cpu_set_is_skipped_and_ticks_never_run_back() {
        let mut m = Most::new(vec![5, 5]);
        m.read(vec![9]);
        m.read(vec![4, 7]);
        assert_eq!(m.most, vec![0, 2]);
        let hz = rustix::param::clock_ticks_per_second() as f64;
        assert_eq!(m.stolen()[1], Duration::from_secs_f64(2.0 / hz));
    }

    #[test]
    fn the_thread_reads_every_cpu_and_stops_when_told() {
        let start = cpu_steal_ticks(&read_stat());
        let cpus = start.len();
        // A slice of a minute: a thread that waited it out would hold
        // `finish` far past any stall of a noisy host.
        let minute = Duration::from_secs(60);
        let sampler = BurstSampler::start_every(start, minute).expect("a thread starts");
        let t = std::time::Instant::now();
        let stolen = sampler.finish();
        assert!(t.elapsed() < minute / 4, "finish does not wait out a slice");
        assert_eq!(stolen.len(), cpus, "one reading per CPU this kernel lists");
        // What a CPU lost between two reads cannot pass the time between them.
        assert!(stolen.iter().all(|s| *s <= t.elapsed() + SLICE));
    }
}
