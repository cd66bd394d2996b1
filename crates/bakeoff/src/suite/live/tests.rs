//! The driver's window rules and its thread and pool sizing.
use super::*;

#[test]
fn percentiles_are_milliseconds() {
    let mut h = Histogram::<u64>::new(3).unwrap();
    for us in 1..=1000u64 {
        h.record(us * 1000).unwrap();
    }
    let p = percentiles(&h);
    assert!((p.p50 - 500.0).abs() < 1.0, "{p:?}");
    assert!((p.p99 - 990.0).abs() < 2.0, "{p:?}");
    assert!((p.max - 1000.0).abs() < 1.0, "{p:?}");
    let s = spectrum(&h);
    assert_eq!(s.len(), SPECTRUM.len());
    assert!(s.windows(2).all(|w| w[0][1] <= w[1][1]));
    assert!(percentiles(&Histogram::<u64>::new(3).unwrap()).p99 == 0.0);
}

#[test]
fn a_window_is_the_machines_past_one_percent_late_or_two_percent_steal() {
    assert_eq!(stall(10, 1000, None, false), None);
    assert!(stall(11, 1000, None, false)
        .unwrap()
        .contains("1.1% of sends"));
    // A busy generator's late sends are its own load's, not a stall.
    assert_eq!(stall(110, 1000, None, true), None);
    let machine = |share| {
        Some(Stolen {
            share,
            cpu: None,
            limit: STALLED_STEAL,
            default_limit: STALLED_STEAL,
            within: None,
        })
    };
    assert_eq!(stall(0, 1000, machine(0.019), false), None);
    assert!(stall(0, 1000, machine(0.02), true)
        .unwrap()
        .contains("steal"));
    assert_eq!(stall(5, 0, None, false), None);
    // One or two late sends in a window of 50 are not a stalled machine.
    assert_eq!(stall(2, 50, None, false), None);
    assert!(stall(3, 50, None, false).is_some());
}

/// `--max-steal 8`: windows with up to 8% of the machine's steal (20% of one
/// watched CPU) are the server's; past it the stall names the raised limit.
/// The percentages a run takes run from the default to a third.
#[test]
fn a_raised_steal_limit_judges_more_windows_as_the_servers() {
    let second = Duration::from_secs(1);
    let raised = StealLimit::from_percent(8.0).unwrap();
    assert!((raised.one_cpu() - 0.2).abs() < 1e-9);
    let w = worst_steal(Some(0.05), &[0.05, 0.05], &[0, 1], second, raised).unwrap();
    assert!(!w.voids(), "{w:?}");
    assert_eq!(stall(0, 1000, Some(w), false), None);
    let w = worst_steal(Some(0.09), &[0.09, 0.09], &[0, 1], second, raised).unwrap();
    assert_eq!(
        stall(0, 1000, Some(w), false).unwrap(),
        "the hypervisor took 9.0% of the machine's CPU time (steal) during the window, over the run's raised limit of 8.0%"
    );
    let w = worst_steal(Some(0.05), &[0.0, 0.21], &[0, 1], second, raised).unwrap();
    assert_eq!(w.cpu, Some(1));
    assert!(w.voids());
    // Late sends void a window whatever the steal limit.
    assert!(stall(20, 1000, None, false).is_some());
    assert!(StealLimit::default().is_default() && !raised.is_default());
    assert_eq!(StealLimit::from_percent(2.0), Some(StealLimit::default()));
    for bad in [1.9, 33.1, f64::NAN, f64::INFINITY, -5.0] {
        assert_eq!(StealLimit::from_percent(bad), None, "{bad}");
    }
    // Through a window.
    let r = load::LoadReport {
        steal: Some(0.05),
        cpu_steal: vec![0.05, 0.05],
        successes: 1_000,
        generator_wall_s: 1.0,
        ..empty_report()
    };
    assert!(window_result(&r, &[0, 1], StealLimit::default())
        .stalled
        .is_some());
    assert_eq!(window_result(&r, &[0, 1], raised).stalled, None);
    // Judged as the server's, and said to be: over the default, under the raised.
    assert_eq!(
        window_result(&r, &[0, 1], raised).steal_tolerated.as_deref(),
        Some("the hypervisor took 5.0% of the machine's CPU time (steal), over its default limit of 2.0% and under the run's raised 8.0%: judged as the server's")
    );
    assert_eq!(
        window_result(&r, &[0, 1], StealLimit::default()).steal_tolerated,
        None
    );
    let voided = load::LoadReport {
        steal: Some(0.09),
        cpu_steal: vec![0.09, 0.09],
        ..r.clone()
    };
    assert_eq!(
        window_result(&voided, &[0, 1], raised).steal_tolerated,
        None
    );
    let quiet = load::LoadReport {
        steal: Some(0.01),
        cpu_steal: vec![0.01, 0.01],
        ..r
    };
    assert_eq!(window_result(&quiet, &[0, 1], raised).steal_tolerated, None);
    // One watched CPU: 6% is over its default 5% and under its raised 20%,
    // and the message gives that CPU's limits, not the machine's.
    let w = worst_steal(Some(0.01), &[0.0, 0.06], &[0, 1], second, raised);
    assert_eq!(
        tolerated_steal(w.as_ref()).as_deref(),
        Some("the hypervisor took 6.0% of cpu 1's time (steal), over its default limit of 5.0% and under the run's raised 20.0%: judged as the server's")
    );
    // Under the default limit nothing is tolerated: it voids or it is under.
    let w = worst_steal(
        Some(0.01),
        &[0.0, 0.06],
        &[0, 1],
        second,
        StealLimit::default(),
    );
    assert_eq!(tolerated_steal(w.as_ref()), None);
}

