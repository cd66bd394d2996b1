//! The machine a run measured on (CPU, cores, memory, kernel, OS) and CPU pinning
//! with `sched_setaffinity`: the generator on one core, the contender on the rest.

use std::fs;

use crate::model::Environment;

use super::MeasureError;
use crate::contender::procs::CpuMask;

/// The environment, without runtimes or git revision (the caller adds those).
pub fn probe_environment() -> Environment {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            matches!(k.trim(), "model name" | "Model" | "Hardware").then(|| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let memory_bytes = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            let l = t.lines().find(|l| l.starts_with("MemTotal:"))?;
            l.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map_or(0, |kb| kb * 1024);
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| format!("Linux {}", s.trim()))
        .unwrap_or_else(|_| "unknown".into());
    let os = fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|t| {
            let l = t.lines().find(|l| l.starts_with("PRETTY_NAME="))?;
            Some(l["PRETTY_NAME=".len()..].trim_matches('"').to_string())
        })
        .unwrap_or_else(|| std::env::consts::OS.to_string());
    let cpus = allowed_cpus().unwrap_or_default();
    let cores = available_cores();
    Environment {
        cpu_model,
        cores,
        memory_bytes,
        kernel,
        os,
        bakeoff_version: env!("CARGO_PKG_VERSION").to_string(),
        git_revision: None,
        pinning: PinLayout::for_cpus(&cpus).description,
        runtimes: Default::default(),
        // Known at the run's end (the runner's drift-probe readings).
        core_speed: None,
        generator_core_speed: None,
        loopback_speed: None,
    }
}

/// Cores this process may use (affinity and cgroup quota aware).
pub fn available_cores() -> u32 {
    std::thread::available_parallelism().map_or(1, |n| n.get() as u32)
}

/// The CPUs the calling thread may run on.
pub fn allowed_cpus() -> Result<Vec<usize>, MeasureError> {
    CpuMask::current_cpus().map_err(|e| MeasureError::Affinity(e.to_string()))
}

/// Restrict `pid` (0: the calling thread) to `cpus`; children inherit the mask.
pub fn set_affinity(pid: u32, cpus: &[usize]) -> Result<(), MeasureError> {
    if cpus.is_empty() {
        return Err(MeasureError::Affinity("no CPU given".into()));
    }
    let mask = CpuMask::new(cpus).map_err(|e| MeasureError::Affinity(e.to_string()))?;
    let applied = if pid == 0 {
        mask.apply()
    } else {
        mask.apply_to(pid)
    };
    applied.map_err(|e| MeasureError::Affinity(e.to_string()))
}

/// Pin every thread of every process in `target` to `cpus` (a contender already
/// running: node's libuv pool and gunicorn's workers included). Returns the number
/// of threads pinned. Threads that exit meanwhile are skipped.
pub fn pin_processes(
    target: &crate::suite::ProcessSet,
    cpus: &[usize],
) -> Result<usize, MeasureError> {
    let mut pinned = 0;
    for pid in super::members(target) {
        let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
            continue;
        };
        for tid in tasks.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok()) {
            match set_affinity(tid, cpus) {
                Ok(()) => pinned += 1,
                // ESRCH: the thread is gone.
                Err(_) if !std::path::Path::new(&format!("/proc/{pid}/task/{tid}")).exists() => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(pinned)
}

/// Where the generator and the contender run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinLayout {
    /// `None`: unpinned.
    pub generator: Option<usize>,
    /// CPUs kept for the generator's extra threads, used only by a window one
    /// thread cannot drive (`suite::live::GeneratorThreads`): one in eight
    /// CPUs from 8 up, none below.
    pub generator_spare: Vec<usize>,
    /// Empty: unpinned.
    pub contender: Vec<usize>,
    /// The run's database server (PostgreSQL); empty: none, or unpinned.
    pub database: Vec<usize>,
    /// e.g. "generator: cpu 0; contender: cpu 1", recorded in the environment.
    pub description: String,
}

/// `cpu 3` or `cpus 2,3,4`.
fn cpu_list(cpus: &[usize]) -> String {
    if cpus.len() == 1 {
        format!("cpu {}", cpus[0])
    } else {
        format!(
            "cpus {}",
            cpus.iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(",")
        )
    }
}

impl PinLayout {
    /// With ≥ 2 allowed CPUs: the generator on the first, the contender on the
    /// rest; from 8 CPUs up, one in eight after the first stays with the
    /// generator for extra threads (a 32-core server's contender outruns one
    /// generator thread, about 130,000 req/s here).
    pub fn for_cpus(cpus: &[usize]) -> PinLayout {
        if cpus.len() < 2 {
            return PinLayout {
                generator: None,
                generator_spare: Vec::new(),
                contender: Vec::new(),
                database: Vec::new(),
                description: format!(
                    "unpinned ({} core{})",
                    cpus.len().max(1),
                    if cpus.len() > 1 { "s" } else { "" }
                ),
            };
        }
        let spare = if cpus.len() >= 8 { cpus.len() / 8 } else { 0 };
        let generator_spare = cpus[1..1 + spare].to_vec();
        let rest = cpus[1 + spare..].to_vec();
        let extra = if generator_spare.is_empty() {
            String::new()
        } else {
            format!(
                " (more generator threads on {} when one is not enough)",
                cpu_list(&generator_spare)
            )
        };
        PinLayout {
            generator: Some(cpus[0]),
            description: format!(
                "generator, upstream and bakeoff: cpu {}{extra}; contender: {}",
                cpus[0],
                cpu_list(&rest)
            ),
            generator_spare,
            contender: rest,
            database: Vec::new(),
        }
    }

