//! The model's network: the in-flight messages of a [`crate::System`] state.
//!
//! Semantics follow stateright's `Network` (so the differential test against `ActorModel` holds),
//! but the representation is ours: sorted (canonical iteration and encoding); the unordered bag
//! is a sorted `Vec`, which clones in one allocation (the checker clones the network for every
//! successor, and bags hold a few dozen envelopes at most); and the unordered kinds keep an
//! incremental multiset hash so fingerprinting a state does not walk every envelope. Payloads sit
//! behind `Arc`: cloning the network for a successor copies pointers, not messages (which carry
//! requests, certificates and batches).

use crate::state::stable_hash;
use quorate_impl::symmetry::{Permutation, Rename};
use serde::{Deserialize, Serialize};
use stateright::actor::Id;
use std::cmp::Ordering;
use std::collections::{BTreeMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// One message in flight from `src` to `dst`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Envelope<Msg> {
    /// Sender.
    pub src: Id,
    /// Receiver.
    pub dst: Id,
    /// Payload.
    pub msg: Msg,
}

/// The delivery discipline of a configuration (DESIGN §5 "Network contract").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NetworkKind {
    /// Each send is delivered at most once, in any order: the deployment contract.
    UnorderedNonDuplicating,
    /// A delivered message may be delivered again (models duplication by the network).
    UnorderedDuplicating,
    /// FIFO per directed pair: only the head of a flow may be delivered or dropped.
    Ordered,
}

impl NetworkKind {
    /// The names accepted on the command line.
    pub const NAMES: [&'static str; 3] = ["unordered", "duplicating", "ordered"];

    /// The command-line name of this kind.
    pub fn name(self) -> &'static str {
        match self {
            NetworkKind::UnorderedNonDuplicating => "unordered",
            NetworkKind::UnorderedDuplicating => "duplicating",
            NetworkKind::Ordered => "ordered",
        }
    }
}

/// In-flight messages. Equality and hashing depend only on contents.
#[derive(Clone, Debug)]
pub enum Network<Msg> {
    /// A multiset of envelopes with a commutative hash of its contents.
    Unordered {
        /// Distinct envelopes, sorted, each with its copies in flight (never 0).
        bag: Vec<(Envelope<Arc<Msg>>, u32)>,
        /// Wrapping sum of the envelope hashes, one term per copy.
        bag_hash: u64,
    },
    /// A set of envelopes; delivery leaves the envelope in place. `last` is the most recently
    /// delivered envelope, so that re-deliveries give distinct states (as stateright does).
    Duplicating {
        /// Envelopes ever sent and not dropped.
        set: BTreeMap<Envelope<Arc<Msg>>, ()>,
        /// Wrapping sum of the envelope hashes.
        set_hash: u64,
        /// The last delivered envelope.
        last: Option<Envelope<Arc<Msg>>>,
    },
    /// A FIFO queue per directed pair.
    Ordered(BTreeMap<(Id, Id), VecDeque<Arc<Msg>>>),
}

fn envelope_hash<Msg: Hash>(src: Id, dst: Id, msg: &Msg) -> u64 {
    // Hashes exactly as `Envelope<&Msg>` would, for owned and borrowed envelopes alike.
    stable_hash(&Envelope { src, dst, msg })
}

/// Orders an envelope against (src, dst, msg) without building one.
fn cmp_envelope<Msg: Ord>(env: &Envelope<Arc<Msg>>, src: Id, dst: Id, msg: &Msg) -> Ordering {
    (env.src, env.dst, &*env.msg).cmp(&(src, dst, msg))
}

fn shared<Msg>(env: Envelope<Msg>) -> Envelope<Arc<Msg>> {
    Envelope {
        src: env.src,
        dst: env.dst,
        msg: Arc::new(env.msg),
    }
}

fn view<Msg>(env: &Envelope<Arc<Msg>>) -> Envelope<&Msg> {
    Envelope {
        src: env.src,
        dst: env.dst,
        msg: &*env.msg,
    }
}

