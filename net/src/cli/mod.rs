//! The subcommands of the `quorate` binary, one module each, plus the shared error type and the
//! generated `--help` text.

pub mod bench;
pub mod bench_cluster;
pub mod bench_oxii;
pub mod bench_xov;
pub mod check;
pub mod claims;
pub mod cluster;
pub mod explore;
pub mod help;
pub mod member;
mod output;
pub mod replay;
pub mod soak;

use std::io;

/// Calls `$run::<D>(args...)` with `D` the [`quorate_net::protocols::Deployment`] of the
/// protocol named by `$protocol`; any other name is a usage error naming the hosted ones.
macro_rules! for_protocol {
    ($protocol:expr, $what:expr, $run:ident($($arg:expr),*)) => {
        match $protocol {
            "oxii" => $run::<quorate_net::protocols::oxii::OxiiDeployment>($($arg),*),
            "paxos" => $run::<quorate_net::protocols::paxos::PaxosDeployment>($($arg),*),
            "pbft" => $run::<quorate_net::protocols::pbft::PbftDeployment>($($arg),*),
            "xov" => $run::<quorate_net::protocols::xov::XovDeployment>($($arg),*),
            other => Err($crate::cli::Failure::Usage(format!(
                "{} {other:?}: the hosted protocols are {:?}",
                $what,
                quorate_net::protocols::HOSTED
            ))),
        }
    };
}
pub(crate) use for_protocol;

/// Why a subcommand stopped without an outcome of its own.
#[derive(Debug)]
pub enum Failure {
    /// Bad usage or configuration (exit 2); the message names the input and the fix.
    Usage(String),
    /// stdout was closed by its reader; exit quietly.
    BrokenPipe,
}

impl Failure {
    /// A failed write to stdout.
    pub fn stdout(error: io::Error) -> Failure {
        if error.kind() == io::ErrorKind::BrokenPipe {
            Failure::BrokenPipe
        } else {
            Failure::Usage(format!("cannot write to stdout: {error}"))
        }
    }
}

impl From<quorate_model::registry::ConfigError> for Failure {
    fn from(error: quorate_model::registry::ConfigError) -> Failure {
        Failure::Usage(error.0)
    }
}
