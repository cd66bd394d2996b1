//! Tests of the plan: profiles, options, the launch order and the budget.

use super::*;

/// A contender with one worker by default (shared by the suite's tests).
pub(crate) fn spec(name: &str) -> ContenderSpec {
    ContenderSpec {
        name: name.into(),
        default_workers: 1,
        max_workers: 64,
        unsupported: BTreeMap::new(),
        custom: Vec::new(),
        skipped: None,
        databases_unsupported: BTreeMap::new(),
    }
}

/// A profile's defaults at full scale on 2 cores (shared by the suite's tests).
pub(crate) fn opts(profile: Profile) -> PlanOptions {
    PlanOptions {
        profile,
        workloads: vec![],
        trials: None,
        workers: vec![],
        slo_p99: "100ms".into(),
        duration_scale: 1.0,
        available_cores: 2,
        max_steal: None,
    }
}

fn quick_contenders() -> Vec<ContenderSpec> {
    DEFAULT_CONTENDERS.iter().map(|n| spec(n)).collect()
}

#[test]
fn quick_profile_defaults() {
    let p = Plan::build(&opts(Profile::Quick), quick_contenders()).unwrap();
    assert_eq!(p.trials, 1);
    assert_eq!(p.slo_p99_ms, 100.0);
    assert_eq!(p.workloads, QUICK_WORKLOADS.to_vec());
    assert!(
        !p.workloads.contains(&Workload::Data),
        "data is left to standard"
    );
    // 4 HTTP + ws + startup per contender, all with one worker.
    assert_eq!(p.cells().len(), 4 * 6);
    let s = p.settings();
    assert_eq!(s.profile, Profile::Quick);
    assert_eq!(s.workloads[3], Workload::CpuMixed);
}

/// The contender's CPUs, for the `contended` flag, leave out the generator's
/// (and its spares from 8 CPUs up): 8 CPUs give 2 workers' cells 6 of their own.
#[test]
fn contender_cores_leave_out_the_generators() {
    for (cpus, contender) in [(1, 0), (2, 1), (3, 2), (8, 6), (16, 13)] {
        let o = PlanOptions {
            available_cores: cpus,
            ..opts(Profile::Quick)
        };
        let p = Plan::build(&o, quick_contenders()).unwrap();
        assert_eq!(p.contender_cores, contender, "{cpus} CPUs");
    }
}

/// The worst case (every warm-up at its cap, every search to its limits,
/// every retry and confirmation) bounds the ETA; the 8-minute target of
/// quick is measured (docs/benchmarks.md), since typical searches end early.
#[test]
fn quick_profile_worst_case_is_bounded() {
    let p = Plan::build(&opts(Profile::Quick), quick_contenders()).unwrap();
    let b = p.budget(ASSUMED_STARTUP);
    eprintln!("quick worst case: {b:?}");
    assert!(b <= Duration::from_secs(30 * 60), "quick budget {b:?}");
    assert!(b >= Duration::from_secs(5 * 60), "quick budget {b:?}");
}

#[test]
fn standard_profile_has_three_trials_and_ten_second_confirmations() {
    let all = DEFAULT_CONTENDERS.iter().map(|n| spec(n)).collect();
    let p = Plan::build(&opts(Profile::Standard), all).unwrap();
    assert_eq!(p.trials, 3);
    assert_eq!(p.workloads, STANDARD_WORKLOADS.to_vec());
    assert!(p.workloads.contains(&Workload::Data));
    // Quick's contenders: six would not fit 45 minutes.
    assert_eq!(
        default_contenders(Profile::Standard),
        default_contenders(Profile::Quick)
    );
    assert_eq!(p.phases.confirm_window, Duration::from_secs(10));
    assert_eq!(
        Phases::for_profile(Profile::Quick).confirm_window,
        Duration::from_secs(5)
    );
}

#[test]
fn duration_scale_shrinks_the_budget() {
    let mut o = opts(Profile::Quick);
    o.duration_scale = 0.1;
    let p = Plan::build(&o, quick_contenders()).unwrap();
    let full = Plan::build(&opts(Profile::Quick), quick_contenders()).unwrap();
    // Stopping a contender, a server's drain and the windows' floors are
    // not scaled; the rest is.
    assert!(p.budget(Duration::ZERO) * 2 < full.budget(Duration::ZERO));
    assert_eq!(p.ws_clients(), vec![10, 100]);
}

