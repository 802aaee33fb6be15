//! `quorate bench xov`: seed 002's throughput claim, measured. A direct in-process driver
//! through the XOV peer's own code (`Peer::endorse` and `Peer::validate_block`, the functions
//! the model checks), with symbolic signatures and no network: blocks are cut from a queue of
//! endorsed transfers, every transfer of a block is endorsed against the state committed
//! before the block (as concurrent clients would), and a transfer invalidated by
//! `MVCC_READ_CONFLICT` is re-endorsed and re-submitted into the next block.
//!
//! Workloads: `hot` (every sender pays one receiver) and `spread` (sender i pays receiver i).
//! Modes: plain MVCC (absolute balance writes) and delta writes. Figures: valid transfers per
//! second of validation+endorsement time, invalidations per code, mean latency in blocks
//! (first submission to valid commit).

use quorate_impl::crypto::{Keyring, Signer, Symbolic};
use quorate_impl::xov::{Endorsed, Honest, Peer, XovTx};
use quorate_spec::token::{TokenApp, TokenOp};
use quorate_spec::xov::{versioned_genesis, Code, Policy};
use quorate_spec::{Transaction, TxId};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

/// What one (workload, mode, block size) run measured.
pub struct XovRun {
    /// `hot` or `spread`.
    pub workload: &'static str,
    /// Delta writes (else plain MVCC).
    pub delta: bool,
    /// Transactions per block.
    pub block_size: usize,
    /// Blocks committed.
    pub blocks: usize,
    /// Valid transfers.
    pub valid: usize,
    /// Invalidations per code.
    pub invalid: BTreeMap<Code, usize>,
    /// Seconds spent endorsing and validating.
    pub seconds: f64,
    /// Mean blocks from first submission to valid commit (1 = committed in its first block).
    pub mean_latency_blocks: f64,
}

/// Runs `blocks` full blocks of `block_size` transfers: sender i pays one receiver (`hot`)
/// or its own receiver i (`spread`), each endorsement on one thread at no extra cost.
pub fn run_one(hot: bool, delta: bool, block_size: usize, blocks: usize) -> XovRun {
    let senders = block_size as u32;
    let load = XovLoad {
        block_size,
        blocks,
        delta,
        work: 0,
        workers: 1,
    };
    let mut balances = vec![1_000_000i64; senders as usize];
    // Accounts 0..senders send; the receivers follow them (one in `hot`).
    let receivers = if hot { 1 } else { senders };
    balances.extend(std::iter::repeat_n(0, receivers as usize));
    let workload = if hot { "hot" } else { "spread" };
    drive(&load, workload, balances, |sender| {
        (sender, senders + if hot { 0 } else { sender })
    })
}

/// How a driver run is shaped beyond its workload.
#[derive(Clone, Copy, Debug)]
pub struct XovLoad {
    /// Transactions per block (also the number of senders: one transfer in flight each).
    pub block_size: usize,
    /// Blocks committed.
    pub blocks: usize,
    /// Delta writes (else plain MVCC).
    pub delta: bool,
    /// Busy-loop iterations each endorsement burns before simulating (the execution cost).
    pub work: u32,
    /// Threads endorsing a block's transactions at once (endorsers simulate in parallel).
    pub workers: usize,
}

