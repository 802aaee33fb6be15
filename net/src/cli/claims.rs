//! `quorate claims`: the claims matrix for auditors — every property each protocol's models
//! declare, the configurations that check it, and the mutants shown to break it.

use std::io::Write;

use clap::Args;
use quorate_model::claims::{all_claims, claims, render_markdown};
use quorate_model::registry;

use super::Failure;

/// Arguments of `quorate claims`.
#[derive(Args, Debug)]
pub struct ClaimsArgs {
    /// One protocol (default: every protocol, `check all` order).
    pub protocol: Option<String>,
    /// One JSON document instead of Markdown tables.
    #[arg(long)]
    pub json: bool,
}

/// Prints the matrix; exit 0, or 2 for an unknown protocol.
pub fn run(args: &ClaimsArgs) -> Result<i32, Failure> {
    let matrix = match &args.protocol {
        Some(name) => vec![claims(&registry::protocol(name)?)?],
        None => all_claims()?,
    };
    let text = if args.json {
        serde_json::to_string_pretty(&matrix).map_err(|e| Failure::Usage(e.to_string()))? + "\n"
    } else {
        render_markdown(&matrix)
    };
    std::io::stdout()
        .write_all(text.as_bytes())
        .map_err(Failure::stdout)?;
    Ok(0)
}