#[test]
fn launches_interleave_trials_then_final_then_startup() {
    let mut o = opts(Profile::Quick);
    o.trials = Some(2);
    o.workloads = vec!["json".into(), "ws".into(), "startup".into()];
    let cs = vec![spec("a"), spec("b"), spec("c")];
    let p = Plan::build(&o, cs).unwrap();
    let order: Vec<(String, LaunchKind)> = p
        .launches()
        .into_iter()
        .map(|l| (l.contender, l.kind))
        .collect();
    let names: Vec<&str> = order.iter().map(|(n, _)| n.as_str()).collect();
    // A Latin square: the second trial starts with the second contender.
    assert_eq!(&names[..6], ["a", "b", "c", "b", "c", "a"]);
    assert_eq!(order[0].1, LaunchKind::Capacity { trial: 0 });
    assert_eq!(order[3].1, LaunchKind::Capacity { trial: 1 });
    // The final pass continues the square as a third trial: c first.
    assert_eq!(&names[6..12], ["c", "c", "a", "a", "b", "b"]);
    assert!(order[6..12].iter().all(|(_, k)| *k == LaunchKind::Final));
    // 2 capacity + 2 final launches give 4 start-up samples: no extra spawns.
    assert_eq!(order.len(), 12);
    // The ws points run in a fresh process, not after the equal-load windows
    // (a heap they grew hides the memory each client takes).
    let finals: Vec<Launch> = p
        .launches()
        .into_iter()
        .filter(|l| l.kind == LaunchKind::Final)
        .collect();
    assert_eq!(
        finals
            .iter()
            .map(|l| (l.ws, l.workloads.clone()))
            .collect::<Vec<_>>()[..2],
        [(true, vec![]), (false, vec![Workload::Json])]
    );
}

#[test]
fn workloads_rotate_and_data_runs_alone_with_the_dataset() {
    let mut o = opts(Profile::Quick);
    o.trials = Some(2);
    o.workloads = vec!["json".into(), "db".into(), "data".into(), "startup".into()];
    let p = Plan::build(&o, vec![spec("a"), spec("b")]).unwrap();
    let launches = p.launches();
    let caps: Vec<&Launch> = launches
        .iter()
        .filter(|l| matches!(l.kind, LaunchKind::Capacity { .. }) && !l.data)
        .collect();
    assert_eq!(caps[0].workloads, vec![Workload::Json, Workload::Db]);
    assert_eq!(caps[1].workloads, vec![Workload::Db, Workload::Json]);
    for l in &launches {
        assert_eq!(l.data, l.workloads == vec![Workload::Data], "{l:?}");
    }
    assert!(launches
        .iter()
        .any(|l| l.data && l.kind == LaunchKind::Final));
    // The final pass rotates too, as a third trial (a first again, after
    // trial 1's b), the two contenders' equal-load workloads in different
    // orders: in plan order both would start with json.
    let finals: Vec<&Launch> = launches
        .iter()
        .filter(|l| l.kind == LaunchKind::Final && !l.data)
        .collect();
    assert_eq!(finals[0].contender, "a");
    assert_eq!(finals[0].workloads, vec![Workload::Json, Workload::Db]);
    assert_eq!(finals[1].contender, "b");
    assert_eq!(finals[1].workloads, vec![Workload::Db, Workload::Json]);
}

#[test]
fn ws_gets_a_one_worker_launch_and_unsupported_is_skipped() {
    let mut o = opts(Profile::Quick);
    o.workers = vec![2];
    o.workloads = vec!["json".into(), "ws".into(), "db".into()];
    let mut b = spec("b");
    b.unsupported
        .insert(crate::model::Endpoint::Db, "no database driver".into());
    let p = Plan::build(&o, vec![spec("a"), b]).unwrap();
    let finals: Vec<Launch> = p
        .launches()
        .into_iter()
        .filter(|l| l.kind == LaunchKind::Final)
        .collect();
    assert!(finals
        .iter()
        .any(|l| l.contender == "a" && l.workers == 1 && l.ws && l.workloads.is_empty()));
    // Every profile searches the fan-out capacity, in each trial, with one
    // worker (a launch of its own when the cell's worker counts lack 1).
    for profile in [Profile::Quick, Profile::Standard] {
        o.profile = profile;
        let plan = Plan::build(&o, vec![spec("a")]).unwrap();
        let searched: Vec<Launch> = plan
            .launches()
            .into_iter()
            .filter(|l| matches!(l.kind, LaunchKind::Capacity { .. }) && l.ws)
            .collect();
        assert_eq!(searched.len() as u32, plan.trials, "{profile:?}");
        assert!(searched
            .iter()
            .all(|l| l.contender == "a" && l.workers == 1 && l.workloads.is_empty()));
    }
    assert!(finals
        .iter()
        .any(|l| l.contender == "a" && l.workers == 2 && !l.ws));
    let key = CellKey {
        contender: "b".into(),
        workload: Workload::Db,
        workers: 2,
        database: Some(Database::Sqlite),
    };
    assert!(p.skip_reason(&key).unwrap().contains("no database driver"));
    assert!(p
        .launches()
        .iter()
        .all(|l| !(l.contender == "b" && l.workloads.contains(&Workload::Db))));
}