/// A pause of the contender's vCPU that its window's average hides (80 ms
/// within half a second, 1.6% of its 5 s) voids the window; a quiet VM's
/// scattered ticks do not, nor a pause of a CPU the measurement is not on.
/// A raised `--max-steal` raises the burst's bar with the rest.
#[test]
fn a_burst_of_steal_voids_the_window_its_average_hides() {
    let window = Duration::from_secs(5);
    let ms = Duration::from_millis;
    let paused = [ms(0), ms(80)];
    let limit = StealLimit::default();
    assert_eq!(limit.burst(), STALLED_BURST);
    let average = worst_steal(Some(0.008), &[0.0, 0.016], &[0, 1], window, limit);
    assert!(!average.unwrap().voids());
    let w = burst_steal(&paused, &[0, 1], limit).unwrap();
    assert_eq!((w.cpu, w.within), (Some(1), Some(load::bursts::SPAN)));
    assert_eq!(
        stall(0, 1000, Some(w), false).as_deref(),
        Some("the hypervisor took 80 ms of cpu 1's time within 0.5 s (steal) during the window")
    );
    assert_eq!(
        burst_steal(&[ms(20), ms(40)], &[0, 1], limit).filter(Stolen::voids),
        None
    );
    assert_eq!(burst_steal(&paused, &[0], limit), None);
    assert_eq!(burst_steal(&paused, &[7], limit), None);
    // The worse of the two readings is the one judged.
    let judged = |bursts: &[Duration]| {
        window_steal(Some(0.03), &[0.0, 0.06], bursts, &[0, 1], window, limit).unwrap()
    };
    let average = worst_steal(Some(0.03), &[0.0, 0.06], &[0, 1], window, limit);
    assert_eq!(Some(judged(&[])), average);
    assert_eq!(judged(&[ms(0), ms(10)]).within, None);
    assert_eq!(judged(&[ms(0), ms(200)]).within, Some(load::bursts::SPAN));
    // Raised to 8%: the bar is 200 ms; 80 ms is judged as the server's, and said.
    let raised = StealLimit::from_percent(8.0).unwrap();
    assert_eq!(raised.burst(), ms(200));
    let w = burst_steal(&paused, &[0, 1], raised);
    assert_eq!(
        tolerated_steal(w.as_ref()).as_deref(),
        Some("the hypervisor took 80 ms of cpu 1's time within 0.5 s (steal), over its default limit of 50 ms and under the run's raised 200 ms: judged as the server's")
    );
    // Through a window, and through a probe's span.
    let r = load::LoadReport {
        steal: Some(0.008),
        cpu_steal: vec![0.0, 0.016],
        steal_bursts: paused.to_vec(),
        successes: 1_000,
        elapsed: window,
        window_generator_cpu: Some(0.1),
        ..empty_report()
    };
    assert!(window_result(&r, &[0, 1], limit)
        .stalled
        .unwrap()
        .contains("80 ms of cpu 1's time"));
    assert_eq!(window_result(&r, &[0], limit).stalled, None);
    assert!(window_result(&r, &[0, 1], raised).steal_tolerated.is_some());
    let probe = load::StealShares {
        wall: window,
        machine: Some(0.008),
        cpus: vec![0.0, 0.016],
        bursts: paused.to_vec(),
    };
    assert_eq!(voiding_steal(&probe, &[1], limit).unwrap().cpu, Some(1));
    assert_eq!(voiding_steal(&probe, &[0], limit), None);
}