impl<Msg: Clone + Ord + Hash> Network<Msg> {
    /// An empty network of the given kind.
    pub fn new(kind: NetworkKind) -> Self {
        match kind {
            NetworkKind::UnorderedNonDuplicating => Network::Unordered {
                bag: Vec::new(),
                bag_hash: 0,
            },
            NetworkKind::UnorderedDuplicating => Network::Duplicating {
                set: BTreeMap::new(),
                set_hash: 0,
                last: None,
            },
            NetworkKind::Ordered => Network::Ordered(BTreeMap::new()),
        }
    }

    /// Which kind this is.
    pub fn kind(&self) -> NetworkKind {
        match self {
            Network::Unordered { .. } => NetworkKind::UnorderedNonDuplicating,
            Network::Duplicating { .. } => NetworkKind::UnorderedDuplicating,
            Network::Ordered(_) => NetworkKind::Ordered,
        }
    }

    /// Puts a message in flight.
    pub fn send(&mut self, env: Envelope<Msg>) {
        match self {
            Network::Unordered { bag, bag_hash } => {
                *bag_hash = bag_hash.wrapping_add(envelope_hash(env.src, env.dst, &env.msg));
                match bag.binary_search_by(|(e, _)| cmp_envelope(e, env.src, env.dst, &env.msg)) {
                    Ok(at) => bag[at].1 += 1,
                    Err(at) => bag.insert(at, (shared(env), 1)),
                }
            }
            Network::Duplicating { set, set_hash, .. } => {
                let hash = envelope_hash(env.src, env.dst, &env.msg);
                if set.insert(shared(env), ()).is_none() {
                    *set_hash = set_hash.wrapping_add(hash);
                }
            }
            Network::Ordered(flows) => flows
                .entry((env.src, env.dst))
                .or_default()
                .push_back(Arc::new(env.msg)),
        }
    }

    /// The same messages in flight with every actor id renamed by `perm` (hashes recomputed;
    /// ordered flows keep their order).
    pub fn rename(&self, perm: &Permutation) -> Self
    where
        Msg: Rename,
    {
        let renamed = |env: &Envelope<Arc<Msg>>| Envelope {
            src: env.src.rename(perm),
            dst: env.dst.rename(perm),
            msg: (*env.msg).rename(perm),
        };
        match self {
            Network::Unordered { bag, .. } => {
                let mut network = Network::new(self.kind());
                for (env, copies) in bag {
                    let env = renamed(env);
                    for _ in 0..*copies {
                        network.send(env.clone());
                    }
                }
                network
            }
            Network::Duplicating { set, last, .. } => {
                let mut network = Network::new(self.kind());
                for env in set.keys() {
                    network.send(renamed(env));
                }
                if let Network::Duplicating { last: new_last, .. } = &mut network {
                    *new_last = last.as_ref().map(|env| shared(renamed(env)));
                }
                network
            }
            Network::Ordered(flows) => Network::Ordered(
                flows
                    .iter()
                    .map(|((src, dst), queue)| {
                        let queue = queue.iter().map(|msg| msg.rename(perm)).collect();
                        ((src.rename(perm), dst.rename(perm)), queue)
                    })
                    .collect(),
            ),
        }
    }

    /// Removes one copy of a message that was delivered.
    pub fn on_deliver(&mut self, src: Id, dst: Id, msg: &Msg) {
        match self {
            Network::Duplicating { last, .. } => {
                *last = Some(Envelope {
                    src,
                    dst,
                    msg: Arc::new(msg.clone()),
                })
            }
            _ => self.remove_one(src, dst, msg),
        }
    }

    /// Removes one copy of a message that was lost.
    pub fn on_drop(&mut self, src: Id, dst: Id, msg: &Msg) {
        match self {
            Network::Duplicating { set, set_hash, .. } => {
                let env = Envelope {
                    src,
                    dst,
                    msg: Arc::new(msg.clone()),
                };
                if set.remove(&env).is_some() {
                    *set_hash = set_hash.wrapping_sub(envelope_hash(src, dst, msg));
                }
            }
            _ => self.remove_one(src, dst, msg),
        }
    }

