//! The `quorate` binary as a user runs it: exit codes, JSON on stdout, errors naming the input.

use std::process::{Command, Output};

fn quorate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_quorate"))
        .args(args)
        .output()
        .expect("the quorate binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

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
