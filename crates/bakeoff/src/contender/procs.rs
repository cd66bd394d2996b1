//! Process groups on Linux: who is in a group (from `/proc/*/stat`), signalling a
//! whole group, the processes that carry an environment tag (which finds children
//! that left the group with `setsid`), who holds the socket listening on a port, and
//! the CPU affinity mask applied before `exec`.

use std::io;

use rustix::io::Errno;
use rustix::process::Pid;
use rustix::thread::CpuSet;

use crate::measure::procfs;

/// The PIDs whose process group is `pgid`, read from `/proc/<pid>/stat`.
/// Zombies are included until reaped (they still hold the group).
pub fn group_members(pgid: u32) -> Vec<u32> {
    let mut pids: Vec<u32> = procfs::group_members(pgid).iter().map(|s| s.pid).collect();
    pids.sort_unstable();
    pids
}

/// Members of the group that are not zombies (still running code).
pub fn live_members(pgid: u32) -> Vec<u32> {
    let mut pids: Vec<u32> = procfs::group_members(pgid)
        .iter()
        .filter(|s| s.state != 'Z')
        .map(|s| s.pid)
        .collect();
    pids.sort_unstable();
    pids
}

/// Live processes (not zombies, not this one) whose environment sets `var`, with
/// its value. Children inherit the environment, so this finds a contender's
/// descendants even after they left its process group (`setsid`), unless they
/// replaced their environment at `exec`. A process in the middle of `exec` shows
/// an empty environment for a moment, so callers that must not miss one re-scan.
pub fn env_values(var: &str) -> Vec<(u32, String)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let prefix = format!("{var}=");
    let me = std::process::id();
    let mut found: Vec<(u32, String)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != me)
        .filter_map(|pid| {
            let env = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
            let value = env
                .split(|b| *b == 0)
                .find_map(|v| v.strip_prefix(prefix.as_bytes()))?;
            Some((pid, String::from_utf8_lossy(value).into_owned()))
        })
        .filter(|(pid, _)| procfs::read_stat(*pid).is_some_and(|st| st.state != 'Z'))
        .collect();
    found.sort_unstable();
    found
}

/// Live processes whose environment holds `var=value` (see [`env_values`]).
pub fn tagged(var: &str, value: &str) -> Vec<u32> {
    env_values(var)
        .into_iter()
        .filter(|(_, v)| v == value)
        .map(|(pid, _)| pid)
        .collect()
}

pub use rustix::process::Signal;

/// Inodes of the TCP sockets listening on `port` (any address, IPv4 and IPv6),
/// from the kernel's socket tables. Empty where the listener lives in another
/// network namespace (a container's port mapping), or on a kernel without them.
pub fn listening_inodes(port: u16) -> Vec<u64> {
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .flat_map(|table| listeners_in(&table, port))
        .collect()
}

/// The listening sockets' inodes on `port` in one `/proc/net/tcp{,6}` table:
/// rows are `sl local_address rem_address st … uid timeout inode …`, the port in
/// hex after the address's colon, state `0A` for LISTEN.
fn listeners_in(table: &str, port: u16) -> Vec<u64> {
    table
        .lines()
        .skip(1)
        .filter_map(|row| {
            let f: Vec<&str> = row.split_whitespace().collect();
            let local_port = f.get(1)?.rsplit_once(':')?.1;
            let listening = *f.get(3)? == "0A";
            let ours = u16::from_str_radix(local_port, 16).ok()? == port;
            (listening && ours).then(|| f.get(9)?.parse().ok())?
        })
        .collect()
}

/// Whether `pid` holds any of the sockets `inodes` (its `fd` links read
/// `socket:[inode]`). False where its `fd` directory is not ours to read.
pub fn holds_socket(pid: u32, inodes: &[u64]) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.filter_map(Result::ok).any(|fd| {
        std::fs::read_link(fd.path()).is_ok_and(|target| {
            let target = target.to_string_lossy();
            target
                .strip_prefix("socket:[")
                .and_then(|rest| rest.strip_suffix(']'))
                .and_then(|n| n.parse::<u64>().ok())
                .is_some_and(|inode| inodes.contains(&inode))
        })
    })
}

/// Send `sig` to each of `pids` (never to pid 0 or 1).
pub fn signal_pids(pids: &[u32], sig: Signal) {
    for &pid in pids {
        let pid = i32::try_from(pid).ok().filter(|p| *p > 1);
        if let Some(pid) = pid.and_then(Pid::from_raw) {
            // A process that has already gone is what the caller wanted.
            let _ = rustix::process::kill_process(pid, sig);
        }
    }
}

/// Send `sig` to every process [`tagged`] with `var=value`; how many there were.
pub fn signal_tagged(var: &str, value: &str, sig: Signal) -> usize {
    let pids = tagged(var, value);
    signal_pids(&pids, sig);
    pids.len()
}

