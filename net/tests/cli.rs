//! The `quorate` binary as a user runs it: exit codes, JSON on stdout, errors naming the input.

use crate::binary::{quorate, text};
use std::process::Command;

#[test]
fn calibration_two_clients_json_pins_16668_states_and_all_properties_pass() {
    let output = quorate(&[
        "check",
        "calibration",
        "--config",
        "2-clients",
        "--json",
        "--no-progress",
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        text(&output.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("stdout is one JSON document");
    assert_eq!(report["states_unique"], 16_668);
    assert_eq!(report["complete"], true);
    let properties = report["properties"].as_array().expect("properties array");
    assert!(!properties.is_empty());
    for property in properties {
        let verdict = property["verdict"].as_str().expect("verdict string");
        assert!(verdict == "holds" || verdict == "reached", "{property}");
    }
}

#[test]
fn paxos_list_mutants_prints_one_name_a_line() {
    let output = quorate(&["check", "paxos", "--list-mutants"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        text(&output.stderr)
    );
    let stdout = text(&output.stdout);
    let names: Vec<&str> = stdout.lines().collect();
    assert!(names.len() >= 4, "{stdout}");
    for name in names {
        assert!(
            !name.is_empty() && !name.contains(char::is_whitespace),
            "{name:?}"
        );
    }
}

#[test]
fn unknown_protocol_exits_2_naming_it() {
    let output = quorate(&["check", "nosuch"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("nosuch") && stderr.contains("calibration"),
        "{stderr}"
    );
}

#[test]
fn unknown_config_exits_2_naming_it() {
    let output = quorate(&["check", "calibration", "--config", "nope"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("nope") && stderr.contains("2-clients"),
        "{stderr}"
    );
}

#[test]
fn bad_numbers_and_missing_seed_are_usage_errors() {
    let output = quorate(&["check", "calibration", "--threads", "0"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("must be at least 1"));
    let output = quorate(&["check", "calibration", "--simulate", "1"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("--seed"));
}

/// `quorate explore` serves the Explorer's JSON API on the configuration's model.
#[test]
fn explore_serves_the_paxos_default_model() {
    let status = explorer_status(&["explore", "paxos"]);
    assert!(status.contains("PaxosNode"), "{status}");
    assert!(status.contains("agreement"), "{status}");
}

#[test]
fn explore_serves_the_pbft_symmetry_quotient() {
    let status = explorer_status(&[
        "explore",
        "pbft",
        "--config",
        "silent-primary",
        "--symmetry",
    ]);
    assert!(status.contains("PbftNode"), "{status}");
    assert!(status.contains("client-accepts-committed"), "{status}");
}

/// Starts `quorate <args> --addr <free port>` and returns the Explorer's `/.status` answer.
fn explorer_status(args: &[&str]) -> String {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::time::{Duration, Instant};

    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_quorate"))
        .args(args)
        .args(["--addr", &addr])
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the quorate binary starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        let attempt = TcpStream::connect(&addr).and_then(|mut stream| {
            write!(stream, "GET /.status HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
            let mut body = String::new();
            stream.read_to_string(&mut body)?;
            Ok(body)
        });
        match attempt {
            Ok(body) if body.contains("unique_state_count") => break body,
            _ if Instant::now() > deadline => {
                let _ = child.kill();
                panic!("the Explorer did not answer on {addr} within 30 s");
            }
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    status
}

#[test]
fn explore_refuses_all_and_a_busy_address() {
    let output = quorate(&["explore", "all"]);
    assert_eq!(output.status.code(), Some(2));
    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let addr = busy.local_addr().expect("bound").to_string();
    let output = quorate(&["explore", "paxos", "--addr", &addr]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains(&addr),
        "{}",
        text(&output.stderr)
    );
}

/// `quorate bench checker` measures every entry in a child process and reports real counts.
#[test]
fn bench_checker_quick_reports_the_calibration_graph_under_both_hosts() {
    let output = quorate(&["bench", "checker", "--quick", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let results: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("stdout is one JSON array");
    let results = results.as_array().expect("an array of measurements");
    let calibration: Vec<&serde_json::Value> = results
        .iter()
        .filter(|m| {
            m["entry"]
                .as_str()
                .is_some_and(|e| e.starts_with("calibration/"))
        })
        .collect();
    assert_eq!(calibration.len(), 4, "{results:?}");
    for m in calibration {
        assert_eq!(m["unique"], 16_668, "{m}");
        assert_eq!(m["generated"], 32_971, "{m}");
        assert!(m["peak_rss_mb"].as_f64().is_some_and(|mb| mb > 1.0), "{m}");
    }
    assert!(results
        .iter()
        .any(|m| m["entry"] == "paxos/default/system/dfs"));
}

#[test]
fn a_trace_out_counterexample_replays_and_a_tampered_copy_exits_2_naming_the_step() {
    let dir = std::env::temp_dir().join(format!("quorate-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("lossy.json");
    let path = file.to_str().unwrap();
    let output = quorate(&[
        "check",
        "calibration",
        "--mutant",
        "lossy-network",
        "--no-progress",
        "--trace-out",
        path,
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));

    let replayed = quorate(&["replay", path]);
    assert_eq!(
        replayed.status.code(),
        Some(0),
        "{}",
        text(&replayed.stderr)
    );
    let stdout = text(&replayed.stdout);
    assert!(stdout.contains("deadlock-free"), "{stdout}");
    assert!(stdout.contains("network loses"), "{stdout}");
    assert!(
        stdout.contains("  + "),
        "changes are printed as diffs: {stdout}"
    );

    // The first step delivers the other client's request instead: never sent to that server.
    let mut entries: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let step = &mut entries[0]["steps"][0]["action_json"]["Deliver"];
    let src = step["src"].as_u64().expect("the first step is a delivery");
    step["src"] = serde_json::json!(if src == 3 { 4 } else { 3 });
    let tampered = dir.join("tampered.json");
    std::fs::write(&tampered, entries.to_string()).unwrap();
    let refused = quorate(&["replay", tampered.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = text(&refused.stderr);
    assert!(stderr.contains("step 1 is not enabled"), "{stderr}");

    let missing = quorate(&["replay", dir.join("absent.json").to_str().unwrap()]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("cannot read the file"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn claims_prints_the_matrix_with_mutants_and_refuses_an_unknown_protocol() {
    let output = quorate(&["claims", "paxos"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        text(&output.stderr)
    );
    let stdout = text(&output.stdout);
    assert!(stdout.contains("| agreement | always |"), "{stdout}");
    assert!(
        stdout.contains("`local-reads` on read-after-write"),
        "{stdout}"
    );

    let json = quorate(&["claims", "pbft", "--json"]);
    assert_eq!(json.status.code(), Some(0));
    let parsed: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(parsed[0]["protocol"], "pbft");

    let unknown = quorate(&["claims", "raft"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(text(&unknown.stderr).contains("raft"));
}
