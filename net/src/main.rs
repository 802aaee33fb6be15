//! `quorate`: one binary for checking the protocol models and (later) running them as nodes.
//!
//! This file parses the command line, sets up logging and turns outcomes into exit codes
//! (DESIGN §5); each subcommand lives in `cli/`. Protocol logic never appears here: `check`
//! calls the `quorate_model` registry.

mod cli;

// The checker allocates and frees a few small blocks per explored state (slot vectors, network
// bags, action paths); mimalloc's thread-local free lists make that markedly cheaper than glibc's
// malloc (`quorate bench checker` reports the ratio).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use cli::Failure;
use std::io::IsTerminal;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

/// Model-checked permissioned-blockchain protocols.
#[derive(Parser, Debug)]
#[command(
    name = "quorate",
    version,
    about = "Model-checked permissioned-blockchain protocols",
    long_about = "Model-checked permissioned-blockchain protocols.\n\n\
        Every protocol is a set of deterministic actors. `quorate check` runs them under the \
        stateright model checker against an adversarial network and reports, for each named \
        configuration, whether every safety property holds and every `sometimes` property is \
        reached.",
    after_help = "Run `quorate check --help` for the protocols, their configurations, mutants and properties.",
    after_long_help = cli::help::EXIT_CODES
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Model-check a protocol's configurations (or every protocol's, with `all`).
    #[command(
        long_about = "Model-check a protocol's suite of configurations, one configuration, or a \
            mutant.\n\n\
            Without --config, every configuration of the protocol's suite runs in order, and \
            `quorate check all` runs every protocol's suite; a summary table follows when more \
            than one ran. The default search is depth-first with one thread (fast, little memory, \
            deterministic); --bfs finds the shortest counterexamples and is the default with \
            --mutant.",
        after_help = "Run `quorate check --help` for the protocols, their configurations, mutants, properties and exit codes."
    )]
    Check(cli::check::CheckArgs),
    /// Browse a configuration's state space in stateright's Explorer web UI.
    #[command(
        long_about = "Serve stateright's Explorer on one configuration of a protocol: step \
            through actions from the initial state, see each state and which properties hold. \
            Without --config, the suite's first configuration (or the mutant's own)."
    )]
    Explore(cli::explore::ExploreArgs),
    /// Benchmarks that print figures (states per CPU-second, peak memory) with same-run ratios.
    Bench(cli::bench::BenchArgs),
    /// Replay a trace file (`quorate check --trace-out`) through the model step by step.
    #[command(
        long_about = "Replay a trace file written by `quorate check --trace-out` (or recorded from a \
            deployment in the same format) through the protocol's model, step by step, printing \
            each actor's state change as a diff. Fails (exit 2) at the first step that is not \
            enabled in the state reached so far, or if the last state does not show the \
            recorded verdict (a counterexample must still violate its property)."
    )]
    Replay(cli::replay::ReplayArgs),
    /// Write a new ed25519 identity key; print its public key for the cluster file.
    Keygen(cli::member::KeygenArgs),
    /// Run one replica of a cluster over QUIC (until SIGINT or SIGTERM).
    Node(cli::member::NodeArgs),
    /// Host the protocol's client actor: submit signed transactions and wait for each reply.
    Submit(cli::member::SubmitArgs),
    /// Start N replica processes on loopback, drive a workload, compare ledger heads.
    Cluster(cli::cluster::ClusterArgs),
    /// Run SimHost fault schedules for a while, checking each run by replay, model membership
    /// and the spec (the refinement checks); prints the first failing seed.
    Soak(cli::soak::SoakArgs),
    /// Print the claims matrix: each protocol's properties, where they are checked, and the
    /// mutants shown to break them (unfalsified claims listed).
    Claims(cli::claims::ClaimsArgs),
}

fn main() -> ExitCode {
    init_tracing();
    let mut command = Cli::command().mut_subcommand("check", |check| {
        check.after_long_help(cli::help::check_long_help(
            &quorate_model::registry::protocols(),
        ))
    });
    let matches = command.get_matches_mut();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => error.format(&mut command).exit(),
    };
    let outcome = match cli.command {
        Command::Check(args) => cli::check::run(&args),
        Command::Bench(args) => cli::bench::run(&args),
        Command::Explore(args) => cli::explore::lookup(&args.protocol)
            .and_then(|info| cli::explore::run(&args, &info, &info)),
        Command::Replay(args) => cli::replay::run(&args),
        Command::Keygen(args) => cli::member::keygen(&args),
        Command::Node(args) => cli::member::node(&args),
        Command::Submit(args) => cli::member::submit(&args),
        Command::Cluster(args) => cli::cluster::run(&args),
        Command::Soak(args) => cli::soak::run(&args),
        Command::Claims(args) => cli::claims::run(&args),
    };
    match outcome {
        Ok(code) => exit_code(code),
        Err(Failure::Usage(message)) => {
            eprintln!("error: {message}");
            exit_code(quorate_model::check::exit::USAGE)
        }
        // The reader went away (`quorate check paxos --list-mutants | head -1`): nothing to say.
        Err(Failure::BrokenPipe) => ExitCode::SUCCESS,
    }
}

fn exit_code(code: i32) -> ExitCode {
    debug_assert!(
        (0..=4).contains(&code),
        "DESIGN §5 defines exit codes 0 to 4, got {code}"
    );
    ExitCode::from(u8::try_from(code).unwrap_or(u8::MAX))
}

/// Logs go to stderr, filtered by `RUST_LOG` (default `warn`), so stdout stays parseable.
fn init_tracing() {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) => EnvFilter::try_new(&directives).unwrap_or_else(|error| {
            eprintln!(
                "warning: RUST_LOG={directives:?} is not a valid filter ({error}); logging at warn"
            );
            EnvFilter::new("warn")
        }),
        Err(_) => EnvFilter::new("warn"),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}