/// The driver: every sender keeps one transfer in flight (`transfer(sender)` names its
/// accounts); each block takes the queue's first `block_size` transfers, endorses them
/// against the state committed before the block on `workers` threads, validates the block
/// with `Peer::validate_block`, and re-queues the `MVCC_READ_CONFLICT` losers.
pub fn drive(
    load: &XovLoad,
    workload: &'static str,
    balances: Vec<i64>,
    transfer: impl Fn(u32) -> (u32, u32) + Sync,
) -> XovRun {
    let (block_size, blocks, delta) = (load.block_size, load.blocks, load.delta);
    let senders = block_size as u32;
    let total: i64 = balances.iter().sum();
    let app = TokenApp {
        max_supply: total,
        delta,
    };
    let endorser_id = 0;
    let client_base = 1;
    let keyring = Arc::new(Keyring::<Symbolic>::symbolic(0..client_base + senders));
    let peer: Peer<Symbolic, Honest> = Peer::new(
        Signer::symbolic(endorser_id),
        keyring,
        BTreeMap::from([(endorser_id, 0)]),
        Policy::Org(0),
        app,
        Arc::new(TokenApp::genesis(&balances)),
        vec![endorser_id],
    );
    let endorser = Signer::<Symbolic>::symbolic(endorser_id);
    let clients: Vec<Signer<Symbolic>> = (0..senders)
        .map(|i| Signer::symbolic(client_base + i))
        .collect();
    let mut world = versioned_genesis(&peer.genesis);
    let mut txids = BTreeSet::new();
    // Each queued transfer: (sender, sequence number, block of first submission).
    let mut queue: VecDeque<(u32, u64, usize)> = VecDeque::new();
    let mut next_seq = vec![1u64; senders as usize];
    let mut report = XovRun {
        workload,
        delta,
        block_size,
        blocks,
        valid: 0,
        invalid: BTreeMap::new(),
        seconds: 0.0,
        mean_latency_blocks: 0.0,
    };
    let mut latency_sum = 0usize;
    let started = Instant::now();
    for block in 1..=blocks {
        // Refill: every sender without a transfer in flight starts a new one.
        let in_flight: BTreeSet<u32> = queue.iter().map(|(s, _, _)| *s).collect();
        for sender in 0..senders {
            if !in_flight.contains(&sender) {
                queue.push_back((sender, next_seq[sender as usize], block));
                next_seq[sender as usize] += 1;
            }
        }
        let batch: Vec<(u32, u64, usize)> = queue.drain(..block_size.min(queue.len())).collect();
        let endorse = |&(sender, seq, _): &(u32, u64, usize)| {
            let (from, to) = transfer(sender);
            // A retried transfer gets a fresh transaction id (the old one is taken).
            let proposal = clients[sender as usize].sign(Transaction::new(
                TxId::new(client_base + sender, seq * 1_000 + block as u64),
                TokenApp::APP_ID,
                vec![TokenOp::Transfer {
                    from,
                    to,
                    amount: 1,
                }],
            ));
            burn(load.work);
            let endorsed: Endorsed = peer.endorse(&world, &proposal).expect("senders are funded");
            Arc::new(XovTx {
                proposal,
                endorsements: vec![endorser.sign(endorsed)],
            })
        };
        let txs: Vec<Arc<XovTx<Symbolic>>> = if load.workers <= 1 {
            batch.iter().map(endorse).collect()
        } else {
            let chunk = batch.len().div_ceil(load.workers).max(1);
            std::thread::scope(|scope| {
                let handles: Vec<_> = batch
                    .chunks(chunk)
                    .map(|part| scope.spawn(|| part.iter().map(endorse).collect::<Vec<_>>()))
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().expect("endorsing thread"))
                    .collect()
            })
        };
        let codes = peer.validate_block(&mut world, &mut txids, block as u64, &txs);
        for (entry, code) in batch.into_iter().zip(codes) {
            if code == Code::Valid {
                report.valid += 1;
                latency_sum += block + 1 - entry.2;
            } else {
                *report.invalid.entry(code).or_default() += 1;
                if code == Code::MvccReadConflict {
                    queue.push_back(entry); // re-endorse and resubmit
                }
            }
        }
    }
    report.seconds = started.elapsed().as_secs_f64();
    report.mean_latency_blocks = latency_sum as f64 / report.valid.max(1) as f64;
    report
}

/// Burns `work` iterations of CPU: a transaction's configurable execution cost, the same in
/// every paradigm the benchmarks compare.
pub fn burn(work: u32) {
    let mut acc = 0u64;
    for i in 0..work {
        acc = black_box(acc.wrapping_mul(6364136223846793005).wrapping_add(i as u64));
    }
    black_box(acc);
}

/// Runs the grid and prints the table and the delta/plain ratio on the hot workload.
pub fn run(blocks: usize, sizes: &[usize]) {
    println!("workload  mode   block  blocks   valid  valid/block  valid tx/s  invalid by code                 latency(blocks)");
    for &size in sizes {
        let mut hot_valid = [0usize; 2];
        for hot in [true, false] {
            for (index, delta) in [false, true].into_iter().enumerate() {
                let r = run_one(hot, delta, size, blocks);
                let codes: Vec<String> = r
                    .invalid
                    .iter()
                    .map(|(c, n)| format!("{}={n}", c.name()))
                    .collect();
                println!(
                    "{:<9} {:<6} {:>5} {:>6} {:>7} {:>12.1} {:>11.0}  {:<31} {:>6.2}",
                    r.workload,
                    if r.delta { "delta" } else { "plain" },
                    r.block_size,
                    r.blocks,
                    r.valid,
                    r.valid as f64 / r.blocks as f64,
                    r.valid as f64 / r.seconds.max(1e-9),
                    if codes.is_empty() {
                        "-".to_string()
                    } else {
                        codes.join(" ")
                    },
                    r.mean_latency_blocks
                );
                if hot {
                    hot_valid[index] = r.valid;
                }
            }
        }
        println!(
            "  block {size}: hot-account valid transfers, delta / plain = {:.1}",
            hot_valid[1] as f64 / hot_valid[0].max(1) as f64
        );
    }
}