    /// The layout of a run with a database server: never on the generator's
    /// core, where its CPU held up the generator's sends (every fast `db`
    /// window voided as machine-noisy, docs/methodology.md "PostgreSQL"). With
    /// 3 or more CPUs it gets the last one to itself; with 2 it shares the
    /// contender's, so a request's database work is paid from the contender's
    /// core, as on a one-machine deployment.
    pub fn with_database(cpus: &[usize]) -> PinLayout {
        let n = cpus.len();
        let mut layout = PinLayout::for_cpus(&cpus[..n.saturating_sub((n >= 3) as usize)]);
        layout.database = match n {
            0 | 1 => Vec::new(),
            2 => layout.contender.clone(),
            _ => vec![cpus[n - 1]],
        };
        let placed = match (n, layout.database.first()) {
            (2, Some(c)) => format!("cpu {c} (shares the contender's core)"),
            (_, Some(c)) => format!("cpu {c} (its own)"),
            (_, None) => "unpinned".to_string(),
        };
        layout
            .description
            .push_str(&format!("; PostgreSQL: {placed}"));
        layout
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_this_machine() {
        let e = probe_environment();
        assert!(e.cores >= 1);
        assert!(e.memory_bytes > 64 * 1024 * 1024, "{}", e.memory_bytes);
        assert!(e.kernel.starts_with("Linux "), "{}", e.kernel);
        assert!(!e.os.is_empty() && !e.cpu_model.is_empty());
        assert_eq!(e.bakeoff_version, env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn the_generator_keeps_spare_cpus_from_eight_up() {
        let four = PinLayout::for_cpus(&[0, 1, 2, 3]);
        assert!(four.generator_spare.is_empty());
        assert_eq!(four.contender, vec![1, 2, 3]);
        let sixteen: Vec<usize> = (0..16).collect();
        let l = PinLayout::for_cpus(&sixteen);
        assert_eq!(
            (l.generator, l.generator_spare.clone()),
            (Some(0), vec![1, 2])
        );
        assert_eq!(l.contender, (3..16).collect::<Vec<_>>());
        assert!(
            l.description.contains("more generator threads on cpus 1,2"),
            "{}",
            l.description
        );
        let db = PinLayout::with_database(&sixteen);
        assert!(!db.contender.contains(&15) && db.database == vec![15]);
        assert!(db.generator_spare.iter().all(|c| !db.contender.contains(c)));
    }

    #[test]
    fn a_database_never_shares_the_generators_core() {
        let two = PinLayout::with_database(&[0, 1]);
        assert_eq!((two.generator, two.contender.clone()), (Some(0), vec![1]));
        assert_eq!(two.database, vec![1]);
        assert!(two
            .description
            .ends_with("PostgreSQL: cpu 1 (shares the contender's core)"));
        let four = PinLayout::with_database(&[0, 1, 2, 3]);
        assert_eq!(
            (four.generator, four.contender.clone()),
            (Some(0), vec![1, 2])
        );
        assert_eq!(four.database, vec![3]);
        assert_eq!(
            four.description,
            "generator, upstream and bakeoff: cpu 0; contender: cpus 1,2; PostgreSQL: cpu 3 (its own)"
        );
        let one = PinLayout::with_database(&[0]);
        assert!(one.database.is_empty() && one.generator.is_none());
    }

    #[test]
    fn layouts() {
        let two = PinLayout::for_cpus(&[0, 1]);
        assert_eq!(
            two.description,
            "generator, upstream and bakeoff: cpu 0; contender: cpu 1"
        );
        assert_eq!((two.generator, two.contender), (Some(0), vec![1]));
        let four = PinLayout::for_cpus(&[0, 1, 2, 3]);
        assert_eq!(
            four.description,
            "generator, upstream and bakeoff: cpu 0; contender: cpus 1,2,3"
        );
        let one = PinLayout::for_cpus(&[3]);
        assert_eq!(one.description, "unpinned (1 core)");
        assert_eq!(one.generator, None);
    }

    #[test]
    fn pins_a_thread() {
        let cpus = allowed_cpus().unwrap();
        assert!(!cpus.is_empty());
        let last = *cpus.last().unwrap();
        // On a throwaway thread: affinity is per thread and must not leak into others.
        let got = std::thread::spawn(move || {
            set_affinity(0, &[last]).unwrap();
            allowed_cpus().unwrap()
        })
        .join()
        .unwrap();
        assert_eq!(got, vec![last]);
        assert!(set_affinity(0, &[]).is_err());
    }

    #[test]
    fn pins_a_child_process_group() {
        use std::os::unix::process::CommandExt;
        let cpus = allowed_cpus().unwrap();
        let first = cpus[0];
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .process_group(0)
            .spawn()
            .unwrap();
        let pid = child.id();
        let target = crate::suite::ProcessSet {
            pgid: Some(pid),
            pids: vec![],
        };
        let n = pin_processes(&target, &[first]);
        let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(n.unwrap(), 1);
        let list = status
            .lines()
            .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
            .unwrap()
            .trim()
            .to_string();
        assert_eq!(list, first.to_string());
        assert!(set_affinity(0, &[1 << 20]).is_err());
    }
}