/// `--database sqlite,postgres`: each database workload has a cell per
/// database, measured in launches on that database; the other workloads run
/// once, on the first; a contender that does not declare a database has its
/// cells there skipped; a database listed twice is refused.
#[test]
fn the_database_axis_doubles_the_database_cells_only() {
    let mut o = opts(Profile::Standard);
    o.workloads = vec!["json".into(), "db".into(), "startup".into()];
    let mut b = spec("b");
    b.databases_unsupported
        .insert(Database::Postgres, "b does not declare `postgres`".into());
    let mut p = Plan::build(&o, vec![spec("a"), b]).unwrap();
    p.set_databases(&[Database::Sqlite, Database::Postgres])
        .unwrap();
    assert_eq!(p.primary_database(), Database::Sqlite);
    let a_cells: Vec<(Workload, Option<Database>)> = p
        .cells()
        .into_iter()
        .filter(|k| k.contender == "a")
        .map(|k| (k.workload, k.database))
        .collect();
    assert_eq!(
        a_cells,
        [
            (Workload::Json, None),
            (Workload::Db, Some(Database::Sqlite)),
            (Workload::Db, Some(Database::Postgres)),
            (Workload::Startup, None),
        ]
    );
    let settings = p.settings();
    assert_eq!(
        (settings.database, settings.databases.clone()),
        (Database::Sqlite, vec![Database::Sqlite, Database::Postgres])
    );
    let launches = p.launches();
    for l in &launches {
        if l.database == Database::Postgres {
            assert!(l.workloads.iter().all(|w| w.uses_database()), "{l:?}");
            assert!(
                !l.ws && !l.data && l.kind != LaunchKind::StartupOnly,
                "{l:?}"
            );
            assert_eq!(l.contender, "a", "b has no postgres launch: {l:?}");
        }
    }
    // One capacity launch per trial and one final on postgres for `a`; the
    // order of the two databases turns with the trial.
    let on_pg = |kind: fn(&LaunchKind) -> bool| {
        launches
            .iter()
            .filter(|l| l.database == Database::Postgres && kind(&l.kind))
            .count()
    };
    assert_eq!(
        on_pg(|k| matches!(k, LaunchKind::Capacity { .. })),
        p.trials as usize
    );
    assert_eq!(on_pg(|k| *k == LaunchKind::Final), 1);
    let first_of_trial = |t: u32| {
        launches
            .iter()
            .find(|l| l.contender == "a" && l.kind == LaunchKind::Capacity { trial: t })
            .map(|l| l.database)
    };
    assert_eq!(first_of_trial(0), Some(Database::Sqlite));
    assert_eq!(first_of_trial(1), Some(Database::Postgres));
    let b_pg = CellKey {
        contender: "b".into(),
        workload: Workload::Db,
        workers: 1,
        database: Some(Database::Postgres),
    };
    assert!(p.skip_reason(&b_pg).unwrap().contains("postgres"));
    assert!(p
        .skip_reason(&CellKey {
            database: Some(Database::Sqlite),
            ..b_pg.clone()
        })
        .is_none());
    assert_eq!(b_pg.to_string(), "b db ×1 on postgres");
    assert_eq!(
        p.set_databases(&[Database::Postgres, Database::Postgres]),
        Err(PlanError::DuplicateDatabase(
            crate::database::DuplicateDatabase(Database::Postgres)
        ))
    );
    // A single database: one db cell, every launch on it.
    p.set_databases(&[Database::Postgres]).unwrap();
    assert!(p
        .launches()
        .iter()
        .all(|l| l.database == Database::Postgres));
    assert_eq!(
        p.cells()
            .iter()
            .filter(|k| k.contender == "a" && k.workload == Workload::Db)
            .count(),
        1
    );
}