/// The burst bar is half the run's SLO: a 40 ms pause voids a window judged
/// against 20 ms (it alone breaks that p99) and not one judged against the
/// default 100 ms; 150 ms voids at 100 ms and not at 1 s. It stays within
/// three ticks and the span, and a raised `--max-steal` tells its default
/// bar under the same SLO.
#[test]
fn the_burst_bar_is_half_the_slo() {
    let ms = Duration::from_millis;
    assert_eq!(burst_bar(ms(100)), STALLED_BURST);
    assert_eq!(burst_bar(ms(400)), ms(200));
    assert_eq!(burst_bar(ms(20)), MIN_STOLEN);
    assert_eq!(burst_bar(Duration::from_secs(5)), load::bursts::SPAN);
    let voids = |pause: u64, slo: u64| {
        let limit = StealLimit::default().for_slo(ms(slo));
        burst_steal(&[ms(0), ms(pause)], &[1], limit).is_some_and(|s| s.voids())
    };
    assert!(voids(40, 20));
    assert!(!voids(40, 100));
    assert!(voids(150, 100));
    assert!(!voids(150, 1000));
    assert!(!voids(20, 20), "two ticks of a quiet VM");
    // Raised to 4% under a 400 ms SLO: the bar 400 ms, its default 200 ms.
    let raised = StealLimit::from_percent(4.0).unwrap().for_slo(ms(400));
    assert_eq!(raised.burst(), ms(400));
    assert_eq!(raised.at_default().burst(), ms(200));
    let w = burst_steal(&[ms(0), ms(250)], &[1], raised);
    assert_eq!(
        tolerated_steal(w.as_ref()).as_deref(),
        Some("the hypervisor took 250 ms of cpu 1's time within 0.5 s (steal), over its default limit of 200 ms and under the run's raised 400 ms: judged as the server's")
    );
    // The engine's driver takes its SLO's bar.
    let driver = EngineDriver::new(ms(20), Duration::from_secs(5));
    assert_eq!(driver.steal_limit.burst(), MIN_STOLEN);
}

/// A send held up counts against the window from a twentieth of the SLO,
/// never under the engine's 2 ms bar for a late send.
#[test]
fn the_stall_bar_is_a_twentieth_of_the_slo() {
    let ms = Duration::from_millis;
    assert_eq!(stalled_after(ms(100)), ms(5));
    assert_eq!(stalled_after(ms(1000)), ms(50));
    assert_eq!(stalled_after(ms(20)), load::LATE_SEND);
}

/// A hypervisor that takes one vCPU: 6% of cpu 1 is 3% of two CPUs' average
/// and voids the window whichever it is; on a CPU the measurement does not
/// run on it is the average's share only. One CPU's reading needs 5% and
/// three ticks' worth of time, since it moves in ticks.
#[test]
fn steal_on_one_watched_cpu_voids_the_window() {
    let second = Duration::from_secs(1);
    let cpus = [0.0, 0.06, 0.0, 0.0];
    let w = worst_steal(Some(0.015), &cpus, &[0, 1], second, StealLimit::default()).unwrap();
    assert_eq!(
        w,
        Stolen {
            share: 0.06,
            cpu: Some(1),
            limit: STALLED_CPU_STEAL,
            default_limit: STALLED_CPU_STEAL,
            within: None,
        }
    );
    let why = stall(0, 1000, Some(w), false).unwrap();
    assert_eq!(
        why,
        "the hypervisor took 6.0% of cpu 1's time (steal) during the window"
    );
    let unwatched =
        worst_steal(Some(0.015), &cpus, &[0, 2], second, StealLimit::default()).unwrap();
    assert_eq!(unwatched.cpu, None);
    assert_eq!(stall(0, 1000, Some(unwatched), false), None);
    // A watched CPU the kernel did not report is no reading.
    assert_eq!(
        worst_steal(None, &cpus, &[9], second, StealLimit::default()),
        None
    );
    // 4% of one CPU is under its threshold; the machine's 2.5% is over its own.
    let w = worst_steal(
        Some(0.025),
        &[0.0, 0.04],
        &[0, 1],
        second,
        StealLimit::default(),
    )
    .unwrap();
    assert_eq!(w.cpu, None);
    assert!(stall(0, 1000, Some(w), false).is_some());
    // One 10 ms tick in a 0.2 s window reads 5%: quantization, not a stall.
    let tick = worst_steal(
        Some(0.0),
        &[0.0, 0.05],
        &[1],
        Duration::from_millis(200),
        StealLimit::default(),
    );
    assert_eq!(tick, None);
    // The machine's share the same: 2.5% of two CPUs over 0.5 s is 25 ms,
    // two ticks and a half; over a second it is 50 ms and voids.
    let half = Duration::from_millis(500);
    assert_eq!(
        worst_steal(Some(0.025), &[0.0, 0.05], &[], half, StealLimit::default()),
        None
    );
    let w = worst_steal(
        Some(0.025),
        &[0.0, 0.05],
        &[],
        second,
        StealLimit::default(),
    )
    .unwrap();
    assert!(w.voids() && w.cpu.is_none(), "{w:?}");
    // Through a window: the contender's CPU (1) is watched by the driver.
    let r = load::LoadReport {
        steal: Some(0.015),
        cpu_steal: cpus.to_vec(),
        successes: 1_000,
        generator_wall_s: 1.0,
        ..empty_report()
    };
    assert!(window_result(&r, &[0, 1], StealLimit::default())
        .stalled
        .unwrap()
        .contains("cpu 1"));
    assert_eq!(window_result(&r, &[0], StealLimit::default()).stalled, None);
}

