//! Cost of one host step as the committed ledger grows (a measurement, run on demand:
//! `cargo test -p quorate-net --release --test net step_cost:: -- --ignored --nocapture`).
//! A single Paxos replica (n = 1, quorum 1) decides each request in the step that receives it.

use std::time::{Duration, Instant};

use quorate_impl::crypto::{Keyring, Signer, Symbolic};
use quorate_impl::paxos::{Honest, PaxosMsg};
use quorate_impl::trace::SendId;
use quorate_net::host::{Clock, Disk, Host, Input, SplitMix64, TraceInfo, Transport};
use quorate_net::protocols::paxos::PaxosDeployment;
use quorate_net::quic::EphemeralDisk;
use quorate_net::sim::MemDisk;
use quorate_spec::{Key, KvOp, KvStore, Transaction, TxId};
use std::sync::Arc;

type Storage =
    <quorate_net::protocols::paxos::PaxosKv<Symbolic> as stateright::actor::Actor>::Storage;

struct Discard;
impl<M> Transport<M> for Discard {
    fn send(&mut self, _: u32, _: SendId, _: M) {}
}
struct Zero;
impl Clock for Zero {
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

fn measure<D: Disk<Storage>>(disk: D, label: &str, trace: bool, checkpoints: &[u64]) {
    let deployment = PaxosDeployment::new(1);
    let actor = deployment.replica::<Symbolic, Honest>(0, Arc::new(Keyring::symbolic(0..2)));
    let info = TraceInfo {
        protocol: "paxos".into(),
        crypto: "symbolic".into(),
        seed: None,
    };
    let (mut host, effects) =
        Host::start(actor, 0, disk, SplitMix64::new(1), trace.then_some(&info)).unwrap();
    host.release(effects, &Zero, &mut Discard);
    let signer = Signer::symbolic(1);
    let mut seq = 0;
    for &target in checkpoints {
        let mut timed = Duration::ZERO;
        let mut timed_steps = 0;
        while seq < target {
            seq += 1;
            let tx = Transaction::new(
                TxId { client: 1, seq },
                KvStore::APP_ID,
                vec![KvOp::Put(Key(1), 1)],
            );
            let input = Input::Deliver {
                src: 1,
                send_id: SendId {
                    src: 1,
                    incarnation: 1,
                    seq,
                },
                msg: PaxosMsg::Request(signer.sign(tx)),
            };
            let started = Instant::now();
            let effects = host.handle(input).unwrap().unwrap();
            host.release(effects, &Zero, &mut Discard);
            if target - seq < 200 {
                timed += started.elapsed();
                timed_steps += 1;
            }
        }
        println!(
            "{label}, trace {}: at {target} committed entries, one step takes {:.1} µs",
            if trace { "on " } else { "off" },
            timed.as_secs_f64() * 1e6 / timed_steps as f64
        );
    }
}

#[test]
#[ignore = "a measurement, not a check"]
fn step_cost_as_the_ledger_grows() {
    // Every step is linear in the ledger (see the report): 10^5 entries take minutes to build,
    // so the figure there is extrapolated from these.
    measure(EphemeralDisk, "no disk", false, &[1_000, 10_000]);
    measure(
        MemDisk::new(),
        "whole-storage disk",
        false,
        &[1_000, 10_000],
    );
    measure(MemDisk::new(), "whole-storage disk", true, &[1_000, 10_000]);
}
