//! Tick-harvested sockets for the open loop: responses are collected once per
//! millisecond tick instead of waking the engine thread for each one, and each
//! read carries the kernel's arrival timestamp, so latency stays exact.
//!
//! Why: a sleep/wake of the engine thread is the dominant cost of an open loop
//! (tens of µs of CPU each on a VM). Tokio wakes the thread for every socket
//! event; here the sockets sit in a private edge-triggered epoll set that only
//! the [`Ticker`] reads, with a zero timeout, on tokio's 1 ms timer, which the
//! send schedule wakes on anyway (less often while nothing arrives). A connection therefore becomes free again up
//! to one tick after its response arrived; the timestamps make that delay
//! invisible to the latency figures (`SO_TIMESTAMPNS`, the time the kernel
//! received the last bytes read). The kernel turns stamping on through deferred
//! work the first time a socket asks, so the first replies of a process may
//! come unstamped; those count from the read, at most a tick late.

// epoll and recvmsg with SO_TIMESTAMPNS: the reason this module exists (docs/benchmarks.md).
#![allow(unsafe_code)]

use std::cell::{Cell, RefCell};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

/// How often waiting connections are harvested while answers keep coming.
pub(crate) const TICK: Duration = Duration::from_millis(1);
/// The longest wait between harvests when nothing has arrived for a while.
const MAX_PERIOD: Duration = Duration::from_millis(16);
/// Arrival timestamps older than this are not trusted (the wall clock was set).
const MAX_AGE: Duration = Duration::from_secs(60);

#[derive(Default)]
struct Slot {
    readable: bool,
    writable: bool,
    /// The peer closed or the socket broke: sticky, as the edge does not repeat
    /// (a read that drains the data before the FIN must still see the EOF).
    read_closed: bool,
    broken: bool,
    reader: Option<Waker>,
    writer: Option<Waker>,
}

/// The private epoll set and the wakers of the connections waiting on it.
pub(crate) struct Ticker {
    epfd: OwnedFd,
    slots: RefCell<Vec<Slot>>,
    free: RefCell<Vec<usize>>,
    /// Registered wakers; the ticker sleeps while there are none.
    waiting: Cell<usize>,
    wake: Notify,
    /// Harvests so far (the back-off's effect is visible in tests).
    harvests: Cell<u64>,
    /// Both clocks as read at the last harvest: arrival stamps are converted
    /// through it (two clock reads per tick instead of per response).
    clocks: Cell<Option<Clocks>>,
    /// The open loop's next unclaimed send (see [`Ticker::next_send`]).
    next_send: Cell<Option<tokio::time::Instant>>,
}

