//! `quorate explore`: stateright's Explorer web UI on one configuration of a protocol.
//!
//!
//! The Explorer serves the same `System` model `check` runs; `--addr` is checked before serving
//! because stateright panics when it cannot bind.

use super::Failure;
use clap::Args;
use quorate_model::check::exit;
use quorate_model::registry::{protocol, ConfigError, ExploreOptions, ProtocolInfo};
use std::net::{SocketAddr, TcpListener};

/// Arguments of `quorate explore`.
#[derive(Args, Debug)]
pub struct ExploreArgs {
    /// Protocol to explore (one protocol, not `all`).
    #[arg(value_name = "PROTOCOL")]
    pub protocol: String,

    /// Configuration to explore (default: the suite's first; with --mutant, the mutant's own).
    #[arg(long, value_name = "NAME")]
    pub config: Option<String>,

    /// Explore this mutant instead of the honest rules.
    #[arg(long, value_name = "NAME")]
    pub mutant: Option<String>,

    /// Address the web UI listens on.
    #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// Browse the quotient by the configuration's interchangeable actors (states in canonical ids).
    #[arg(long)]
    pub symmetry: bool,
}

/// The model side of `quorate explore`.
pub trait Explore {
    /// Serves stateright's Explorer on `config` (with `mutant`'s rules, if any) at
    /// `options.addr`, and blocks while it serves.
    fn explore(
        &self,
        config: &str,
        mutant: Option<&str>,
        options: ExploreOptions,
    ) -> Result<(), ConfigError>;
}

impl Explore for ProtocolInfo {
    fn explore(
        &self,
        config: &str,
        mutant: Option<&str>,
        options: ExploreOptions,
    ) -> Result<(), ConfigError> {
        (self.explore)(config, mutant, options)
    }
}

/// The one protocol named on the command line.
pub fn lookup(name: &str) -> Result<ProtocolInfo, Failure> {
    if name == "all" {
        return Err(Failure::Usage(
            "explore all: the Explorer shows one protocol; name one, e.g. `quorate explore paxos`"
                .into(),
        ));
    }
    Ok(protocol(name)?)
}

/// Runs `quorate explore` for `info` through `explorer`; returns the exit code.
pub fn run(
    args: &ExploreArgs,
    info: &ProtocolInfo,
    explorer: &dyn Explore,
) -> Result<i32, Failure> {
    let mutant = match &args.mutant {
        Some(_) if info.mutants.is_empty() => {
            return Err(Failure::Usage(format!(
                "--mutant: {} has no mutants",
                info.name
            )));
        }
        Some(name) => Some(info.mutant(name)?),
        None => None,
    };
    let config = match (&args.config, mutant) {
        (Some(name), _) => info.config(name)?.name,
        (None, Some(mutant)) => mutant.config,
        (None, None) => info.configs.first().map(|c| c.name).ok_or_else(|| {
            Failure::Usage(format!("{} has no configurations to explore", info.name))
        })?,
    };
    // stateright's Explorer panics when it cannot bind; find out first and say why.
    drop(TcpListener::bind(args.addr).map_err(|error| {
        Failure::Usage(format!(
            "--addr {}: cannot listen there ({error}); pick a free port, e.g. --addr 127.0.0.1:{}",
            args.addr,
            args.addr.port().wrapping_add(1).max(1024)
        ))
    })?);
    eprintln!(
        "Explorer for {} / {config} at http://{}/ (Ctrl-C to stop)",
        info.name, args.addr
    );
    let options = ExploreOptions {
        addr: args.addr,
        symmetry: args.symmetry,
    };
    explorer.explore(config, mutant.map(|m| m.name), options)?;
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// Records what `run` asked for instead of serving.
    #[derive(Default)]
    struct Recorder(RefCell<Vec<(String, Option<String>, SocketAddr)>>);

    impl Explore for Recorder {
        fn explore(
            &self,
            config: &str,
            mutant: Option<&str>,
            options: ExploreOptions,
        ) -> Result<(), ConfigError> {
            self.0.borrow_mut().push((
                config.to_string(),
                mutant.map(str::to_string),
                options.addr,
            ));
            Ok(())
        }
    }

    fn args(config: Option<&str>, mutant: Option<&str>) -> ExploreArgs {
        ExploreArgs {
            protocol: "paxos".into(),
            config: config.map(Into::into),
            mutant: mutant.map(Into::into),
            addr: "127.0.0.1:0".parse().expect("literal address"),
            symmetry: false,
        }
    }

    #[test]
    fn explore_defaults_to_first_config_or_the_mutants_own() {
        let info = lookup("paxos").expect("paxos is registered");
        let recorder = Recorder::default();
        run(&args(None, None), &info, &recorder).expect("default config");
        let mutant = info.mutants.last().expect("paxos has mutants");
        run(&args(None, Some(mutant.name)), &info, &recorder).expect("mutant config");
        let calls = recorder.0.borrow();
        assert_eq!(calls[0].0, info.configs[0].name);
        assert_eq!(
            (calls[1].0.as_str(), calls[1].1.as_deref()),
            (mutant.config, Some(mutant.name))
        );
    }

    #[test]
    fn explore_rejects_unknown_names_and_all() {
        let info = lookup("paxos").expect("paxos is registered");
        let recorder = Recorder::default();
        assert!(
            matches!(run(&args(Some("nope"), None), &info, &recorder), Err(Failure::Usage(m)) if m.contains("\"nope\""))
        );
        assert!(
            matches!(run(&args(None, Some("nope")), &info, &recorder), Err(Failure::Usage(m)) if m.contains("\"nope\""))
        );
        assert!(matches!(lookup("all"), Err(Failure::Usage(_))));
        assert!(recorder.0.borrow().is_empty());
    }
}
