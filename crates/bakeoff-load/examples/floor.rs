//! The CPU floor of a load generator on this machine: the least any generator
//! built on non-blocking sockets and epoll can spend per request.
//!
//! No runtime, no parsing beyond finding the end of a response, no histograms,
//! no timeouts, no clock reads per request.
//! - `open`: sleeps to each absolute tick (1 ms by default), harvests answers
//!   through epoll with a zero timeout, and sends the requests due on free
//!   connections: the floor of an open loop on a fixed schedule.
//! - `closed`: blocks in epoll and answers every response with the next request
//!   on the same connection, as wrk does.
//!
//! Used by `bench/load.sh` to show how much of the engine's CPU is the kernel's
//! and the schedule's, which no implementation can avoid.
//!
//! Usage:
//!   floor open HOST:PORT RATE SECONDS [CONNECTIONS [TICK_MS]]
//!   floor closed HOST:PORT SECONDS [CONNECTIONS]
//! Prints one line of JSON: requests answered and the process's user+sys CPU
//! seconds over the run (connection set-up excluded).

// Raw epoll and sockets are the point of this floor; it prints its figures.
#![allow(unsafe_code, clippy::print_stdout)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, what: &str| -> f64 {
        let value = args.get(i).map(|v| (v, v.parse::<f64>()));
        match value {
            Some((_, Ok(x))) if x > 0.0 => x,
            Some((v, _)) => fail(&format!("{what} `{v}` must be a number above zero")),
            None => fail(&format!("{what} is missing")),
        }
    };
    let optional = |i: usize, what: &str, default: f64| {
        if args.len() > i {
            number(i, what)
        } else {
            default
        }
    };
    let addr = args.get(1).cloned().unwrap_or_default();
    let outcome = match args.first().map(String::as_str) {
        Some("open") => {
            let (rate, seconds) = (number(2, "RATE"), number(3, "SECONDS"));
            let conns = optional(4, "CONNECTIONS", 64.0) as usize;
            let tick = Duration::from_secs_f64(optional(5, "TICK_MS", 1.0) / 1e3);
            connect(&addr, conns).and_then(|c| open(c, &addr, rate, seconds, tick))
        }
        Some("closed") => {
            let seconds = number(2, "SECONDS");
            let conns = optional(3, "CONNECTIONS", 64.0) as usize;
            connect(&addr, conns).and_then(|c| closed(c, &addr, seconds))
        }
        _ => fail(
            "usage: floor open HOST:PORT RATE SECONDS [CONNECTIONS [TICK_MS]]\n       \
             floor closed HOST:PORT SECONDS [CONNECTIONS]",
        ),
    };
    match outcome {
        Ok((answered, cpu)) => println!("{{\"requests\": {answered}, \"cpu_s\": {cpu:.4}}}"),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(2)
}

struct Conns {
    epoll: i32,
    socks: Vec<TcpStream>,
    bufs: Vec<Vec<u8>>,
}

/// Open `n` keep-alive connections, all in one edge-triggered epoll set.
fn connect(addr: &str, n: usize) -> std::io::Result<Conns> {
    // SAFETY: epoll_create1 has no memory-safety preconditions.
    let epoll = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    if epoll < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut socks = Vec::with_capacity(n);
    for i in 0..n {
        let sock = TcpStream::connect(addr)?;
        sock.set_nodelay(true)?;
        sock.set_nonblocking(true)?;
        let mut ev = libc::epoll_event {
            events: (libc::EPOLLIN | libc::EPOLLET) as u32,
            u64: i as u64,
        };
        // SAFETY: both descriptors are open; ev is a valid event.
        if unsafe { libc::epoll_ctl(epoll, libc::EPOLL_CTL_ADD, sock.as_raw_fd(), &mut ev) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        socks.push(sock);
    }
    Ok(Conns {
        epoll,
        socks,
        bufs: vec![Vec::with_capacity(4096); n],
    })
}

impl Conns {
    /// Wait up to `timeout_ms` for answers; the connections whose response is
    /// now complete.
    fn harvest(&mut self, timeout_ms: i32, done: &mut Vec<usize>) -> std::io::Result<()> {
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; 256];
        let mut chunk = [0u8; 16 * 1024];
        // SAFETY: the buffer holds 256 events.
        let got = unsafe { libc::epoll_wait(self.epoll, events.as_mut_ptr(), 256, timeout_ms) };
        for ev in &events[..got.max(0) as usize] {
            let i = ev.u64 as usize;
            // A short read drained the socket: the next arrival raises a new edge
            // (so no read ends in EAGAIN, as in tokio and wrk).
            loop {
                match self.socks[i].read(&mut chunk) {
                    Ok(0) => return Err(std::io::Error::other("the server closed a connection")),
                    Ok(k) => {
                        self.bufs[i].extend_from_slice(&chunk[..k]);
                        if k < chunk.len() {
                            break;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => return Err(e),
                }
            }
            if complete(&self.bufs[i]) {
                self.bufs[i].clear();
                done.push(i);
            }
        }
        Ok(())
    }
}

fn request(addr: &str) -> Vec<u8> {
    format!("GET / HTTP/1.1\r\nHost: {addr}\r\n\r\n").into_bytes()
}

fn open(
    mut c: Conns,
    addr: &str,
    rate: f64,
    seconds: f64,
    period: Duration,
) -> std::io::Result<(u64, f64)> {
    let request = request(addr);
    let cpu_before = cpu_seconds();
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(seconds);
    let interval = Duration::from_secs_f64(1.0 / rate);
    let (mut next_send, mut answered, mut backlog) = (start, 0u64, 0u64);
    let mut free: Vec<usize> = (0..c.socks.len()).collect();
    let mut tick = start;
    loop {
        tick += period;
        let now = Instant::now();
        if tick > now {
            std::thread::sleep(tick - now);
        }
        let before = free.len();
        c.harvest(0, &mut free)?;
        answered += (free.len() - before) as u64;
        let now = Instant::now();
        if now >= end {
            break;
        }
        while next_send <= now {
            backlog += 1;
            next_send += interval;
        }
        while backlog > 0 {
            let Some(i) = free.pop() else { break };
            c.socks[i].write_all(&request)?;
            backlog -= 1;
        }
    }
    Ok((answered, cpu_seconds() - cpu_before))
}

fn closed(mut c: Conns, addr: &str, seconds: f64) -> std::io::Result<(u64, f64)> {
    let request = request(addr);
    let cpu_before = cpu_seconds();
    let end = Instant::now() + Duration::from_secs_f64(seconds);
    let mut answered = 0u64;
    let mut done: Vec<usize> = (0..c.socks.len()).collect();
    // The clock is read once per epoll batch, not per request.
    while Instant::now() < end {
        for &i in &done {
            c.socks[i].write_all(&request)?;
        }
        done.clear();
        c.harvest(100, &mut done)?;
        answered += done.len() as u64;
    }
    Ok((answered, cpu_seconds() - cpu_before))
}

/// Whether `buf` holds one whole response (head plus `Content-Length` body).
fn complete(buf: &[u8]) -> bool {
    let Some(head) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let length = buf[..head]
        .split(|&b| b == b'\n')
        .find_map(|line| {
            let line = std::str::from_utf8(line).ok()?;
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    buf.len() >= head + 4 + length
}

fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes into the zeroed struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}