impl Ticker {
    pub(crate) fn new() -> io::Result<Rc<Ticker>> {
        // SAFETY: epoll_create1 has no memory-safety preconditions.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Rc::new(Ticker {
            // SAFETY: fd is a new descriptor that nothing else owns.
            epfd: unsafe { OwnedFd::from_raw_fd(fd) },
            slots: RefCell::new(Vec::new()),
            free: RefCell::new(Vec::new()),
            waiting: Cell::new(0),
            wake: Notify::new(),
            harvests: Cell::new(0),
            clocks: Cell::new(None),
            next_send: Cell::new(None),
        }))
    }

    /// When the open loop's next send is due, as its schedule stands after the
    /// last ticket a connection took (`None` once it stops). A free connection
    /// takes the next ticket at once, so one due and unclaimed means every
    /// connection waits on an answer: see [`Ticker::run`].
    pub(crate) fn next_send(&self, at: Option<tokio::time::Instant>) {
        self.next_send.set(at);
    }

    /// Harvest while anyone waits; sleep otherwise. Runs until aborted. The
    /// period doubles, up to [`MAX_PERIOD`], while harvests find nothing, so a
    /// slow server (answers 50 ms apart) costs a few wake-ups per answer instead
    /// of one per millisecond; a busy one is harvested every tick. Never past
    /// the next unclaimed send, and every tick while one waits: the answer
    /// that frees a connection for it is read at the next harvest, so after a
    /// server's pause a backed-off harvest held such sends up to 16 ms, the
    /// engine's delay (read as a machine's stall), not the server's.
    pub(crate) async fn run(self: Rc<Self>) {
        let sleep = tokio::time::sleep(TICK);
        tokio::pin!(sleep);
        let mut period = TICK;
        let mut last = tokio::time::Instant::now();
        loop {
            if self.waiting.get() == 0 {
                self.wake.notified().await;
                self.clocks.set(None); // too old to convert stamps by now
                period = TICK;
                last = tokio::time::Instant::now();
            }
            let at = next_harvest(
                last,
                tokio::time::Instant::now(),
                period,
                self.next_send.get(),
            );
            sleep.as_mut().reset(at);
            (&mut sleep).await;
            last = at;
            period = if self.harvest() {
                TICK
            } else {
                (period * 2).min(MAX_PERIOD)
            };
        }
    }

    /// Collect the events queued since the last harvest and wake their waiters;
    /// whether there were any.
    pub(crate) fn harvest(&self) -> bool {
        const N: usize = 256;
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; N];
        let mut found = false;
        self.harvests.set(self.harvests.get() + 1);
        self.clocks.set(Clocks::now());
        loop {
            // SAFETY: the buffer holds N events; a zero timeout never blocks.
            let n = unsafe {
                libc::epoll_wait(self.epfd.as_raw_fd(), events.as_mut_ptr(), N as i32, 0)
            };
            if n <= 0 {
                return found; // nothing queued (or EINTR: the next tick retries)
            }
            found = true;
            let mut slots = self.slots.borrow_mut();
            for ev in &events[..n as usize] {
                let Some(slot) = slots.get_mut(ev.u64 as usize) else {
                    continue;
                };
                let bits = ev.events as i32;
                let broken = bits & (libc::EPOLLHUP | libc::EPOLLERR) != 0;
                slot.broken |= broken;
                slot.read_closed |= broken || bits & libc::EPOLLRDHUP != 0;
                if broken || bits & (libc::EPOLLIN | libc::EPOLLRDHUP) != 0 {
                    slot.readable = true;
                    if let Some(w) = slot.reader.take() {
                        self.waiting.set(self.waiting.get() - 1);
                        w.wake();
                    }
                }
                if broken || bits & libc::EPOLLOUT != 0 {
                    slot.writable = true;
                    if let Some(w) = slot.writer.take() {
                        self.waiting.set(self.waiting.get() - 1);
                        w.wake();
                    }
                }
            }
            if (n as usize) < N {
                return found;
            }
        }
    }

    /// The clock reading of the last harvest, or a fresh one before the first.
    fn clocks(&self) -> Option<Clocks> {
        if self.clocks.get().is_none() {
            self.clocks.set(Clocks::now());
        }
        self.clocks.get()
    }

    /// Sockets in the set now.
    #[cfg(test)]
    pub(crate) fn registered(&self) -> usize {
        self.slots.borrow().len() - self.free.borrow().len()
    }

    fn register(&self, fd: i32) -> io::Result<usize> {
        let index = self.free.borrow_mut().pop().unwrap_or_else(|| {
            let mut slots = self.slots.borrow_mut();
            slots.push(Slot::default());
            slots.len() - 1
        });
        // Data may already be queued: try the first read instead of waiting a tick.
        self.slots.borrow_mut()[index] = Slot {
            readable: true,
            writable: true,
            ..Slot::default()
        };
        let mut ev = libc::epoll_event {
            events: (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET) as u32,
            u64: index as u64,
        };
        // SAFETY: both descriptors are open; ev is a valid event.
        let rc =
            unsafe { libc::epoll_ctl(self.epfd.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) };
        if rc != 0 {
            self.free.borrow_mut().push(index);
            return Err(io::Error::last_os_error());
        }
        Ok(index)
    }

    fn release(&self, index: usize, fd: i32) {
        // Explicitly: a forked child may briefly hold the socket open, and its
        // events must not reach the slot's next owner.
        // SAFETY: a null event is allowed for EPOLL_CTL_DEL.
        unsafe {
            libc::epoll_ctl(
                self.epfd.as_raw_fd(),
                libc::EPOLL_CTL_DEL,
                fd,
                std::ptr::null_mut(),
            )
        };
        let mut slots = self.slots.borrow_mut();
        let slot = std::mem::take(&mut slots[index]);
        let dropped = usize::from(slot.reader.is_some()) + usize::from(slot.writer.is_some());
        self.waiting.set(self.waiting.get() - dropped);
        self.free.borrow_mut().push(index);
    }

    /// Whether the slot may have data; if not, park `waker` until a harvest.
    fn poll_ready(&self, index: usize, write: bool, waker: &Waker) -> bool {
        let mut slots = self.slots.borrow_mut();
        let slot = &mut slots[index];
        let (ready, parked) = if write {
            (slot.writable || slot.broken, &mut slot.writer)
        } else {
            (slot.readable || slot.read_closed, &mut slot.reader)
        };
        if ready {
            return true;
        }
        if parked.is_none() {
            let before = self.waiting.get();
            self.waiting.set(before + 1);
            if before == 0 {
                self.wake.notify_one();
            }
        }
        match parked {
            Some(w) if w.will_wake(waker) => {}
            _ => *parked = Some(waker.clone()),
        }
        false
    }

    fn clear(&self, index: usize, write: bool) {
        let mut slots = self.slots.borrow_mut();
        if write {
            slots[index].writable = false;
        } else {
            slots[index].readable = false;
        }
    }
}