/// A contender skipped after setup (e.g. its dependencies do not install on
/// the runtime it was derived for) has every cell skipped with the reason and
/// no launch; the others are untouched.
#[test]
fn a_contender_skipped_after_setup_has_every_cell_skipped_and_no_launch() {
    let mut p = Plan::build(&opts(Profile::Quick), vec![spec("a"), spec("a-pypy39")]).unwrap();
    assert!(p.launches().iter().any(|l| l.contender == "a-pypy39"));
    p.skip_contender("a-pypy39", "its dependencies do not install on pypy3");
    p.skip_contender("no-such-contender", "ignored");
    for key in p.cells() {
        let reason = p.skip_reason(&key);
        match key.contender.as_str() {
            "a-pypy39" => assert_eq!(
                reason.as_deref(),
                Some("its dependencies do not install on pypy3")
            ),
            _ => assert_eq!(reason, None, "{key:?}"),
        }
    }
    assert!(p.launches().iter().all(|l| l.contender != "a-pypy39"));
    assert!(p.launches().iter().any(|l| l.contender == "a"));
}

#[test]
fn bad_options_name_the_option_and_the_fix() {
    let cs = || vec![spec("a")];
    let mut o = opts(Profile::Quick);
    o.workloads = vec!["jsn".into()];
    let e = Plan::build(&o, cs()).unwrap_err().to_string();
    assert!(
        e.contains("--workloads") && e.contains("jsn") && e.contains("cpu-mixed"),
        "{e}"
    );

    let mut o = opts(Profile::Quick);
    o.trials = Some(0);
    let e = Plan::build(&o, cs()).unwrap_err().to_string();
    assert!(e.contains("--trials 0") && e.contains("from 1"), "{e}");

    for bad in [0.0, -1.0, f64::NAN, 1e9] {
        let mut o = opts(Profile::Quick);
        o.duration_scale = bad;
        let e = Plan::build(&o, cs()).unwrap_err().to_string();
        assert!(e.contains("--duration-scale"), "{e}");
    }

    for bad in ["0ms", "100", "fast", "2h"] {
        let mut o = opts(Profile::Quick);
        o.slo_p99 = bad.into();
        let e = Plan::build(&o, cs()).unwrap_err().to_string();
        assert!(e.contains("--slo-p99") && e.contains("100ms"), "{bad}: {e}");
    }

    for bad in [1.0, 40.0, f64::NAN, -2.0] {
        let mut o = opts(Profile::Quick);
        o.max_steal = Some(bad);
        let e = Plan::build(&o, cs()).unwrap_err().to_string();
        assert!(
            e.contains("--max-steal") && e.contains("from 2 (the default) to 33"),
            "{bad}: {e}"
        );
    }

    let mut o = opts(Profile::Quick);
    o.workers = vec![1, 0];
    let e = Plan::build(&o, cs()).unwrap_err().to_string();
    assert!(e.contains("--workers 0"), "{e}");

    let e = Plan::build(&opts(Profile::Quick), vec![])
        .unwrap_err()
        .to_string();
    assert!(e.contains("--contenders"), "{e}");
    let e = Plan::build(&opts(Profile::Quick), vec![spec("a"), spec("a")]).unwrap_err();
    assert_eq!(e, PlanError::DuplicateContender("a".into()));
}

/// The steal limit goes into the plan and its settings: 2% unless raised.
#[test]
fn the_steal_limit_is_the_runs_and_recorded() {
    let p = Plan::build(&opts(Profile::Quick), vec![spec("a")]).unwrap();
    assert!(p.steal_limit.is_default());
    assert_eq!(p.settings().max_steal_percent, Some(2.0));
    assert_eq!(p.settings().raised_steal_limit(), None);
    let mut o = opts(Profile::Quick);
    o.max_steal = Some(8.0);
    let p = Plan::build(&o, vec![spec("a")]).unwrap();
    assert!((p.steal_limit.machine() - 0.08).abs() < 1e-12);
    assert_eq!(p.settings().raised_steal_limit(), Some(8.0));
    // Its burst bar is half the run's SLO, raised with the rest.
    assert_eq!(p.steal_limit.burst(), Duration::from_millis(200));
    o.slo_p99 = "120ms".into();
    let p = Plan::build(&o, vec![spec("a")]).unwrap();
    assert_eq!(p.steal_limit.burst(), Duration::from_millis(240));
    assert_eq!(
        p.steal_limit.at_default().burst(),
        Duration::from_millis(60)
    );
    // Recorded as given: 7, not 0.07 × 100 = 7.000000000000001.
    o.max_steal = Some(7.0);
    let p = Plan::build(&o, vec![spec("a")]).unwrap();
    assert_eq!(p.settings().max_steal_percent, Some(7.0));
}

