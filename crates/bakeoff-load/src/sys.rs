//! The dedicated engine thread: CPU pinning, a current-thread runtime, and the
//! thread's own CPU time from `getrusage(RUSAGE_THREAD)`.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::LoadError;

/// CPU and wall time the engine thread used.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Usage {
    pub cpu: Duration,
    pub wall: Duration,
}

impl Usage {
    /// CPU use as a fraction of one core.
    pub fn cpu_fraction(&self) -> f64 {
        let wall = self.wall.as_secs_f64();
        if wall > 0.0 {
            self.cpu.as_secs_f64() / wall
        } else {
            0.0
        }
    }
}

/// User + system CPU time of the calling thread.
pub(crate) fn thread_cpu() -> Duration {
    // SAFETY: getrusage only writes into the zeroed struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut ru) } != 0 {
        return Duration::ZERO;
    }
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, (t.tv_usec as u32) * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Restrict the calling thread to one CPU.
pub(crate) fn pin_current_thread(cpu: usize) -> std::io::Result<()> {
    if cpu >= libc::CPU_SETSIZE as usize {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "CPU number out of range",
        ));
    }
    // SAFETY: cpu_set_t is plain data; CPU_SET is bounds-checked above.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_ZERO(&mut set);
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Run `make()`'s future on a new OS thread with its own current-thread runtime
/// (and `LocalSet`, so tasks may be `!Send`), optionally pinned, and return its
/// output with the thread's CPU and wall time.
pub(crate) async fn on_engine_thread<T, F, Fut>(
    pin: Option<usize>,
    make: F,
) -> Result<(T, Usage), LoadError>
where
    T: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, LoadError>> + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("bakeoff-load".into())
        .spawn(move || {
            let out = (|| {
                if let Some(cpu) = pin {
                    pin_current_thread(cpu).map_err(|source| LoadError::Pin { cpu, source })?;
                }
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| LoadError::Engine(format!("cannot start the runtime: {e}")))?;
                let cpu0 = thread_cpu();
                let t0 = Instant::now();
                let local = tokio::task::LocalSet::new();
                let value = local.block_on(&rt, make())?;
                // Close sockets and timers before reading the clock, so they count.
                drop(local);
                drop(rt);
                let usage = Usage {
                    cpu: thread_cpu().saturating_sub(cpu0),
                    wall: t0.elapsed(),
                };
                Ok((value, usage))
            })();
            let _ = tx.send(out);
        })
        .map_err(|e| LoadError::Engine(format!("cannot start the load thread: {e}")))?;
    rx.await
        .map_err(|_| LoadError::Engine("the load thread stopped unexpectedly".into()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_cpu_grows_with_work() {
        let before = thread_cpu();
        let mut x = 0u64;
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_millis(50) {
            x = x.wrapping_mul(31).wrapping_add(7);
        }
        std::hint::black_box(x);
        assert!(thread_cpu() > before);
    }

    #[test]
    fn pinning_rejects_out_of_range_cpu() {
        assert!(pin_current_thread(100_000).is_err());
    }
}