/// When to harvest next, the last harvest having been due at `last`: `period`
/// after it on its grid (whole ticks from `last`), the grid's next point at
/// the soonest, and never past `send`, the next unclaimed send (should no
/// connection free up by then, it waits on an answer this harvest reads; one
/// already due makes it the grid's next point).
///
/// Why a grid and not `now + period`: tokio rounds a deadline up to the end of
/// its millisecond, so a tick set from a harvest that woke partway into its
/// millisecond (they all do) came two milliseconds on, not one: harvests about
/// 2.1 ms apart (48 in 100 ms with a send waiting, 100 on the grid). Points a
/// whole tick apart round to consecutive milliseconds, as
/// `tokio::time::Interval`'s do.
fn next_harvest(
    last: tokio::time::Instant,
    now: tokio::time::Instant,
    period: Duration,
    send: Option<tokio::time::Instant>,
) -> tokio::time::Instant {
    let tick_ns = TICK.as_nanos();
    // Tokio fires a point at the end of its millisecond, so a harvest wakes up
    // to a tick after its point: the point a whole tick on may be just behind
    // `now` and still in a millisecond to come. Skipping it would skip a tick.
    let soonest = (now.saturating_duration_since(last).as_nanos() / tick_ns).max(1);
    let ticks = |n: u128| last + TICK * u32::try_from(n).unwrap_or(u32::MAX);
    let backed = ticks(soonest.max(period.as_nanos() / tick_ns));
    let soonest = ticks(soonest);
    match send {
        Some(send) => backed.min(send.max(soonest)),
        None => backed,
    }
}

/// A non-blocking TCP socket outside tokio's reactor, read on ticks.
pub(crate) struct TickedStream {
    sock: std::net::TcpStream,
    slot: usize,
    ticker: Rc<Ticker>,
    /// When the kernel received the bytes of the last read.
    last_rx: Option<Instant>,
}

