//! Reading `/proc`: a process's CPU ticks and process group from `stat`, its
//! CPU nanoseconds from its threads' `schedstat`, its
//! memory from `smaps_rollup` (PSS) or `status` (VmRSS), and the members of a
//! process group.

use std::fs;

/// The fields of `/proc/PID/stat` bakeoff uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcStat {
    pub pid: u32,
    /// `R`, `S`, `Z` (zombie: exited, not yet reaped), …
    pub state: char,
    pub ppid: u32,
    pub pgrp: u32,
    /// utime + stime, in clock ticks.
    pub cpu_ticks: u64,
    /// When the process started, in clock ticks since boot (field 22): with the
    /// pid, it names one process even after the pid is recycled.
    pub start_ticks: u64,
}

/// Parse one `/proc/PID/stat` line. The command name may hold spaces and
/// parentheses, so fields are counted from the last `)`.
pub fn parse_stat(line: &str) -> Option<ProcStat> {
    let open = line.find('(')?;
    let close = line.rfind(')')?;
    let pid = line[..open].trim().parse().ok()?;
    // After ") ": state(3) ppid(4) pgrp(5) ... utime(14) stime(15) ... starttime(22), 1-based.
    let rest: Vec<&str> = line.get(close + 1..)?.split_whitespace().collect();
    let field = |n: usize| rest.get(n - 3).and_then(|s| s.parse::<u64>().ok());
    Some(ProcStat {
        pid,
        state: rest.first()?.chars().next()?,
        ppid: field(4)? as u32,
        pgrp: field(5)? as u32,
        cpu_ticks: field(14)? + field(15)?,
        start_ticks: field(22)?,
    })
}

pub fn read_stat(pid: u32) -> Option<ProcStat> {
    parse_stat(&fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// CPU time a process's live threads have run, in nanoseconds: the sum of
/// [`read_thread_cpu_ns`]. A thread that exits takes its time with it.
pub fn read_cpu_ns(pid: u32) -> Option<u64> {
    Some(read_thread_cpu_ns(pid)?.iter().map(|(_, ns)| ns).sum())
}

/// Each live thread's CPU time, in nanoseconds, by thread id: the first field
/// of its `/proc/PID/task/TID/schedstat` (the scheduler's own count, where
/// `stat`'s utime + stime are in 10 ms ticks). `None` where the kernel has no
/// schedstat.
pub fn read_thread_cpu_ns(pid: u32) -> Option<Vec<(u32, u64)>> {
    let mut threads = Vec::new();
    for task in fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let task = task.ok()?;
        let Ok(tid) = task.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        match fs::read_to_string(task.path().join("schedstat")) {
            Ok(text) => threads.push((tid, text.split_whitespace().next()?.parse::<u64>().ok()?)),
            // The thread exited since the listing.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(_) => return None,
        }
    }
    Some(threads)
}

/// Which figure a memory reading is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemKind {
    /// Proportional set size: shared pages divided among their sharers.
    Pss,
    /// Resident set size: shared pages counted in full by every sharer.
    Rss,
}

/// A `kB` field of a `/proc` key-value file, in bytes.
fn kb_field(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let v = l.strip_prefix(key)?.trim_start().strip_prefix(':')?;
        let kb: u64 = v.split_whitespace().next()?.parse().ok()?;
        Some(kb * 1024)
    })
}

/// PSS from `smaps_rollup` (Linux ≥ 4.14), else VmRSS from `status`.
pub fn read_memory(pid: u32) -> Option<(u64, MemKind)> {
    if let Ok(t) = fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) {
        if let Some(b) = kb_field(&t, "Pss") {
            return Some((b, MemKind::Pss));
        }
    }
    let t = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    // Kernel threads and zombies have no VmRSS: they hold no user memory.
    Some((kb_field(&t, "VmRSS").unwrap_or(0), MemKind::Rss))
}

/// Every process whose process group is `pgid`.
pub fn group_members(pgid: u32) -> Vec<ProcStat> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(read_stat)
        .filter(|s| s.pgrp == pgid)
        .collect()
}

/// Clock ticks per second (`sysconf(_SC_CLK_TCK)`, 100 on Linux in practice).
pub fn clock_ticks() -> f64 {
    match rustix::param::clock_ticks_per_second() {
        0 => 100.0,
        t => t as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_awkward_command_names() {
        let line = "4242 (node (worker) 1) S 1 4200 4200 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 11 0 123 456 789";
        let s = parse_stat(line).unwrap();
        assert_eq!(
            s,
            ProcStat {
                pid: 4242,
                state: 'S',
                ppid: 1,
                pgrp: 4200,
                cpu_ticks: 300,
                start_ticks: 123,
            }
        );
        assert!(parse_stat("garbage").is_none());
        assert!(parse_stat("1 (x) S 1").is_none());
    }

    #[test]
    fn reads_our_own_process() {
        let me = std::process::id();
        let s = read_stat(me).unwrap();
        assert_eq!(s.pid, me);
        let (bytes, _) = read_memory(me).unwrap();
        assert!(bytes > 1024 * 1024, "{bytes}");
        assert!(kb_field("Pss:   12 kB\n", "Pss") == Some(12 * 1024));
        assert!(kb_field("Pss_Anon:   12 kB\n", "Pss").is_none());
        assert!(clock_ticks() >= 1.0);
    }
}
