//! Which process owns a `running` run, and whether it is still alive.
//!
//! A run records its writer's pid and start time (clock ticks since boot, field 22
//! of `/proc/PID/stat`), so a pid recycled by an unrelated process is not mistaken
//! for the owner.

use rustix::io::Errno;
use rustix::process::Pid;

use crate::measure::procfs;

/// This process: (pid, start time in ticks when `/proc` has it).
pub(crate) fn current() -> (i64, Option<i64>) {
    let pid = std::process::id() as i64;
    (pid, start_ticks(pid))
}

/// Is the process that wrote a run still running?
pub(crate) fn is_alive(pid: i64, recorded_start: Option<i64>) -> bool {
    let Some(raw) = i32::try_from(pid)
        .ok()
        .filter(|p| *p > 0)
        .and_then(Pid::from_raw)
    else {
        return false;
    };
    // Signal 0 only checks existence; EPERM means it exists under another user.
    if let Err(e) = rustix::process::test_kill_process(raw) {
        if e != Errno::PERM {
            return false;
        }
    }
    let Ok(pid) = u32::try_from(pid) else {
        return false;
    };
    match (procfs::read_stat(pid), recorded_start) {
        // A zombie has finished its work; its run will never be finished.
        (Some(st), _) if st.state == 'Z' || st.state == 'X' => false,
        (Some(st), Some(then)) => i64::try_from(st.start_ticks).is_ok_and(|now| now == then),
        _ => true,
    }
}

fn start_ticks(pid: i64) -> Option<i64> {
    let st = procfs::read_stat(u32::try_from(pid).ok()?)?;
    i64::try_from(st.start_ticks).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_reaped_child_is_not() {
        let (pid, start) = current();
        assert!(start.is_some(), "/proc is available on Linux");
        assert!(is_alive(pid, start));
        // Same pid, different start time: a recycled pid, not the owner.
        assert!(!is_alive(pid, start.map(|s| s + 1)));

        let mut child = std::process::Command::new("true").spawn().unwrap();
        let child_pid = child.id() as i64;
        child.wait().unwrap();
        assert!(!is_alive(child_pid, None));
        assert!(!is_alive(0, None));
        assert!(!is_alive(-5, None));
        assert!(!is_alive(i64::MAX, None));
    }
}
