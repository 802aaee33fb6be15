//! The claims matrix an auditor reads: for each protocol, every property its models declare,
//! the configurations that check it, and the mutants the checker is shown to catch breaking it.
//!
//! Built from the models themselves (each configuration is constructed and asked for its
//! properties), so the matrix cannot drift from what `quorate check` verifies. An `always`
//! property that no mutant breaks is an unfalsified claim: nothing shows the check could fail.

use crate::check::expectation_name;
use crate::registry::{
    self, Checkable, ConfigError, Dispatch, ModelNames, ModelTask, ProtocolInfo,
};
use crate::{deadlock::DEADLOCK_FREE, ACTOR_ASSERTION};
use serde::Serialize;
use stateright::Expectation;
use std::fmt::Write as _;

/// One property of a protocol across its suite.
#[derive(Clone, Debug, Serialize)]
pub struct PropertyClaim {
    /// Name as reports spell it.
    pub name: &'static str,
    /// `always`, `sometimes` or `eventually`.
    pub kind: &'static str,
    /// One line from the registry ("" if the protocol gives none).
    pub meaning: &'static str,
    /// Whether the host (`System`) adds it to every model rather than the protocol declaring it.
    pub host: bool,
    /// Configurations whose model declares it, suite order.
    pub configs: Vec<&'static str>,
    /// `(mutant, configuration)` pairs the registry says break it.
    pub broken_by: Vec<(&'static str, &'static str)>,
}

/// One protocol's matrix.
#[derive(Clone, Debug, Serialize)]
pub struct ProtocolClaims {
    /// Protocol name.
    pub protocol: &'static str,
    /// Where the paper argument lives, relative to the workspace root.
    pub proof_note: String,
    /// How many configurations the suite has (a property checked on all of them is shown so).
    pub config_count: usize,
    /// Every property, in first-declared order.
    pub properties: Vec<PropertyClaim>,
}

impl ProtocolClaims {
    /// `always` properties this protocol declares that no mutant of its own is shown to break.
    pub fn unfalsified(&self) -> Vec<&'static str> {
        self.properties
            .iter()
            .filter(|p| p.kind == "always" && !p.host && p.broken_by.is_empty())
            .map(|p| p.name)
            .collect()
    }
}

struct DeclaredTask;

impl ModelTask for DeclaredTask {
    type Output = Vec<(Expectation, &'static str)>;
    fn run<M: Checkable>(self, _names: ModelNames<'_>, model: M) -> Self::Output {
        model
            .properties()
            .into_iter()
            .map(|property| (property.expectation, property.name))
            .collect()
    }
}

/// `ProtocolInfo::declared` for a protocol's [`Dispatch`]: the properties its honest model of
/// `config` carries.
pub fn declared_via<D: Dispatch>(
    config: &str,
) -> Result<Vec<(Expectation, &'static str)>, ConfigError> {
    D::with_model(config, None, DeclaredTask)
}

/// The matrix of one protocol, building each configuration's model once (cheap: no search).
pub fn claims(info: &ProtocolInfo) -> Result<ProtocolClaims, ConfigError> {
    let mut properties: Vec<PropertyClaim> = Vec::new();
    for config in &info.configs {
        for (expectation, name) in (info.declared)(config.name)? {
            let index = match properties.iter().position(|p| p.name == name) {
                Some(index) => index,
                None => {
                    properties.push(PropertyClaim {
                        name,
                        kind: expectation_name(&expectation),
                        meaning: meaning(info, name),
                        host: name == ACTOR_ASSERTION || name == DEADLOCK_FREE,
                        configs: Vec::new(),
                        broken_by: info
                            .mutants
                            .iter()
                            .filter(|m| m.breaks == name || m.also_breaks.contains(&name))
                            .map(|m| (m.name, m.config))
                            .collect(),
                    });
                    properties.len() - 1
                }
            };
            properties[index].configs.push(config.name);
        }
    }
    for mutant in &info.mutants {
        let claimed = std::iter::once(&mutant.breaks).chain(mutant.also_breaks);
        if let Some(orphan) = claimed
            .into_iter()
            .find(|&&name| !properties.iter().any(|p| p.name == name))
        {
            return Err(ConfigError(format!(
                "{} mutant {} claims to break {orphan:?}, which no configuration declares",
                info.name, mutant.name
            )));
        }
    }
    Ok(ProtocolClaims {
        protocol: info.name,
        proof_note: format!("proofs-notes/{}.md", info.name),
        config_count: info.configs.len(),
        properties,
    })
}

fn meaning(info: &ProtocolInfo, name: &str) -> &'static str {
    info.properties
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, meaning)| meaning.trim_start_matches("sometimes: "))
        .unwrap_or("")
}

/// Every protocol's matrix, `check all` order.
pub fn all_claims() -> Result<Vec<ProtocolClaims>, ConfigError> {
    registry::protocols().iter().map(claims).collect()
}

/// The matrix as Markdown tables (one per protocol) with the unfalsified claims listed last.
pub fn render_markdown(all: &[ProtocolClaims]) -> String {
    let mut text = String::new();
    for protocol in all {
        let _ = writeln!(
            text,
            "## {} (argument: `{}`)\n",
            protocol.protocol, protocol.proof_note
        );
        text.push_str(
            "| property | kind | checked on | shown able to fail by (mutant on config) |\n",
        );
        text.push_str("|---|---|---|---|\n");
        for p in &protocol.properties {
            let configs = if p.configs.len() == protocol.config_count {
                "every configuration".to_string()
            } else {
                p.configs.join(", ")
            };
            let broken = match (p.kind, p.host, p.broken_by.is_empty()) {
                (_, _, false) => p
                    .broken_by
                    .iter()
                    .map(|(m, c)| format!("`{m}` on {c}"))
                    .collect::<Vec<_>>()
                    .join("; "),
                ("sometimes", _, true) => "n/a (must be reached: a vacuous run exits 4)".into(),
                (_, true, true) => "host check (see model/tests/host_properties.rs)".into(),
                (_, false, true) => "**nothing yet (unfalsified)**".into(),
            };
            let _ = writeln!(text, "| {} | {} | {configs} | {broken} |", p.name, p.kind);
        }
        let gaps = protocol.unfalsified();
        if !gaps.is_empty() {
            let _ = writeln!(text, "\nUnfalsified `always` claims: {}.", gaps.join(", "));
        }
        text.push('\n');
    }
    text
}
