//! Shared helpers of the hardening tests: the fault fixtures, a marker environment
//! variable that every process bakeoff starts inherits, the `/proc` scan that proves
//! no such process is left, and bounded runs of the CLI (a hang fails the test).

use std::io::Read;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The variable a test sets on the bakeoff it spawns; children inherit it.
pub(crate) const MARKER_VAR: &str = "BAKEOFF_TEST_MARKER";

/// A fault fixture's directory (`tests/fixtures/faults/<name>`).
pub(crate) fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/faults")
        .join(name)
}

/// A unique marker value per test. Dropping it kills (and reports) any process
/// still carrying it, so a failing test leaves nothing running either.
pub(crate) struct Marker(pub String);

impl Marker {
    pub(crate) fn new() -> Marker {
        static N: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        Marker(format!(
            "{}-{nanos}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ))
    }

    /// A `bakeoff` command with the marker set, stdin closed, output captured.
    pub(crate) fn bakeoff(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_bakeoff"));
        cmd.env(MARKER_VAR, &self.0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// Live processes (not zombies) whose environment carries this marker, with
    /// their command lines.
    pub(crate) fn survivors(&self) -> Vec<(i32, String)> {
        let needle = format!("{MARKER_VAR}={}", self.0);
        let me = std::process::id() as i32;
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
            .filter(|&pid| pid != me)
            .filter(|pid| {
                // A zombie's environ reads empty: it runs no code and holds no port.
                std::fs::read(format!("/proc/{pid}/environ"))
                    .map(|env| env.split(|b| *b == 0).any(|v| v == needle.as_bytes()))
                    .unwrap_or(false)
            })
            .map(|pid| {
                let cmd = std::fs::read(format!("/proc/{pid}/cmdline"))
                    .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
                    .unwrap_or_default();
                (pid, cmd.trim().to_string())
            })
            .collect()
    }

    /// Assert that nothing carrying the marker is left, allowing `grace` for exits
    /// already under way. Survivors are killed before the assertion fails.
    pub(crate) fn assert_no_orphans(&self, grace: Duration) {
        let deadline = Instant::now() + grace;
        loop {
            let left = self.survivors();
            if left.is_empty() {
                return;
            }
            if Instant::now() >= deadline {
                self.kill_all();
                panic!("processes left running after the test: {left:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL every process carrying the marker.
    pub(crate) fn kill_all(&self) {
        for (pid, _) in self.survivors() {
            // SAFETY: kill has no memory-safety preconditions.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

impl Drop for Marker {
    fn drop(&mut self) {
        self.kill_all();
    }
}

/// What a bounded run of the CLI printed.
#[derive(Debug)]
pub(crate) struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
    /// The child's peak resident set (VmHWM) as last read before it exited, KiB.
    pub peak_rss_kib: u64,
}

impl Finished {
    pub(crate) fn code(&self) -> Option<i32> {
        self.status.code()
    }
}

/// Spawn `cmd` (in its own process group) and wait at most `limit`; a run that
/// exceeds it is SIGKILLed and the test fails as a hang.
pub(crate) fn run_bounded(cmd: &mut Command, limit: Duration) -> Finished {
    let child = cmd.process_group(0).spawn().expect("spawn bakeoff");
    wait_bounded(child, limit)
}

/// Wait for a spawned child at most `limit`, collecting its output.
pub(crate) fn wait_bounded(mut child: Child, limit: Duration) -> Finished {
    let start = Instant::now();
    let mut out_pipe = child.stdout.take();
    let mut err_pipe = child.stderr.take();
    let out_t = std::thread::spawn(move || read_all(out_pipe.as_mut()));
    let err_t = std::thread::spawn(move || read_all(err_pipe.as_mut()));
    let mut peak_rss_kib = 0;
    let status = loop {
        peak_rss_kib = peak_rss_kib.max(vm_hwm_kib(child.id()).unwrap_or(0));
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > limit {
            // SAFETY: kill has no memory-safety preconditions.
            unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
            let _ = child.wait();
            let stderr = err_t.join().unwrap_or_default();
            panic!("bakeoff hung: no exit within {limit:?}; stderr:\n{stderr}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Finished {
        status,
        stdout: out_t.join().unwrap_or_default(),
        stderr: err_t.join().unwrap_or_default(),
        took: start.elapsed(),
        peak_rss_kib,
    }
}

/// `VmHWM` (peak resident set) of a live process, KiB.
pub(crate) fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn read_all(pipe: Option<&mut impl Read>) -> String {
    let mut buf = Vec::new();
    if let Some(p) = pipe {
        let _ = p.read_to_end(&mut buf);
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// A fault fixture started directly (not through bakeoff), for driving
/// `bakeoff load` at it. Its process group is SIGKILLed on drop.
pub(crate) struct FaultServer {
    child: Child,
    pub port: u16,
}

impl FaultServer {
    pub(crate) fn start(name: &str, marker: &Marker) -> FaultServer {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = Command::new("python3")
            .arg("app.py")
            .current_dir(fixture(name))
            .env("PORT", port.to_string())
            .env(MARKER_VAR, &marker.0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("start python3 fixture");
        let server = FaultServer { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "fixture {name} did not listen within 10s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        // SAFETY: killpg has no memory-safety preconditions; the pgid is our child's.
        unsafe { libc::killpg(self.child.id() as i32, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

/// Send a signal to a process.
pub(crate) fn signal(pid: u32, sig: i32) {
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(pid as i32, sig) };
}
