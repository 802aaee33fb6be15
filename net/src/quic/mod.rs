//! The QUIC host (DESIGN §5): one member — replica or client — per process (or per task in
//! tests), its actor run by the same [`Host`] loop as in SimHost, on a single-threaded tokio
//! runtime (research §2.5: cross-thread wake-ups cost more than the messages).

pub mod config;
pub mod frame;
pub mod link;
pub mod tls;

use std::future::Future;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Duration;

use quorate_impl::crypto::{Ed25519SecretKey, NodeId};
use rand_core::RngCore;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::mpsc;

use crate::host::{Clock, Disk, DiskError, Host, Input, Recovered, SplitMix64, TraceInfo};
use crate::protocols::Observed;
pub use config::Cluster;
pub use link::Links;

/// Inputs handled per group commit at most.
const MAX_GROUP: usize = 256;

/// Options of a member.
#[derive(Clone, Debug)]
pub struct MemberOptions {
    /// Record the trace in the store.
    pub trace: bool,
    /// Largest frame body accepted.
    pub max_frame: usize,
    /// How long to wait for links before releasing the start step's sends.
    pub connect_wait: Duration,
}

impl Default for MemberOptions {
    fn default() -> Self {
        MemberOptions {
            trace: false,
            max_frame: frame::DEFAULT_MAX_FRAME,
            connect_wait: Duration::from_secs(3),
        }
    }
}

/// Time since the member started, on tokio's clock.
pub struct TokioClock(tokio::time::Instant);

impl Clock for TokioClock {
    fn now(&self) -> Duration {
        self.0.elapsed()
    }
}

/// When the loop calls the observer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Moment {
    /// After a step.
    Step,
    /// On the periodic tick (every 200 ms).
    Tick,
}

/// A disk for members that keep nothing (clients): each start is a new incarnation numbered by
/// the wall clock, so send ids never repeat across restarts without any file.
pub struct EphemeralDisk;

impl<S> Disk<S> for EphemeralDisk {
    fn open(&mut self) -> Result<Recovered<S>, DiskError> {
        let micros = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| DiskError::Io(format!("clock before 1970: {e}")))?
            .as_micros();
        Ok(Recovered {
            storage: None,
            last_incarnation: micros as u64,
        })
    }

    fn begin(&mut self, _: u64, _: Option<&str>) -> Result<(), DiskError> {
        Ok(())
    }

    fn commit(&mut self, _: Option<&S>, _: Option<&str>) -> Result<(), DiskError> {
        Ok(())
    }
}

/// Runs member `id` until `stop` resolves or `observe` breaks. A disk error ends the run with an
/// error (the node command then aborts the process: a failed fsync is never retried).
#[allow(clippy::too_many_arguments)]
pub async fn run_member<A, D>(
    actor: A,
    id: NodeId,
    cluster: Arc<Cluster>,
    secret: Ed25519SecretKey,
    disk: D,
    options: MemberOptions,
    mut observe: impl FnMut(&mut Host<A, D, SplitMix64>, Moment) -> ControlFlow<()>,
    stop: impl Future<Output = ()>,
) -> Result<(), String>
where
    A: Observed<Msg: Send + 'static>,
    A::Msg: Serialize + DeserializeOwned,
    D: Disk<A::Storage>,
{
    let seed = rand_core::OsRng.next_u64();
    let info = TraceInfo {
        protocol: A::PROTOCOL.to_string(),
        crypto: "ed25519".to_string(),
        seed: Some(seed),
    };
    let (mut host, start_effects) = Host::start(
        actor,
        id,
        disk,
        SplitMix64::new(seed),
        options.trace.then_some(&info),
    )
    .map_err(|e| format!("member {id}: {e}"))?;
    let links = Links::bind(
        id,
        host.incarnation(),
        cluster.clone(),
        &secret,
        options.max_frame,
    )?;
    let (tx, mut inbound) = mpsc::channel(8192);
    links.start::<A::Msg>(tx);
    let clock = TokioClock(tokio::time::Instant::now());
    let mut net = links.transport::<A::Msg>();
    // Give the links a moment, so the start step's sends are not all lost at once.
    let wait_until = tokio::time::Instant::now() + options.connect_wait;
    let peers: Vec<NodeId> = cluster.addrs.keys().copied().filter(|&p| p != id).collect();
    while tokio::time::Instant::now() < wait_until && !peers.iter().all(|&p| links.connected(p)) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    host.sync().map_err(|e| format!("member {id}: {e}"))?;
    host.release(start_effects, &clock, &mut net);
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    tokio::pin!(stop);
    let outcome = loop {
        let input = if let Some(random) = host.take_random() {
            Some(random)
        } else {
            let deadline = host.next_deadline();
            let sleep_until = deadline.map(|d| clock.0 + d);
            tokio::select! {
                biased;
                () = &mut stop => break Ok(()),
                received = inbound.recv() => received.map(|(src, send_id, msg)| Input::Deliver { src, send_id, msg }),
                () = async { tokio::time::sleep_until(sleep_until.expect("guarded")).await }, if sleep_until.is_some() => {
                    host.take_due_timer(clock.now()).map(Input::Timeout)
                }
                _ = tick.tick() => {
                    if observe(&mut host, Moment::Tick).is_break() {
                        break Ok(());
                    }
                    None
                }
            }
        };
        let Some(first) = input else { continue };
        // Group commit: handle what is already waiting, make it durable once, then release.
        let mut inputs = vec![first];
        while inputs.len() < MAX_GROUP {
            match inbound.try_recv() {
                Ok((src, send_id, msg)) => inputs.push(Input::Deliver { src, send_id, msg }),
                Err(_) => break,
            }
        }
        let mut released = Vec::with_capacity(inputs.len());
        let mut failed = None;
        let mut stop_now = false;
        for input in inputs {
            match host.handle(input) {
                Ok(Some(effects)) => released.push(effects),
                Ok(None) => {}
                Err(e) => {
                    failed = Some(format!("member {id}: {e}"));
                    break;
                }
            }
            stop_now |= observe(&mut host, Moment::Step).is_break();
        }
        if let Some(e) = failed {
            break Err(e);
        }
        if let Err(e) = host.sync() {
            break Err(format!("member {id}: {e}"));
        }
        for effects in released {
            host.release(effects, &clock, &mut net);
        }
        if stop_now {
            break Ok(());
        }
    };
    links.shutdown().await;
    outcome
}