impl TickedStream {
    /// Take `stream` out of tokio's reactor into the ticker's epoll set.
    pub(crate) fn new(
        stream: tokio::net::TcpStream,
        ticker: &Rc<Ticker>,
    ) -> io::Result<TickedStream> {
        let sock = stream.into_std()?;
        let on: libc::c_int = 1;
        // SAFETY: the option value is a c_int of the size given.
        let rc = unsafe {
            libc::setsockopt(
                sock.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_TIMESTAMPNS,
                (&on as *const libc::c_int).cast(),
                size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        let slot = ticker.register(sock.as_raw_fd())?;
        Ok(TickedStream {
            sock,
            slot,
            ticker: ticker.clone(),
            last_rx: None,
        })
    }

    /// The kernel arrival time of the bytes read last, if the kernel gave one.
    pub(crate) fn take_last_rx(&mut self) -> Option<Instant> {
        self.last_rx.take()
    }
}

impl Drop for TickedStream {
    fn drop(&mut self) {
        self.ticker.release(self.slot, self.sock.as_raw_fd());
    }
}

/// One reading of both clocks: the monotonic `Instant` and the wall clock the
/// kernel stamps arrivals with.
#[derive(Clone, Copy)]
struct Clocks {
    mono: Instant,
    wall: Duration,
}

impl Clocks {
    fn now() -> Option<Clocks> {
        let mono = Instant::now();
        let wall = SystemTime::now().duration_since(UNIX_EPOCH).ok()?;
        Some(Clocks { mono, wall })
    }

    /// Convert a `CLOCK_REALTIME` arrival stamp to an `Instant`, through this
    /// reading (taken at most a harvest period away, so the clocks' drift
    /// between the two is nanoseconds; a wall-clock step shows as a stale stamp).
    fn arrival(self, ts: libc::timespec) -> Option<Instant> {
        let stamp = Duration::new(
            u64::try_from(ts.tv_sec).ok()?,
            u32::try_from(ts.tv_nsec).ok()?,
        );
        match self.wall.checked_sub(stamp) {
            Some(age) if age <= MAX_AGE => self.mono.checked_sub(age),
            Some(_) => None,
            // Arrived after the reading (a read between harvests).
            None if stamp - self.wall <= MAX_AGE => self.mono.checked_add(stamp - self.wall),
            None => None,
        }
    }
}

impl AsyncRead for TickedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if !this.ticker.poll_ready(this.slot, false, cx.waker()) {
                return Poll::Pending;
            }
            // SAFETY: recvmsg only writes initialized bytes, and we mark only those.
            let unfilled = unsafe { buf.unfilled_mut() };
            let cap = unfilled.len();
            let mut iov = libc::iovec {
                iov_base: unfilled.as_mut_ptr().cast(),
                iov_len: cap,
            };
            let mut control = [0u64; 8];
            // SAFETY: msghdr is plain data; all-zero is a valid empty header.
            let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control.as_mut_ptr().cast();
            msg.msg_controllen = size_of_val(&control) as _;
            // SAFETY: msg points at live buffers of the lengths it states.
            let n = unsafe { libc::recvmsg(this.sock.as_raw_fd(), &mut msg, libc::MSG_DONTWAIT) };
            if n < 0 {
                let err = io::Error::last_os_error();
                match err.kind() {
                    io::ErrorKind::WouldBlock => {
                        this.ticker.clear(this.slot, false);
                        continue; // parks the waker
                    }
                    io::ErrorKind::Interrupted => continue,
                    _ => return Poll::Ready(Err(err)),
                }
            }
            let n = n as usize;
            if n > 0 && n < cap {
                // Drained: the next arrival queues a new edge (as tokio does).
                this.ticker.clear(this.slot, false);
            }
            // SAFETY: walking the control buffer the kernel filled, by its macros.
            unsafe {
                let mut c = libc::CMSG_FIRSTHDR(&msg);
                while !c.is_null() {
                    if (*c).cmsg_level == libc::SOL_SOCKET
                        && (*c).cmsg_type == libc::SCM_TIMESTAMPNS
                    {
                        let ts: libc::timespec =
                            std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                        if let Some(at) = this.ticker.clocks().and_then(|c| c.arrival(ts)) {
                            this.last_rx = Some(at);
                        }
                    }
                    c = libc::CMSG_NXTHDR(&msg, c);
                }
                buf.assume_init(n);
            }
            buf.advance(n);
            return Poll::Ready(Ok(()));
        }
    }
}

impl AsyncWrite for TickedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        loop {
            if !this.ticker.poll_ready(this.slot, true, cx.waker()) {
                return Poll::Pending;
            }
            // SAFETY: data is a live slice of the length given.
            let n = unsafe {
                libc::send(
                    this.sock.as_raw_fd(),
                    data.as_ptr().cast(),
                    data.len(),
                    libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
                )
            };
            if n >= 0 {
                return Poll::Ready(Ok(n as usize));
            }
            let err = io::Error::last_os_error();
            match err.kind() {
                io::ErrorKind::WouldBlock => this.ticker.clear(this.slot, true),
                io::ErrorKind::Interrupted => {}
                _ => return Poll::Ready(Err(err)),
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.sock.shutdown(std::net::Shutdown::Write))
    }
}