/// Send `sig` to every process in the group. "No such process" is not an error.
pub fn signal_group(pgid: u32, sig: Signal) -> io::Result<()> {
    let Ok(pgid) = i32::try_from(pgid) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "pgid out of range",
        ));
    };
    let Some(pgid) = Pid::from_raw(pgid).filter(|_| pgid > 1) else {
        // Never signal our own group (0) or every process (-1 / 1).
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "refusing to signal pgid <= 1",
        ));
    };
    match rustix::process::kill_process_group(pgid, sig) {
        Ok(()) | Err(Errno::SRCH) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// SIGKILLs a process group when dropped, unless disarmed: for helper processes
/// (installers) whose futures may be cancelled.
#[derive(Debug)]
pub struct GroupGuard(pub u32);

impl GroupGuard {
    pub fn disarm(mut self) {
        self.0 = 0;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if self.0 > 1 {
            let _ = signal_group(self.0, Signal::KILL);
        }
    }
}

/// An affinity mask built before `fork`, so the child only makes a syscall.
/// The one place bakeoff (outside the load engine) sets CPU affinity.
#[derive(Clone, Copy)]
pub struct CpuMask(CpuSet);

impl CpuMask {
    /// A mask of `cpus`; errors name a CPU that is out of range.
    pub fn new(cpus: &[usize]) -> io::Result<CpuMask> {
        let mut set = CpuSet::new();
        if cpus.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "empty CPU list",
            ));
        }
        for &cpu in cpus {
            if cpu >= CpuSet::MAX_CPU {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "CPU {cpu} is beyond the affinity mask size ({})",
                        CpuSet::MAX_CPU
                    ),
                ));
            }
            set.set(cpu);
        }
        Ok(CpuMask(set))
    }

    /// Apply to the calling process (async-signal-safe: one syscall, no allocation).
    pub fn apply(&self) -> io::Result<()> {
        Ok(rustix::thread::sched_setaffinity(None, &self.0)?)
    }

    /// Apply to another process (`pid` > 0).
    pub fn apply_to(&self, pid: u32) -> io::Result<()> {
        let pid = i32::try_from(pid)
            .ok()
            .and_then(Pid::from_raw)
            .ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, format!("no process {pid}"))
            })?;
        Ok(rustix::thread::sched_setaffinity(Some(pid), &self.0)?)
    }

    /// The CPUs the calling process may run on.
    pub fn current_cpus() -> io::Result<Vec<usize>> {
        let set = rustix::thread::sched_getaffinity(None)?;
        Ok((0..CpuSet::MAX_CPU).filter(|&c| set.is_set(c)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_own_group_is_found() {
        let pgid = rustix::process::getpgrp().as_raw_pid() as u32;
        assert!(group_members(pgid).contains(&std::process::id()));
    }

    #[test]
    fn tagged_processes_are_found_by_their_environment() {
        let value = format!("t{}", std::process::id());
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .env("BAKEOFF_PROCS_TEST", &value)
            .spawn()
            .unwrap();
        let pid = child.id();
        // spawn returns once exec has begun, but the kernel publishes the new
        // environment a moment later (env_end is 0 until the ELF tables exist).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut found = tagged("BAKEOFF_PROCS_TEST", &value);
        while found.is_empty() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
            found = tagged("BAKEOFF_PROCS_TEST", &value);
        }
        assert_eq!(found, vec![pid]);
        assert_eq!(signal_tagged("BAKEOFF_PROCS_TEST", &value, Signal::KILL), 1);
        child.wait().unwrap();
        assert!(tagged("BAKEOFF_PROCS_TEST", &value).is_empty());
    }

    #[test]
    fn listeners_are_read_from_the_kernel_tables() {
        // Port 8080 (1F90): one listener on 127.0.0.1, one established
        // connection from it, and a listener on another port.
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000 100 0 0 10 0
   1: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 4343 1 0000 20 4 30 10 -1
   2: 00000000:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4444 1 0000 100 0 0 10 0
";
        assert_eq!(listeners_in(table, 8080), vec![4242]);
        assert_eq!(listeners_in(table, 8081), vec![4444]);
        assert!(listeners_in(table, 80).is_empty());
        assert!(listeners_in("garbage\n 0: nonsense", 8080).is_empty());
        let v6 = "  sl  local_address                         remote_address                        st
   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 77 1 0000 100 0 0 10 0
";
        assert_eq!(listeners_in(v6, 8080), vec![77]);
    }

    #[test]
    fn a_listener_is_found_with_the_process_that_holds_it() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let inodes = listening_inodes(port);
        assert_eq!(inodes.len(), 1, "{inodes:?}");
        assert!(holds_socket(std::process::id(), &inodes));
        assert!(!holds_socket(std::process::id(), &[u64::MAX]));
        drop(listener);
        assert!(listening_inodes(port).is_empty());
    }

    #[test]
    fn refuses_dangerous_groups() {
        assert!(signal_group(0, Signal::KILL).is_err());
        assert!(signal_group(1, Signal::KILL).is_err());
        assert!(CpuMask::new(&[]).is_err());
        assert!(CpuMask::new(&[1 << 20]).is_err());
    }
}