/// Late sends are the machine's when the generator's thread was mostly
/// idle (it was held up), the generator's own when it was busy.
#[test]
fn late_sends_of_a_busy_generator_limit_the_window_not_stall_it() {
    let r = load::LoadReport {
        target_rate: Some(40_000.0),
        achieved_rate: 40_000.0,
        successes: 12_000,
        late_stalled: 600,
        generator_cpu_s: 0.3,
        generator_wall_s: 0.4,
        ..empty_report()
    };
    let w = window_result(&r, &[], StealLimit::default());
    assert_eq!(w.stalled, None);
    assert!(!w.generator_valid);
    let note = w.generator_note.unwrap();
    assert!(
        note.contains("5.0% of sends") && note.contains("75% of a core"),
        "{note}"
    );
    // A thread that barely ran on a core busy with its sockets' kernel work.
    let softirq = load::LoadReport {
        generator_cpu_s: 0.1,
        generator_core_busy: Some(0.9),
        ..r.clone()
    };
    let w = window_result(&softirq, &[], StealLimit::default());
    assert!(!w.generator_valid && w.stalled.is_none());
    assert!(w.generator_note.unwrap().contains("core was busy 90%"));
    // A thread that barely ran on an idle core was held up: the machine's, retried.
    let idle = load::LoadReport {
        generator_cpu_s: 0.1,
        generator_core_busy: Some(0.3),
        ..r.clone()
    };
    let w = window_result(&idle, &[], StealLimit::default());
    assert!(w.generator_valid, "{:?}", w.generator_note);
    assert!(w.stalled.unwrap().contains("held up by the machine"));
    // The window's own shares decide over the run's: a thread busy in the
    // window is the generator's limit though the whole run averaged low…
    let busy_window = load::LoadReport {
        window_generator_cpu: Some(0.8),
        window_core_busy: Some(0.85),
        ..idle.clone()
    };
    let w = window_result(&busy_window, &[], StealLimit::default());
    assert!(!w.generator_valid && w.stalled.is_none());
    assert!(w.generator_note.unwrap().contains("80% of a core"));
    // …and an idle window is the machine's though the run averaged high.
    let idle_window = load::LoadReport {
        window_generator_cpu: Some(0.1),
        window_core_busy: Some(0.2),
        ..r.clone()
    };
    assert!(window_result(&idle_window, &[], StealLimit::default())
        .stalled
        .is_some());
    // A server that fell behind owns its late sends.
    let behind = load::LoadReport {
        achieved_rate: 30_000.0,
        ..r
    };
    let w = window_result(&behind, &[], StealLimit::default());
    assert!(w.generator_valid && w.stalled.is_none());
    // An idle generator held up near the capacity leaves a burst the server
    // has not caught up with at the cutoff: still the machine's.
    let held_near_capacity = load::LoadReport {
        achieved_rate: 30_000.0,
        ..idle
    };
    let w = window_result(&held_near_capacity, &[], StealLimit::default());
    assert!(w.stalled.unwrap().contains("held up by the machine"));
}