    fn remove_one(&mut self, src: Id, dst: Id, msg: &Msg) {
        match self {
            Network::Unordered { bag, bag_hash } => {
                let at = bag
                    .binary_search_by(|(e, _)| cmp_envelope(e, src, dst, msg))
                    .expect("the model only delivers or drops envelopes that are in flight");
                bag[at].1 -= 1;
                if bag[at].1 == 0 {
                    bag.remove(at);
                }
                *bag_hash = bag_hash.wrapping_sub(envelope_hash(src, dst, msg));
            }
            Network::Ordered(flows) => {
                let flow = flows
                    .get_mut(&(src, dst))
                    .expect("the model only delivers or drops heads of existing flows");
                let head = flow.pop_front();
                assert!(head.as_deref() == Some(msg), "only a flow's head leaves it");
                if flow.is_empty() {
                    flows.remove(&(src, dst));
                }
            }
            Network::Duplicating { .. } => {
                unreachable!("duplicating networks keep delivered envelopes")
            }
        }
    }

    /// Whether `msg` from `src` to `dst` may be delivered now (in flight, and a flow's head on
    /// FIFO networks), without listing every envelope (replay checks one step at a time).
    pub fn can_deliver(&self, src: Id, dst: Id, msg: &Msg) -> bool {
        match self {
            Network::Unordered { bag, .. } => bag
                .binary_search_by(|(e, _)| cmp_envelope(e, src, dst, msg))
                .is_ok(),
            Network::Duplicating { set, .. } => set
                .keys()
                .any(|e| e.src == src && e.dst == dst && *e.msg == *msg),
            Network::Ordered(flows) => flows
                .get(&(src, dst))
                .and_then(|flow| flow.front())
                .is_some_and(|head| **head == *msg),
        }
    }

    /// Envelopes that may be delivered or dropped next: every distinct envelope, or each flow's
    /// head for FIFO networks.
    pub fn deliverable(&self) -> Vec<Envelope<&Msg>> {
        match self {
            Network::Unordered { bag, .. } => bag.iter().map(|(env, _)| view(env)).collect(),
            Network::Duplicating { set, .. } => set.keys().map(view).collect(),
            Network::Ordered(flows) => flows
                .iter()
                .filter_map(|(&(src, dst), flow)| {
                    flow.front().map(|msg| Envelope {
                        src,
                        dst,
                        msg: &**msg,
                    })
                })
                .collect(),
        }
    }

    /// Calls `visit` on each envelope [`Network::deliverable`] lists, in the same order, without
    /// collecting them (listing a state's actions does this once per explored state).
    pub fn for_each_deliverable(&self, mut visit: impl FnMut(Envelope<&Msg>)) {
        match self {
            Network::Unordered { bag, .. } => bag.iter().for_each(|(env, _)| visit(view(env))),
            Network::Duplicating { set, .. } => set.keys().for_each(|env| visit(view(env))),
            Network::Ordered(flows) => {
                for (&(src, dst), flow) in flows {
                    if let Some(msg) = flow.front() {
                        visit(Envelope {
                            src,
                            dst,
                            msg: &**msg,
                        });
                    }
                }
            }
        }
    }

    /// Every message in flight, with multiplicity.
    pub fn iter_all(&self) -> Box<dyn Iterator<Item = Envelope<&Msg>> + '_> {
        match self {
            Network::Unordered { bag, .. } => Box::new(
                bag.iter()
                    .flat_map(|(env, count)| std::iter::repeat_n(view(env), *count as usize)),
            ),
            Network::Duplicating { set, .. } => Box::new(set.keys().map(view)),
            Network::Ordered(flows) => Box::new(flows.iter().flat_map(|(&(src, dst), flow)| {
                flow.iter().map(move |msg| Envelope {
                    src,
                    dst,
                    msg: &**msg,
                })
            })),
        }
    }

    /// Number of messages in flight, with multiplicity.
    pub fn len(&self) -> usize {
        match self {
            Network::Unordered { bag, .. } => bag.iter().map(|&(_, c)| c as usize).sum(),
            Network::Duplicating { set, .. } => set.len(),
            Network::Ordered(flows) => flows.values().map(VecDeque::len).sum(),
        }
    }

    /// True when nothing is in flight.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<Msg> Envelope<Msg> {
    /// Borrows the payload.
    pub fn borrowed(&self) -> Envelope<&Msg> {
        Envelope {
            src: self.src,
            dst: self.dst,
            msg: &self.msg,
        }
    }
}

