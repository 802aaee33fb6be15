//! The named PBFT configurations (issue 3 item 4), the mutants and the registry entry.

use super::{Faulty, PbftConfig, PbftDispatch};
use crate::registry::{check_via, explore_via};
use crate::registry::{ConfigInfo, MutantInfo, ProtocolInfo};
use crate::NetworkKind;
use quorate_impl::pbft::{
    AcceptFirstReply, AnyPrePrepareSender, CommitOnWeakQuorum, IgnorePreparedCerts,
    RequestSignerUnchecked, Rules, Script, SmallPrepareQuorum, TransferWithoutClientTable,
    UnverifiedStateTransfer,
};

fn base() -> PbftConfig {
    PbftConfig {
        replicas: 4,
        f: 1,
        clients: 1,
        requests_per_client: 1,
        faulty: Faulty::None,
        primaries: vec![0, 1],
        max_view: 1,
        max_client_retries: 1,
        batch_max: 2,
        checkpoint_every: 0,
        window: 4,
        adversary_max_seq: 1,
        network: NetworkKind::UnorderedNonDuplicating,
        lossy: false,
        max_drops: 0,
        suspecters: Vec::new(),
        expect_reproposal: false,
        timeout_only_unprepared: false,
        collect_dead_messages: true,
        collect_dead_beyond_replicas: false,
        loss_as_non_delivery: false,
        forget_last_delivered: false,
    }
}

/// Not exhausted within the suite budget yet: runs only when named.
fn soak(name: &'static str, summary: &'static str, _expected: Option<usize>) -> ConfigInfo {
    ConfigInfo {
        soak: true,
        budget_states: 50_000_000,
        budget_seconds: 3_600,
        ..info(name, summary, None)
    }
}

fn info(name: &'static str, summary: &'static str, expected: Option<usize>) -> ConfigInfo {
    ConfigInfo {
        name,
        summary,
        budget_states: 10_000_000,
        budget_seconds: 300,
        expected_unique: expected,
        soak: false,
    }
}

/// The named configurations, default first.
pub fn configs() -> Vec<(ConfigInfo, PbftConfig)> {
    vec![
        (
            info(
                "honest",
                "(a) n=4 f=1 all correct, 1 client x 1 request, no retries, view 0, unordered",
                Some(251_950),
            ),
            PbftConfig { max_view: 0, max_client_retries: 0, ..base() },
        ),
        (
            info(
                "equivocating-primary",
                "(b) primary 0 is the most-general adversary: every pre-prepare/prepare/commit it can sign for seq 1 with either batch (request or no-op), a forged reply, an uncertified state; view 0, no retries",
                Some(49_986),
            ),
            PbftConfig {
                faulty: Faulty::MostGeneral(0),
                max_view: 0,
                max_client_retries: 0,
                ..base()
            },
        ),
        (
            soak(
                "equivocating-primary-view-change",
                "(b) primary 0 equivocates (request to backups 2, 3, no-op to 1 at seq 1; no-op at seq 2; commits all; asks for view 1), 1 retry broadcast, views <= 1, only replica 1 times out, and only while waiting for a request it has not prepared (2, 3 join on f+1 view-changes)",
                None,
            ),
            PbftConfig {
                faulty: Faulty::Scripted(0, Script::Equivocate),
                suspecters: vec![1],
                expect_reproposal: true,
                timeout_only_unprepared: true,
                collect_dead_beyond_replicas: true,
                ..base()
            },
        ),
        (
            soak(
                "most-general-primary-view-change",
                "(b) primary 0 is the most-general adversary for views <= 1 (every pre-prepare/prepare/commit for seq 1 with either batch in views 0 and 1, an empty view-change for view 1); 1 retry broadcast; only replica 1 times out, and only while waiting for a request it has not prepared (2, 3 join on f+1 view-changes)",
                None,
            ),
            PbftConfig {
                faulty: Faulty::MostGeneral(0),
                suspecters: vec![1],
                expect_reproposal: true,
                timeout_only_unprepared: true,
                collect_dead_beyond_replicas: true,
                ..base()
            },
        ),
        (
            soak(
                "most-general-primary-view-change-2-seqs",
                "as most-general-primary-view-change, with the adversary also signing for seq 2 (a certificate above a gap, so a new view must fill seq 1)",
                None,
            ),
            PbftConfig {
                faulty: Faulty::MostGeneral(0),
                suspecters: vec![1],
                expect_reproposal: true,
                timeout_only_unprepared: true,
                collect_dead_beyond_replicas: true,
                adversary_max_seq: 2,
                ..base()
            },
        ),
        (
            info(
                "silent-primary",
                "(c) primary 0 silent; the client's retry broadcast arms the backups' view timers and forces a view change to primary 1, views <= 1 (every backup may time out)",
                Some(1_133),
            ),
            PbftConfig { faulty: Faulty::Scripted(0, Script::Silent), ..base() },
        ),
        (
            soak(
                "byzantine-backup-lossy",
                "(d) backup 3 sends conflicting prepares/commits and echoes checkpoints; duplicating, lossy network (loss checked as non-delivery: any number of messages lost); checkpoint every seq; view 0, no retries",
                None,
            ),
            PbftConfig {
                faulty: Faulty::Scripted(3, Script::ConflictingVotes),
                max_view: 0,
                max_client_retries: 0,
                checkpoint_every: 1,
                network: NetworkKind::UnorderedDuplicating,
                lossy: true,
                max_drops: 1,
                collect_dead_beyond_replicas: true,
                loss_as_non_delivery: true,
                forget_last_delivered: true,
                ..base()
            },
        ),
        (
            soak(
                "byzantine-backup-view-change",
                "backup 3 is the most-general adversary for views <= 1 (pre-prepares it may not send included); 1 retry broadcast; only replica 1 times out, and only while waiting for a request it has not prepared (the others join on f+1 view-changes)",
                None,
            ),
            PbftConfig {
                faulty: Faulty::MostGeneral(3),
                suspecters: vec![1],
                timeout_only_unprepared: true,
                collect_dead_beyond_replicas: true,
                ..base()
            },
        ),
        (
            info(
                "byzantine-backup",
                "backup 3 is the most-general adversary (pre-prepares it may not send included), a forged reply, an uncertified state; view 0, no retries",
                Some(46_890),
            ),
            PbftConfig {
                faulty: Faulty::MostGeneral(3),
                max_view: 0,
                max_client_retries: 0,
                ..base()
            },
        ),
        (
            ConfigInfo {
                soak: true,
                ..info(
                    "honest-view-change",
                    "(a) all correct, 1 retry broadcast arms the backups' view timers, views <= 1, only replicas 1 and 2 time out, and only while waiting for a request they have not prepared",
                    None,
                )
            },
            PbftConfig {
                expect_reproposal: true,
                suspecters: vec![1, 2],
                timeout_only_unprepared: true,
                collect_dead_beyond_replicas: true,
                ..base()
            },
        ),
    ]
}