#[test]
fn answers_without_upstream_calls_are_inconsistent() {
    let mut r = load::LoadReport {
        ok_all: 100,
        sent_all: 120,
        ..empty_report()
    };
    assert!(upstream_check(100, &r).ok);
    assert!(upstream_check(130, &r).ok, "leftovers of an earlier window");
    let c = upstream_check(60, &r);
    assert!(
        !c.ok && c.detail.contains("did not come from the upstream"),
        "{c:?}"
    );
    r.ok_all = 0;
    assert!(upstream_check(0, &r).ok);
}

/// An `io` window whose upstream answered late is the machine's (idle
/// generator core) or bakeoff's limit (busy core), never the server's.
#[test]
fn late_upstream_answers_void_an_io_window() {
    use crate::workload::upstream::UpstreamTally;
    let clean = || window_result(&empty_report(), &[], StealLimit::default());
    let tally = |calls, late| UpstreamTally { calls, late };
    let idle = GeneratorLoad {
        cpu: 0.2,
        core_share: Some(0.35),
    };
    let busy = GeneratorLoad {
        cpu: 0.3,
        core_share: Some(0.8),
    };
    // 1% (and fewer than three) is not enough.
    for (calls, late) in [(1000, 10), (100, 2), (0, 0)] {
        let mut w = clean();
        judge_upstream(&mut w, tally(calls, late), 5.0, idle);
        assert!(w.stalled.is_none() && w.generator_valid, "{calls} {late}");
    }
    let mut w = clean();
    w.steal_tolerated = Some("some steal".into());
    judge_upstream(&mut w, tally(1000, 11), 5.0, idle);
    let why = w.stalled.expect("stalled");
    assert!(
        why.contains("1.1% of bakeoff's upstream answers")
            && why.contains("over 5 ms")
            && why.contains("its core was busy 35%"),
        "{why}"
    );
    assert!(w.steal_tolerated.is_none() && w.generator_valid);
    // With the generator's core busy, a retry would be held up the same way.
    let mut w = clean();
    judge_upstream(&mut w, tally(1000, 50), 5.0, busy);
    assert!(w.stalled.is_none() && !w.generator_valid);
    let note = w.generator_note.unwrap();
    assert!(
        note.contains("bakeoff, not the server") && note.contains("busy 80%"),
        "{note}"
    );
    // A window already the machine's keeps its first reason.
    let mut w = clean();
    w.stalled = Some("steal".into());
    judge_upstream(&mut w, tally(1000, 50), 5.0, idle);
    assert_eq!(w.stalled.as_deref(), Some("steal"));
    // A server that failed beyond what 2% late answers could cause (30% of its
    // requests) keeps its verdict, the lateness disclosed, on either core.
    for load in [idle, busy] {
        let mut w = clean();
        (w.requests, w.errors) = (700, 300);
        judge_upstream(&mut w, tally(1000, 20), 5.0, load);
        assert!(w.stalled.is_none() && w.generator_valid);
        assert!(
            w.notes.len() == 1
                && w.notes[0].contains("2.0% of bakeoff's upstream answers")
                && w.notes[0].contains("30% of the window's requests failed"),
            "{:?}",
            w.notes
        );
    }
    // A shortfall from the target rate counts as failed too.
    let mut w = clean();
    (w.target_rps, w.achieved_rps) = (1000.0, 800.0);
    judge_upstream(&mut w, tally(1000, 20), 5.0, idle);
    assert!(w.stalled.is_none() && w.notes.len() == 1, "{:?}", w.notes);
    // Within twice the late share, the lateness may have caused it: re-run.
    let mut w = clean();
    (w.requests, w.errors) = (970, 30);
    judge_upstream(&mut w, tally(1000, 20), 5.0, idle);
    assert!(w.stalled.is_some() && w.notes.is_empty());
}

#[test]
fn more_generator_threads_from_the_rate_one_could_not_drive() {
    let none = GeneratorThreads::default();
    assert!(!none.limited_at(50_000.0), "no spare CPU: nothing to add");
    assert_eq!(none.for_rate(60_000.0), 1);
    let two = GeneratorThreads::on(vec![3, 5]);
    assert_eq!(two.for_rate(1e9), 1, "one thread until one falls short");
    assert!(two.limited_at(50_000.0));
    assert_eq!(two.for_rate(45_000.0), 3);
    assert_eq!(two.for_rate(44_000.0), 1);
    // The lowest rate one thread failed at stands.
    assert!(two.limited_at(80_000.0));
    assert_eq!(two.for_rate(45_000.0), 3);
}