impl<Msg: Clone> Envelope<&Msg> {
    /// Clones the payload.
    pub fn to_owned_msg(&self) -> Envelope<Msg> {
        Envelope {
            src: self.src,
            dst: self.dst,
            msg: self.msg.clone(),
        }
    }
}

impl<Msg: PartialEq> PartialEq for Network<Msg> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (
                Network::Unordered {
                    bag: a,
                    bag_hash: ha,
                },
                Network::Unordered {
                    bag: b,
                    bag_hash: hb,
                },
            ) => ha == hb && a == b,
            (
                Network::Duplicating {
                    set: a, last: la, ..
                },
                Network::Duplicating {
                    set: b, last: lb, ..
                },
            ) => la == lb && a == b,
            (Network::Ordered(a), Network::Ordered(b)) => a == b,
            _ => false,
        }
    }
}

impl<Msg: Eq> Eq for Network<Msg> {}

impl<Msg: Hash> Hash for Network<Msg> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            Network::Unordered { bag_hash, .. } => bag_hash.hash(state),
            Network::Duplicating { set_hash, last, .. } => {
                set_hash.hash(state);
                last.hash(state);
            }
            Network::Ordered(flows) => flows.hash(state),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(src: usize, dst: usize, msg: u8) -> Envelope<u8> {
        Envelope {
            src: Id::from(src),
            dst: Id::from(dst),
            msg,
        }
    }

    fn hash_of<T: Hash>(value: &T) -> u64 {
        let mut hasher = std::hash::DefaultHasher::new();
        value.hash(&mut hasher);
        hasher.finish()
    }

    #[test]
    fn unordered_hash_is_independent_of_send_order() {
        let mut a = Network::new(NetworkKind::UnorderedNonDuplicating);
        let mut b = Network::new(NetworkKind::UnorderedNonDuplicating);
        for e in [env(0, 1, 7), env(1, 0, 8), env(0, 1, 7)] {
            a.send(e);
        }
        for e in [env(0, 1, 7), env(0, 1, 7), env(1, 0, 8)] {
            b.send(e);
        }
        assert_eq!(a, b);
        assert_eq!(hash_of(&a), hash_of(&b));
        assert_eq!(a.len(), 3);
        assert_eq!(
            a.deliverable().len(),
            2,
            "duplicates are one deliverable action"
        );
    }

    #[test]
    fn unordered_delivery_consumes_one_copy_and_restores_the_hash() {
        let mut net = Network::new(NetworkKind::UnorderedNonDuplicating);
        let empty_hash = hash_of(&net);
        net.send(env(0, 1, 7));
        net.send(env(0, 1, 7));
        net.on_deliver(Id::from(0), Id::from(1), &7);
        assert_eq!(net.len(), 1);
        net.on_drop(Id::from(0), Id::from(1), &7);
        assert!(net.is_empty());
        assert_eq!(hash_of(&net), empty_hash);
    }

    #[test]
    fn ordered_network_offers_only_flow_heads() {
        let mut net = Network::new(NetworkKind::Ordered);
        net.send(env(0, 1, 1));
        net.send(env(0, 1, 2));
        net.send(env(2, 1, 3));
        let heads: Vec<u8> = net.deliverable().iter().map(|e| *e.msg).collect();
        assert_eq!(heads, vec![1, 3]);
        net.on_deliver(Id::from(0), Id::from(1), &1);
        let heads: Vec<u8> = net.deliverable().iter().map(|e| *e.msg).collect();
        assert_eq!(heads, vec![2, 3]);
    }

    #[test]
    fn duplicating_network_keeps_delivered_messages() {
        let mut net = Network::new(NetworkKind::UnorderedDuplicating);
        net.send(env(0, 1, 1));
        net.on_deliver(Id::from(0), Id::from(1), &1);
        assert_eq!(net.deliverable().len(), 1);
        net.on_drop(Id::from(0), Id::from(1), &1);
        assert!(net.deliverable().is_empty());
    }
}