fn mutant<R: Rules>(breaks: &'static str, config: &'static str) -> MutantInfo {
    MutantInfo {
        name: R::NAME,
        summary: R::SUMMARY,
        breaks,
        config,
        also_breaks: &[],
    }
}

/// Mutants with the property each breaks and the configuration that shows it.
pub fn mutants() -> Vec<MutantInfo> {
    vec![
        mutant::<SmallPrepareQuorum>("agreement", "most-general-primary-view-change"),
        mutant::<CommitOnWeakQuorum>("agreement", "equivocating-primary-view-change"),
        mutant::<IgnorePreparedCerts>("agreement", "most-general-primary-view-change"),
        mutant::<AcceptFirstReply>("client-accepts-committed", "byzantine-backup"),
        mutant::<AnyPrePrepareSender>("agreement", "byzantine-backup-view-change"),
        mutant::<UnverifiedStateTransfer>("consistency", "byzantine-backup"),
        mutant::<RequestSignerUnchecked>("validity", "byzantine-backup"),
        mutant::<TransferWithoutClientTable>("refines-sequencer", "byzantine-backup-lossy"),
    ]
}

/// The registry entry.
pub fn protocol() -> ProtocolInfo {
    ProtocolInfo {
        name: "pbft",
        summary: "PBFT (Byzantine faults, n = 3f+1): pre-prepare/prepare/commit, checkpoints, view change, state transfer",
        configs: configs().into_iter().map(|(info, _)| info).collect(),
        mutants: mutants(),
        properties: vec![
            ("agreement", "correct replicas executed the same batch at every sequence number"),
            ("validity", "correct replicas execute only signed, submitted requests, each once"),
            ("consistency", "each correct replica's state is the reference execution of the sequencer's log"),
            ("refines-sequencer", "delivered sequences are prefixes of one growing log of submitted requests"),
            ("client-accepts-committed", "a client accepts only a result some correct replica produced"),
            ("request commits", "sometimes: a correct replica executes a request"),
            ("view change completes", "sometimes: a correct replica enters a view above 0"),
            ("prepared in view 0 commits in view 1", "sometimes: a batch prepared in view 0 commits in view 1"),
            ("state transfer", "sometimes: a correct replica installs a checkpoint by state transfer"),
        ],
        check: check_via::<PbftDispatch>,
        explore: explore_via::<PbftDispatch>,
        declared: crate::claims::declared_via::<PbftDispatch>,
    }
}