#[test]
fn full_profile_sweeps_workers() {
    let p = Plan::build(&opts(Profile::Full), vec![spec("a")]).unwrap();
    assert_eq!(p.workers, vec![1, 2, 4]);
    assert_eq!(p.trials, 5);
    let json: Vec<u32> = p
        .cells()
        .into_iter()
        .filter(|k| k.workload == Workload::Json)
        .map(|k| k.workers)
        .collect();
    assert_eq!(json, vec![1, 2, 4]);
}

/// A contender's own workloads join the profile's, are measured only for the
/// contenders that declare them, and can be named with `--workloads`.
#[test]
fn custom_workloads_join_the_plan_for_their_contenders() {
    let mut mine = spec("my-app");
    mine.custom = vec!["shop".into()];
    let mut other = spec("other-app");
    other.custom = vec!["shop".into(), "login".into()];
    let contenders = vec![mine, spec("node-http"), other];
    let p = Plan::build(&opts(Profile::Quick), contenders.clone()).unwrap();
    let shop = Workload::Custom("shop".into());
    let login = Workload::Custom("login".into());
    assert_eq!(p.workloads[..QUICK_WORKLOADS.len()], QUICK_WORKLOADS);
    assert_eq!(
        p.workloads[QUICK_WORKLOADS.len()..],
        [shop.clone(), login.clone()]
    );
    let key = |c: &str, w: &Workload| CellKey {
        contender: c.into(),
        workload: w.clone(),
        workers: 1,
        database: None,
    };
    assert_eq!(p.skip_reason(&key("my-app", &shop)), None);
    assert_eq!(p.skip_reason(&key("other-app", &shop)), None);
    let why = p.skip_reason(&key("node-http", &shop)).unwrap();
    assert!(why.contains("declares no workload `shop`"), "{why}");
    assert!(p.skip_reason(&key("my-app", &login)).is_some());
    // Apps that serve no contract endpoint run only their own (and startup).
    let mut only = spec("my-app");
    only.custom = vec!["shop".into()];
    only.unsupported = crate::model::Endpoint::ALL
        .iter()
        .map(|e| (*e, "own workloads".to_string()))
        .collect();
    let alone = Plan::build(&opts(Profile::Quick), vec![only.clone()]).unwrap();
    assert_eq!(alone.workloads, [Workload::Startup, shop.clone()]);
    let beside = Plan::build(&opts(Profile::Quick), vec![only, spec("node-http")]).unwrap();
    assert_eq!(beside.workloads.len(), QUICK_WORKLOADS.len() + 1);
    // Measured in the capacity launches of the contenders that declare it.
    let launches = p.launches();
    let with_shop: Vec<&str> = launches
        .iter()
        .filter(|l| l.workloads.contains(&shop))
        .map(|l| l.contender.as_str())
        .collect();
    // (The final pass continues the Latin square: other-app first.)
    assert_eq!(with_shop, ["my-app", "other-app", "other-app", "my-app"]);
    // In the dataset's launches, apart from the built-in workloads: a scenario
    // may call /data, which answers only where BAKEOFF_DATA is given.
    for l in launches.iter().filter(|l| l.workloads.contains(&shop)) {
        assert!(l.data, "{l:?}");
        assert!(l.workloads.iter().all(Workload::needs_dataset), "{l:?}");
    }

    let named = PlanOptions {
        workloads: vec!["shop".into(), "json".into()],
        ..opts(Profile::Quick)
    };
    let p = Plan::build(&named, contenders.clone()).unwrap();
    assert_eq!(p.workloads, [shop, Workload::Json]);
    let unknown = PlanOptions {
        workloads: vec!["checkout".into()],
        ..opts(Profile::Quick)
    };
    let err = Plan::build(&unknown, contenders).unwrap_err().to_string();
    assert!(
        err.contains("checkout") && err.contains("a contender's own: login, shop"),
        "{err}"
    );
}