/// A report of nothing, for tests to fill in the fields they read.
pub(crate) fn empty_report() -> load::LoadReport {
    let h = || Histogram::<u64>::new(3).unwrap();
    load::LoadReport {
        target_rate: None,
        achieved_rate: 0.0,
        delivered_rate: f64::INFINITY,
        successes: 0,
        requests: 0,
        elapsed: Duration::ZERO,
        measured_from: None,
        errors: BTreeMap::new(),
        status: BTreeMap::new(),
        latency: h(),
        service: h(),
        classes: BTreeMap::new(),
        timeline: Vec::new(),
        second_latency: Vec::new(),
        mean_in_flight: 0.0,
        late_sends: 0,
        late_stalled: 0,
        max_send_lag: Duration::ZERO,
        unsent: 0,
        outstanding: 0,
        unanswered: 0,
        trend: None,
        trend_latency: Vec::new(),
        sent_all: 0,
        ok_all: 0,
        steal: None,
        cpu_steal: Vec::new(),
        steal_bursts: Vec::new(),
        generator_cpu_s: 0.0,
        generator_wall_s: 0.0,
        generator_core_busy: None,
        window_generator_cpu: None,
        window_core_busy: None,
        reconnects: 0,
        warmup: Duration::ZERO,
        abandoned: None,
        valid: true,
        warnings: Vec::new(),
        expectation_examples: Vec::new(),
    }
}

#[test]
fn the_pool_follows_the_rate() {
    let mut d = EngineDriver::new(Duration::from_millis(100), Duration::from_secs(5));
    assert_eq!(d.grace(), Duration::from_millis(200));
    let json = d.floors.get("a", "json");
    assert_eq!(d.connections(10.0, json), 16);
    assert_eq!(d.connections(1e6, json), 512);
    // A workload answered in 60 ms and then in 50 (`io`'s wait): 512 would
    // hold only 10,240 req/s, within the open-files limit. Another
    // contender's, or another workload's, is its own.
    d.files = Some(20_000);
    let wait =
        |d: &EngineDriver, target: &str, workload: &Workload| d.floors.get(target, workload.name());
    let own = Workload::Custom("slow".into());
    assert_eq!(d.connections(12_000.0, wait(&d, "a", &own)), 512);
    d.floors.learn("a", "slow", 60.0);
    d.floors.learn("a", "slow", 50.0);
    assert_eq!(d.connections(12_000.0, wait(&d, "a", &own)), 1_200);
    assert_eq!(d.connections(12_000.0, wait(&d, "a", &Workload::Io)), 512);
    assert_eq!(d.connections(12_000.0, wait(&d, "b", &own)), 512);
    // 1,024 open files leave no room past `json`'s 512.
    d.files = Some(1_024);
    assert_eq!(d.connections(12_000.0, wait(&d, "a", &own)), 512);
}

/// A contender's windows prime their connections in turn with its health
/// path; a target without one (`load --find-capacity`'s URL), all together
/// with the mix's first request.
#[test]
fn a_contenders_connections_are_primed_in_turn_with_its_health_path() {
    let mut d = EngineDriver::new(Duration::from_millis(100), Duration::from_secs(5));
    d.prime_paths
        .insert("python-flask".into(), "/healthz".into());
    assert_eq!(
        d.prime("python-flask"),
        load::Prime::InTurn(RequestSpec::get("/healthz"))
    );
    assert_eq!(d.prime("a URL"), load::Prime::Together);
}

/// A window's answered errors are the server's own (statuses, resets,
/// refusals), not the timeouts and unanswered requests a slow server has.
#[test]
fn answered_errors_leave_out_timeouts_and_overload() {
    use load::ErrorKind;
    let r = load::LoadReport {
        successes: 100,
        errors: BTreeMap::from([
            (ErrorKind::Overload, 600),
            (ErrorKind::Timeout, 100),
            (ErrorKind::Status, 150),
            (ErrorKind::Reset, 40),
            (ErrorKind::Connect, 10),
        ]),
        generator_wall_s: 1.0,
        ..empty_report()
    };
    let w = window_result(&r, &[0, 1], StealLimit::default());
    assert_eq!((w.errors, w.answered_errors), (900, 200));
    assert!((w.error_rate() - 0.9).abs() < 1e-12);
    assert!((w.answered_error_rate() - 0.2).abs() < 1e-12);
}
