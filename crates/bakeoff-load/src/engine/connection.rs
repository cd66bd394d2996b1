//! One connection's task: take a ticket, wait for its time, render or pick
//! the request, send it, read and check the answer, record it. The engine's
//! hot path; the rest of the engine (set-up, the control loop, the cutoff) is
//! in the parent module.

use std::rc::Rc;
use std::time::Duration;

use tokio::time::Instant;

use super::{Engine, Ticket, EARLY, LATE};
use crate::expect::{self, Expect};
use crate::http::{Conn, ExchangeError};
use crate::template::Render;
use crate::ErrorKind;

/// One keep-alive connection (`conn` when opened before the run): take a
/// ticket, wait for its time, send, record. `id` is its slot in `tickets`.
pub(super) async fn connection(e: Rc<Engine>, id: usize, mut conn: Option<Conn>) {
    let mut opened_before = conn.is_some();
    // A connection opened before the run may have been closed while idle:
    // its first request gets the keep-alive retry too.
    let mut idle_since_open = conn.is_some();
    let held = &e.tickets[id];
    let mut connect_failures = 0u32;
    // The schedule's waits and the connect back-off.
    let wait = tokio::time::sleep(Duration::ZERO);
    tokio::pin!(wait);
    // The request timeout, moved lazily (see `within`): a busy connection
    // touches the timer wheel about once per timeout period, not per request.
    let expiry = tokio::time::sleep(e.timeout);
    tokio::pin!(expiry);
    // The previous exchange's end time serves as "now" for the next ticket: one
    // clock read fewer per request.
    let mut now = Instant::now();
    // When the previous answer arrived (the kernel's stamp when harvested), and
    // how late the previous send was through the engine's own delay.
    let mut free_since = now;
    let mut engine_lag = Duration::ZERO;
    // A templated request's rendering, its body's, and its table rows: reused.
    let (mut rendered, mut scratch, mut rows) = (Vec::new(), Vec::new(), Vec::new());
    // Following sessions: this connection's (session, next step).
    let mut session = None;
    while let Some(intended) = e.next_ticket(now) {
        let step = e.plan.next_step(&mut session, &mut e.rng.borrow_mut());
        let idx = step.request;
        let class = e.plan.class_of[idx];
        let mut ticket = Ticket {
            intended,
            class: class as u32,
            sent: false,
        };
        held.set(Some(ticket));
        // Whose is a late send? The engine's when this connection was free at
        // the intended time (`direct`), or would have been had its previous
        // send not been held up by the engine (catching up after a stall); the
        // server's (or the connection count's) when it was waiting for an
        // answer or a connect.
        // (With no carried lag, or a connection free in time, both agree.)
        let direct = free_since <= intended + LATE;
        let mut engines = free_since
            .checked_sub(engine_lag)
            .is_none_or(|free| free <= intended + LATE);
        // Tokio's timer fires on the first 1 ms tick at or after a deadline; aiming
        // one tick early keeps the timer's slack out of the corrected latency.
        if intended > now + EARLY {
            wait.as_mut().reset(intended - EARLY);
            (&mut wait).await;
        }
        if conn.is_none() {
            engines = false; // connecting takes the server's time too
            match tokio::time::timeout(e.timeout, Conn::connect(e.addr, e.ticker.as_ref())).await {
                Ok(Ok(c)) => {
                    if opened_before {
                        e.reconnects.set(e.reconnects.get() + 1);
                    }
                    opened_before = true;
                    connect_failures = 0;
                    conn = Some(c);
                }
                failed => {
                    // A connect that timed out is a server too busy to
                    // accept (a full backlog drops SYNs): a timeout, not a
                    // refusal it answered (the judge reads those as failing).
                    let kind = match failed {
                        Err(_) => ErrorKind::Timeout,
                        Ok(_) => ErrorKind::Connect,
                    };
                    let t = Instant::now();
                    record(&e, class, intended, t, t, Err(kind), false);
                    held.set(None);
                    // Back off so a dead server does not turn into a busy loop.
                    connect_failures = (connect_failures + 1).min(6);
                    wait.as_mut()
                        .reset(t + Duration::from_millis(5 << connect_failures));
                    (&mut wait).await;
                    now = Instant::now();
                    continue;
                }
            }
        }
        let template = e.plan.template[idx].as_deref();
        if let Some(t) = template {
            let seq = e.seq.get();
            e.seq.set(seq + 1);
            let mut rng = e.rng.borrow_mut();
            let mut render = Render {
                rng: &mut rng,
                seq,
                tables: &e.plan.tables,
                cursors: &e.cursors,
                rows: &mut rows,
            };
            t.render(&e.authority, &mut rendered, &mut scratch, &mut render);
        }
        let sent = Instant::now();
        if e.cutoff.get().is_some_and(|c| sent >= c) {
            break; // too late to count: the control loop censors the ticket
        }
        // Closed loop: the request is intended the moment it is sent.
        let intended = if e.open_loop { intended } else { sent };
        ticket.intended = intended;
        ticket.sent = true;
        held.set(Some(ticket));
        let lag = sent.saturating_duration_since(intended);
        // The engine's own part of the lag: from when the connection was free
        // (at the intended time at the earliest) to the send; catching up, at
        // most the part that held up the send it catches up after. So it never
        // grows along a chain of sends: a server that falls behind delays the
        // answers, and each catching-up send with them, by its own queue, which
        // is not the engine's to carry (a backlog in the schedule looked like
        // an ever longer engine stall before).
        let part = match (e.open_loop && engines, direct) {
            (false, _) => Duration::ZERO,
            (true, true) => sent.saturating_duration_since(intended.max(free_since)),
            (true, false) => lag.min(engine_lag),
        };
        engine_lag = if part > LATE { part } else { Duration::ZERO };
        // Only late sends look at the window (most sends are on time).
        let measured = || {
            let start = e.rec.borrow().measure_start;
            start.is_some_and(|m| intended >= m.into())
        };
        if e.open_loop && lag > LATE && measured() {
            e.late_sends.set(e.late_sends.get() + 1);
            e.max_lag.set(e.max_lag.get().max(lag));
            if part > e.stalled_after {
                e.late_stalled.set(e.late_stalled.get() + 1);
            }
        }
        e.rec.borrow_mut().on_send(sent.into());
        let deadline = sent + e.timeout;
        let request: &[u8] = match template {
            Some(_) => &rendered,
            None => &e.plan.bytes[idx],
        };
        let head = e.plan.head[idx];
        let expect = e.plan.expect[class].as_deref();
        let keep_body = expect.is_some_and(Expect::reads_body);
        let mut retried = false;
        let mut arrived = None;
        let outcome = loop {
            let Some(c) = conn.as_mut() else {
                break Err(ErrorKind::Reset);
            };
            let exchange = c.exchange(request, head, keep_body);
            let result = within(deadline, expiry.as_mut(), exchange).await;
            match result {
                Some(Ok(resp)) => {
                    let checked = expect.map_or(Ok(()), |x| {
                        x.check(resp.status, &c.body).map_err(|why| {
                            expect::example(&e.plan.class_names[class], &why, &c.body)
                        })
                    });
                    if resp.close {
                        conn = None;
                    }
                    arrived = resp.arrived;
                    break match checked {
                        Ok(()) => Ok(resp.status),
                        Err(example) => {
                            e.rec.borrow_mut().missed(example);
                            Err(ErrorKind::Expectation)
                        }
                    };
                }
                None => {
                    conn = None;
                    break Err(ErrorKind::Timeout);
                }
                // The server closed an idle keep-alive connection as the
                // request was on its way: retry once. A close that came later
                // met a request it held (`Conn::keep_alive_race`): an error.
                Some(Err(ExchangeError::ClosedBeforeResponse))
                    if !retried
                        && (c.served > 0 || idle_since_open)
                        && sent.elapsed() <= c.keep_alive_race() =>
                {
                    retried = true;
                    conn = None;
                    let connect = Conn::connect(e.addr, e.ticker.as_ref());
                    match within(deadline, expiry.as_mut(), connect).await {
                        Some(Ok(c)) => {
                            e.reconnects.set(e.reconnects.get() + 1);
                            conn = Some(c);
                        }
                        Some(Err(_)) => break Err(ErrorKind::Connect),
                        None => break Err(ErrorKind::Timeout),
                    }
                }
                Some(Err(ExchangeError::Parse)) => {
                    conn = None;
                    break Err(ErrorKind::Parse);
                }
                Some(Err(_)) => {
                    conn = None;
                    break Err(ErrorKind::Reset);
                }
            }
        };
        idle_since_open = false;
        // A tick-harvested response counts from when the kernel received it.
        now = Instant::now();
        let done = arrived.map_or(now, |at| Instant::from_std(at).max(sent).min(now));
        free_since = done;
        record(&e, class, intended, sent, done, outcome, true);
        held.set(None);
        if let Some(think) = step.think {
            // A virtual user's pause (closed loop only), cut short at the
            // window's end so the run does not wait for it.
            let pause = think.min + (think.max - think.min).mul_f64(e.rng.borrow_mut().fraction());
            let end = e.sched.borrow().end;
            let until = end.map_or(now + pause, |end| (now + pause).min(end));
            if until > now {
                wait.as_mut().reset(until);
                (&mut wait).await;
                now = Instant::now();
                free_since = now;
            }
        }
    }
    e.live.set(e.live.get() - 1);
    if e.live.get() == 0 {
        e.all_done.notify_one();
    }
}

/// Run `work` until it finishes, or `None` once `deadline` has passed. `timer`
/// may still be armed for an earlier request's deadline (deadlines only move
/// forward): when it fires early it is moved to `deadline`, so the wheel is
/// touched once per timeout period instead of once per request.
pub(super) async fn within<F: std::future::Future>(
    deadline: Instant,
    mut timer: std::pin::Pin<&mut tokio::time::Sleep>,
    work: F,
) -> Option<F::Output> {
    tokio::pin!(work);
    loop {
        tokio::select! {
            biased;
            out = &mut work => return Some(out),
            _ = timer.as_mut() => {
                if timer.deadline() >= deadline {
                    return None;
                }
                timer.as_mut().reset(deadline);
            }
        }
    }
}

fn record(
    e: &Engine,
    class: usize,
    intended: Instant,
    sent: Instant,
    done: Instant,
    outcome: Result<u16, ErrorKind>,
    was_sent: bool,
) {
    let mut rec = e.rec.borrow_mut();
    if was_sent {
        rec.on_done(sent.into(), done.into());
    }
    rec.record(class, intended.into(), sent.into(), done.into(), outcome);
}
