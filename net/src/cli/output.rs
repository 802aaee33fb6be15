//! What `quorate check` writes besides each run's own report: the summary table, the `--json`
//! document and the `--trace-out` file.

use super::Failure;
use quorate_model::check::{exit, Report, TraceStep, Verdict, REPORT_SCHEMA_VERSION};
use serde::Serialize;
use std::fs::File;
use std::io::{self, BufWriter, Write};

/// The verdict of one run in a word or two, for the summary table.
fn verdict_word(report: &Report) -> String {
    let vacuous: Vec<&str> = report
        .properties
        .iter()
        .filter(|p| p.verdict == Verdict::NeverReached)
        .map(|p| p.name.as_str())
        .collect();
    match report.exit_code() {
        exit::VIOLATION => format!("VIOLATED: {}", report.violations().join(", ")),
        exit::INCOMPLETE => "INCOMPLETE".to_string(),
        exit::VACUOUS => format!("VACUOUS: {}", vacuous.join(", ")),
        _ => "ok".to_string(),
    }
}

/// The summary table printed after several runs.
pub fn write_summary(out: &mut dyn Write, reports: &[Report]) -> io::Result<()> {
    let header = [
        "protocol",
        "config",
        "unique states",
        "depth",
        "seconds",
        "verdict",
    ];
    let rows: Vec<[String; 6]> = reports
        .iter()
        .map(|r| {
            let config = match &r.mutant {
                Some(mutant) => format!("{} --mutant {mutant}", r.config),
                None => r.config.clone(),
            };
            let depth = r.max_depth.to_string();
            let seconds = format!("{:.2}", r.seconds);
            [
                r.protocol.clone(),
                config,
                r.states_unique.to_string(),
                depth,
                seconds,
                verdict_word(r),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    let [w0, w1, w2, w3, w4, _] = widths;
    writeln!(out, "\n== summary: {} runs ==", reports.len())?;
    let [h0, h1, h2, h3, h4, h5] = header;
    writeln!(
        out,
        "{h0:<w0$}  {h1:<w1$}  {h2:>w2$}  {h3:>w3$}  {h4:>w4$}  {h5}"
    )?;
    for [c0, c1, c2, c3, c4, c5] in &rows {
        writeln!(
            out,
            "{c0:<w0$}  {c1:<w1$}  {c2:>w2$}  {c3:>w3$}  {c4:>w4$}  {c5}"
        )?;
    }
    Ok(())
}

/// `--json`: exactly one document on stdout.
pub fn write_json(reports: &[Report], single: bool) -> Result<(), Failure> {
    #[derive(Serialize)]
    struct Runs<'a> {
        schema_version: u32,
        runs: &'a [Report],
    }
    let mut stdout = io::stdout().lock();
    let written = match reports {
        [report] if single => serde_json::to_writer_pretty(&mut stdout, report),
        _ => serde_json::to_writer_pretty(
            &mut stdout,
            &Runs {
                schema_version: REPORT_SCHEMA_VERSION,
                runs: reports,
            },
        ),
    };
    written.map_err(|error| Failure::stdout(error.into()))?;
    writeln!(stdout).map_err(Failure::stdout)
}

/// `--trace-out`: every property trace of every run, as one JSON array.
pub fn write_traces(file: &mut BufWriter<File>, reports: &[Report]) -> io::Result<()> {
    #[derive(Serialize)]
    struct TraceEntry<'a> {
        protocol: &'a str,
        config: &'a str,
        mutant: Option<&'a str>,
        property: &'a str,
        verdict: Verdict,
        steps: &'a [TraceStep],
    }
    let entries: Vec<TraceEntry<'_>> = reports
        .iter()
        .flat_map(|report| {
            report.properties.iter().filter_map(move |property| {
                Some(TraceEntry {
                    protocol: &report.protocol,
                    config: &report.config,
                    mutant: report.mutant.as_deref(),
                    property: &property.name,
                    verdict: property.verdict,
                    steps: property.trace.as_deref()?,
                })
            })
        })
        .collect();
    serde_json::to_writer_pretty(&mut *file, &entries)?;
    writeln!(file)?;
    file.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use quorate_model::check::{PropertyReport, SearchMode};

    fn report(config: &str, verdict: Verdict, complete: bool) -> Report {
        Report {
            schema_version: REPORT_SCHEMA_VERSION,
            protocol: "paxos".into(),
            config: config.into(),
            mutant: None,
            mode: SearchMode::Bfs,
            threads: 1,
            complete,
            states_generated: 20,
            states_unique: 12_345,
            max_depth: 7,
            seconds: 1.5,
            unique_per_second: 8230.0,
            properties: vec![PropertyReport {
                name: "agreement".into(),
                expectation: "always".into(),
                verdict,
                trace: None,
            }],
            statistics: Default::default(),
            coverage: None,
            replay: None,
            symmetry: None,
        }
    }

    #[test]
    fn summary_has_one_aligned_row_per_run_with_its_verdict() {
        let reports = [
            report("default", Verdict::Holds, true),
            report("crash-recover", Verdict::Violated, false),
            report("compaction", Verdict::Unknown, false),
        ];
        let mut out = Vec::new();
        write_summary(&mut out, &reports).expect("writes to a Vec");
        let text = String::from_utf8(out).expect("utf-8");
        let lines: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.starts_with("protocol"))
            .collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(lines[1].ends_with("  ok"), "{text}");
        assert!(lines[2].ends_with("VIOLATED: agreement"), "{text}");
        assert!(lines[3].ends_with("INCOMPLETE"), "{text}");
        let verdict_column = lines[0].find("verdict").expect("header");
        assert!(
            lines[1..].iter().all(|line| line.len() > verdict_column),
            "{text}"
        );
        assert!(lines
            .iter()
            .all(|line| line.contains("12345") || line.starts_with("protocol")));
    }
}
