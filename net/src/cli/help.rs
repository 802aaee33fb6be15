//! The manual parts of `--help`: exit codes, and for `check` the protocols with their
//! configurations, mutants and properties, generated from the registry so they never go stale.

use quorate_model::registry::ProtocolInfo;
use std::fmt::Write;

/// Help lines are wrapped to this many columns.
const WIDTH: usize = 100;

/// The exit codes of DESIGN §5.
pub const EXIT_CODES: &str = "\
Exit status:
  0  complete, and every property verified
  1  a property was violated (for --mutant, the expected outcome: the checker caught the bug)
  2  usage or configuration error (the message names the bad value and the rule), or a
     `quorate replay` trace that does not fit the model
  3  incomplete: stopped early by --timeout, --target-states or --simulate, nothing violated
  4  vacuous: a `sometimes` property was never reached, so the `always` verdicts prove little
  Over several runs the worst wins: 1, then 3, then 4, then 0.";

const EXAMPLES: &str = "\
Examples:
  quorate check all                                  every protocol's suite (the README main job)
  quorate check paxos --config crash-recover         one configuration
  quorate check paxos --list-mutants                 mutant names, one a line
  quorate check paxos --mutant small-quorum          exits 1 with the counterexample
  quorate check paxos --simulate 60 --seed 7         random walks for a minute
  quorate check paxos --config default --coverage    which action kinds fired, which never did
  quorate check paxos --mutant small-quorum --trace-out cex.json && quorate replay cex.json
  quorate check calibration --config 2-clients --json --no-progress | jq .states_unique";

/// The long help of `quorate check`, after the options.
pub fn check_long_help(protocols: &[ProtocolInfo]) -> String {
    let mut text = String::from("Protocols (`all` runs each suite in this order):\n");
    for info in protocols {
        describe_protocol(&mut text, info);
    }
    text.push('\n');
    text.push_str(EXIT_CODES);
    text.push_str("\n\n");
    text.push_str(EXAMPLES);
    text
}

fn describe_protocol(text: &mut String, info: &ProtocolInfo) {
    text.push('\n');
    wrap_into(text, &format!("{}: {}", info.name, info.summary), 2, 4);
    text.push_str("    configurations (default first):\n");
    for config in &info.configs {
        let pinned = config
            .expected_unique
            .map(|n| format!("; pinned at {} unique states", thousands(n)))
            .unwrap_or_default();
        let line = format!(
            "{}: {} (budget {} states, {} s{pinned})",
            config.name,
            config.summary,
            thousands(config.budget_states),
            config.budget_seconds
        );
        wrap_into(text, &line, 6, 8);
    }
    if info.mutants.is_empty() {
        text.push_str("    mutants: none\n");
    } else {
        text.push_str("    mutants:\n");
        for mutant in &info.mutants {
            let line = format!(
                "{}: {} (breaks {} on {})",
                mutant.name, mutant.summary, mutant.breaks, mutant.config
            );
            wrap_into(text, &line, 6, 8);
        }
    }
    text.push_str("    properties:\n");
    for (name, meaning) in &info.properties {
        wrap_into(text, &format!("{name}: {meaning}"), 6, 8);
    }
}

/// `1194428` as `1,194,428`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Appends `line` word-wrapped to [`WIDTH`], the first line indented by `first` spaces and the
/// rest by `rest`.
fn wrap_into(text: &mut String, line: &str, first: usize, rest: usize) {
    let mut column = 0;
    for word in line.split_whitespace() {
        if column == 0 {
            let _ = write!(text, "{:first$}{word}", "");
            column = first + word.len();
        } else if column + 1 + word.len() > WIDTH {
            let _ = write!(text, "\n{:rest$}{word}", "");
            column = rest + word.len();
        } else {
            let _ = write!(text, " {word}");
            column += 1 + word.len();
        }
    }
    text.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_help_names_every_protocol_config_mutant_and_property() {
        let protocols = quorate_model::registry::protocols();
        let help = check_long_help(&protocols);
        for info in &protocols {
            assert!(
                help.contains(&format!("  {}: ", info.name)),
                "{} missing",
                info.name
            );
            for config in &info.configs {
                assert!(
                    help.contains(&format!("{}: ", config.name)),
                    "{} missing",
                    config.name
                );
            }
            for mutant in &info.mutants {
                assert!(
                    help.contains(&format!("{}: ", mutant.name)),
                    "{} missing",
                    mutant.name
                );
            }
            for (property, _) in &info.properties {
                assert!(
                    help.contains(&format!("{property}: ")),
                    "{property} missing"
                );
            }
        }
        assert!(help
            .lines()
            .all(|line| line.len() <= WIDTH || !line.trim().contains(' ')));
    }

    #[test]
    fn thousands_groups_digits_by_three() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(20_000), "20,000");
        assert_eq!(thousands(1_194_428), "1,194,428");
    }

    #[test]
    fn wrap_indents_continuation_lines() {
        let mut text = String::new();
        wrap_into(&mut text, &"word ".repeat(40), 2, 4);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.len() > 1);
        assert!(lines[0].starts_with("  word") && !lines[0].starts_with("   "));
        assert!(lines[1..]
            .iter()
            .all(|line| line.starts_with("    word") && line.len() <= WIDTH));
    }
}
