//! Which process owns a `running` run, and whether it is still alive.
//!
//! A run records its writer's pid and start time (clock ticks since boot, field 22
//! of `/proc/PID/stat`), so a pid recycled by an unrelated process is not mistaken
//! for the owner.

/// This process: (pid, start time in ticks when `/proc` has it).
pub(crate) fn current() -> (i64, Option<i64>) {
    let pid = std::process::id() as i64;
    (pid, start_ticks(pid))
}

/// Is the process that wrote a run still running?
pub(crate) fn is_alive(pid: i64, recorded_start: Option<i64>) -> bool {
    let Ok(raw) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if raw <= 0 {
        return false;
    }
    // Signal 0 only checks existence; EPERM means it exists under another user.
    // SAFETY: kill with signal 0 sends nothing.
    let rc = unsafe { libc::kill(raw, 0) };
    if rc != 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EPERM) {
        return false;
    }
    match (stat_fields(pid), recorded_start) {
        // A zombie has finished its work; its run will never be finished.
        (Some((state, _)), _) if state == "Z" || state == "X" => false,
        (Some((_, Some(now))), Some(then)) => now == then,
        _ => true,
    }
}

fn start_ticks(pid: i64) -> Option<i64> {
    stat_fields(pid).and_then(|(_, start)| start)
}

/// (state, start time) from `/proc/PID/stat`. The command name may contain spaces
/// and parentheses, so fields are counted from the last `)`.
fn stat_fields(pid: i64) -> Option<(String, Option<i64>)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: field 3 (state) is index 0, field 22 (starttime) index 19.
    let state = fields.first()?.to_string();
    Some((state, fields.get(19).and_then(|s| s.parse().ok())))
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