/// A [`TickedStream`] for a protocol layer that owns it (tungstenite's
/// WebSocket): every read publishes its arrival stamp to a cell the caller
/// keeps, where [`TickedStream::take_last_rx`] would need the stream. A read
/// the kernel did not stamp leaves `None` (time it at its read), never an
/// older read's stamp.
pub(crate) struct Stamped {
    inner: TickedStream,
    arrived: Rc<Cell<Option<Instant>>>,
}

impl Stamped {
    /// The stream, and the cell its reads stamp.
    pub(crate) fn new(inner: TickedStream) -> (Stamped, Rc<Cell<Option<Instant>>>) {
        let arrived = Rc::new(Cell::new(None));
        (
            Stamped {
                inner,
                arrived: arrived.clone(),
            },
            arrived,
        )
    }
}

impl AsyncRead for Stamped {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let read = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(read, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.arrived.set(this.inner.take_last_rx());
        }
        read
    }
}

impl AsyncWrite for Stamped {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Run `f` as the engine runs: a current-thread runtime with a `LocalSet`.
    fn on_engine_like_thread<T>(f: impl std::future::Future<Output = T>) -> T {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        tokio::task::LocalSet::new().block_on(&rt, f)
    }

    /// A reply to every `ping` from a peer on its own thread, until EOF.
    fn echo_peer() -> std::net::SocketAddr {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut b = [0u8; 4];
            while s.read_exact(&mut b).is_ok() && s.write_all(b"pong").is_ok() {}
        });
        addr
    }

    /// One ping-pong, the thread blocked for `hold` after the send (the reply
    /// arrives meanwhile and is read late); the kernel's arrival stamp of the
    /// reply, if it gave one.
    async fn ping(s: &mut TickedStream, hold: Duration) -> Option<Instant> {
        s.write_all(b"ping").await.unwrap();
        std::thread::sleep(hold);
        let mut out = [0u8; 4];
        tokio::time::timeout(Duration::from_secs(5), s.read_exact(&mut out))
            .await
            .expect("the reply is harvested")
            .unwrap();
        assert_eq!(&out, b"pong");
        s.take_last_rx()
    }

    /// Stamps are converted through the harvest's clock reading, before or after it.
    #[test]
    fn stamps_convert_through_one_clock_reading() {
        let reading = Clocks::now().unwrap();
        let stamp = |d: Duration| libc::timespec {
            tv_sec: d.as_secs() as libc::time_t,
            tv_nsec: d.subsec_nanos() as _,
        };
        let ms = Duration::from_millis;
        let before = reading.arrival(stamp(reading.wall - ms(3))).unwrap();
        assert_eq!(reading.mono - before, ms(3));
        let after = reading.arrival(stamp(reading.wall + ms(2))).unwrap();
        assert_eq!(after - reading.mono, ms(2));
        // A stamp from before a wall-clock step is not trusted either way.
        assert!(reading.arrival(stamp(reading.wall - MAX_AGE * 2)).is_none());
        assert!(reading.arrival(stamp(reading.wall + MAX_AGE * 2)).is_none());
    }

    /// A response read long after it arrived carries its arrival time.
    #[test]
    fn reads_carry_the_kernel_arrival_time() {
        on_engine_like_thread(async {
            let addr = echo_peer();
            let ticker = Ticker::new().unwrap();
            let run = tokio::task::spawn_local(ticker.clone().run());
            let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            let mut s = TickedStream::new(stream, &ticker).unwrap();
            // The first socket to ask for stamps turns them on through deferred
            // kernel work (net_enable_timestamp): replies may come unstamped
            // for a moment, so wait for one that is stamped.
            let warm = Instant::now();
            while ping(&mut s, Duration::ZERO).await.is_none() {
                assert!(
                    warm.elapsed() < Duration::from_secs(5),
                    "no kernel arrival stamp in 5 s"
                );
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            let sent = Instant::now();
            let at = ping(&mut s, Duration::from_millis(50))
                .await
                .expect("a kernel timestamp");
            let rtt = at - sent;
            assert!(
                rtt < Duration::from_millis(40),
                "arrival {rtt:?} after the send"
            );
            assert!(sent.elapsed() >= Duration::from_millis(50));
            drop(s);
            assert_eq!(ticker.waiting.get(), 0);
            run.abort();
        });
    }

    /// How many harvests a reader takes to get an answer sent 100 ms after it
    /// starts waiting, with a send `due` (as the engine tells the ticker) or
    /// none.
    fn harvests_for_a_silent_peer(due: Option<tokio::time::Instant>) -> u64 {
        on_engine_like_thread(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move {
                let (mut s, _) = listener.accept().await.unwrap();
                tokio::time::sleep(Duration::from_millis(100)).await;
                s.write_all(b"late").await.unwrap();
            });
            let ticker = Ticker::new().unwrap();
            ticker.next_send(due);
            let run = tokio::task::spawn_local(ticker.clone().run());
            let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            let mut s = TickedStream::new(stream, &ticker).unwrap();
            let t0 = Instant::now();
            let mut out = Vec::new();
            tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out))
                .await
                .expect("the answer and the close are harvested")
                .unwrap();
            assert_eq!(out, b"late");
            assert!(t0.elapsed() >= Duration::from_millis(90));
            run.abort();
            ticker.harvests.get()
        })
    }

    /// A reader parks until the answer comes; waiting 100 ms for it takes a
    /// handful of harvests (the back-off), not one per tick.
    #[test]
    fn a_silent_peer_parks_the_reader_and_harvests_back_off() {
        let n = harvests_for_a_silent_peer(None);
        assert!((1..30).contains(&n), "{n} harvests for one 100 ms wait");
    }

    /// The same wait while a send is due and unclaimed (every connection
    /// waiting on an answer): a harvest on every tick, so the answer frees
    /// its connection within a tick or two of arriving.
    #[test]
    fn a_waiting_send_keeps_the_harvests_on_every_tick() {
        let n = harvests_for_a_silent_peer(Some(tokio::time::Instant::now()));
        assert!(n >= 30, "{n} harvests for one 100 ms wait with a send due");
    }

    /// Harvests keep to their grid however late the last one woke: `now + 1
    /// ms` from a harvest 0.4 ms into its millisecond rounds (tokio rounds
    /// deadlines up) to two milliseconds on, a grid point to one.
    #[test]
    fn harvests_keep_to_a_grid_of_whole_ticks() {
        let last = tokio::time::Instant::now();
        let ms = |x: f64| Duration::from_secs_f64(x / 1000.0);
        let next = |now: f64, period: u64, send: Option<f64>| {
            let at = next_harvest(
                last,
                last + ms(now),
                Duration::from_millis(period),
                send.map(|s| last + ms(s)),
            );
            (at - last).as_secs_f64() * 1000.0
        };
        let close = |a: f64, b: f64| (a - b).abs() < 1e-6;
        // Busy: the next point, wherever the harvest woke up to a tick after
        // its own (tokio fires a point at the end of its millisecond, so the
        // point a tick on may be just behind now and still to come).
        for woke in [0.0, 0.4, 0.999, 1.3, 1.999] {
            assert!(close(next(woke, 1, None), 1.0), "woke at {woke}");
        }
        // Woke ticks late: on from the grid's point a tick behind, no burst.
        assert!(close(next(5.5, 1, None), 5.0));
        // Backed off: `period` on from the last point, or as busy past it.
        assert!(close(next(0.4, 8, None), 8.0));
        assert!(close(next(9.5, 8, None), 9.0));
        // A send due first caps it; one due already (or within the tick)
        // makes it the next point.
        assert!(close(next(0.4, 16, Some(5.5)), 5.5));
        assert!(close(next(0.4, 16, Some(0.2)), 1.0));
        assert!(close(next(0.4, 16, Some(0.7)), 1.0));
        assert!(close(next(0.4, 4, Some(9.0)), 4.0));
    }
}
