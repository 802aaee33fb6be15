//! The global state of a [`crate::System`]: one slot per actor, the network, the auxiliary
//! history.
//!
//! Layout is chosen for the checker's two hot operations, cloning a state for each successor and
//! fingerprinting it:
//! - every per-actor part sits in a slot behind `Arc`, copied on write, so a successor shares
//!   every slot its step left alone (one allocation per clone, one per actor that moved);
//! - each slot caches the hash of its actor state and storage, and of all its parts, and the
//!   history caches its own, so a fingerprint takes one word per actor;
//! - the network keeps an order-independent hash of its contents (see [`crate::network`]).
//!
//! Caches are written only through the setters here, so they cannot go stale.

use crate::network::{Envelope, Network};
use stateright::actor::Actor;
use std::collections::{BTreeMap, HashMap};
use std::fmt::{self, Debug};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A fast hash that is the same in every run and process (fixed keys), so per-part hashes and
/// the fingerprints built from them are reproducible.
pub(crate) fn stable_hash<T: Hash + ?Sized>(value: &T) -> u64 {
    ahash::RandomState::with_seeds(
        0x5152_4154_4531_0001,
        0x5152_4154_4531_0002,
        0x5152_4154_4531_0003,
        0x5152_4154_4531_0004,
    )
    .hash_one(value)
}

/// History-property verdicts by history: its cached hash picks a bucket, equality decides, so
/// a memoised verdict is exact. Bounded: it starts over once it holds [`HistoryVerdictMemo::LIMIT`]
/// histories.
pub(crate) struct HistoryVerdictMemo<H> {
    #[allow(clippy::type_complexity)]
    table: Mutex<HashMap<u64, Vec<(Arc<H>, u32)>, ahash::RandomState>>,
}

/// A fixed-key fast hasher for the memos' tables (keys are already hashes or addresses).
fn memo_hasher() -> ahash::RandomState {
    ahash::RandomState::with_seeds(1, 2, 3, 4)
}

impl<H> Default for HistoryVerdictMemo<H> {
    fn default() -> Self {
        HistoryVerdictMemo {
            table: Mutex::new(HashMap::with_hasher(memo_hasher())),
        }
    }
}

impl<H: PartialEq> HistoryVerdictMemo<H> {
    const LIMIT: usize = 1 << 16;

    pub(crate) fn verdicts<A: Actor>(
        &self,
        state: &SystemState<A, H>,
        evaluate: impl Fn(&H) -> u32,
    ) -> u32 {
        let key = state.history_hash();
        let known = |table: &HashMap<u64, Vec<(Arc<H>, u32)>, ahash::RandomState>| {
            table.get(&key).and_then(|bucket| {
                bucket
                    .iter()
                    .find(|(history, _)| {
                        Arc::ptr_eq(history, &state.history) || **history == *state.history()
                    })
                    .map(|&(_, verdicts)| verdicts)
            })
        };
        if let Some(verdicts) = known(&self.table.lock().expect("memo lock")) {
            return verdicts;
        }
        // Evaluated outside the lock: the check may be costly and other threads may need it.
        let verdicts = evaluate(state.history());
        let mut table = self.table.lock().expect("memo lock");
        if table.len() >= Self::LIMIT {
            table.clear();
        }
        table
            .entry(key)
            .or_default()
            .push((state.shared_history(), verdicts));
        verdicts
    }
}

/// The recorder's results by (history, envelope): a step that records a message into a history
/// already seen with that message gets the shared result, without cloning the history and
/// hashing it again (histories are few — the calibration's are a function of the clients'
/// phases — and every state holding one shares it). Exact: an entry holds the history it was
/// made from (so the address that keys it stays that history's) and the envelope, compared
/// in full. Bounded like [`HistoryVerdictMemo`].
pub(crate) struct RecordMemo<Msg, H> {
    #[allow(clippy::type_complexity)]
    table: Mutex<HashMap<(usize, u64), Vec<RecordEntry<Msg, H>>, ahash::RandomState>>,
}

struct RecordEntry<Msg, H> {
    from: Arc<H>,
    envelope: Envelope<Msg>,
    /// The new history and its hash; None: the recorder left the history as it was.
    result: Option<(Arc<H>, u64)>,
}

impl<Msg, H> Default for RecordMemo<Msg, H> {
    fn default() -> Self {
        RecordMemo {
            table: Mutex::new(HashMap::with_hasher(memo_hasher())),
        }
    }
}

impl<Msg: Clone + Eq + Hash, H: Hash> RecordMemo<Msg, H> {
    const LIMIT: usize = 1 << 16;

    /// Records `envelope` into `state`'s history with `recorder`, through the memo.
    pub(crate) fn record<A: Actor<Msg = Msg>>(
        &self,
        state: &mut SystemState<A, H>,
        envelope: Envelope<&Msg>,
        recorder: impl Fn(&H, Envelope<&Msg>) -> Option<H>,
    ) {
        let key = (Arc::as_ptr(&state.history) as usize, stable_hash(&envelope));
        let same = |entry: &RecordEntry<Msg, H>| {
            Arc::ptr_eq(&entry.from, &state.history)
                && entry.envelope.src == envelope.src
                && entry.envelope.dst == envelope.dst
                && entry.envelope.msg == *envelope.msg
        };
        let known = self
            .table
            .lock()
            .expect("memo lock")
            .get(&key)
            .and_then(|bucket| bucket.iter().find(|entry| same(entry)))
            .map(|entry| entry.result.clone());
        let result = match known {
            Some(result) => result,
            None => {
                let owned = envelope.to_owned_msg();
                let result = recorder(&state.history, envelope).map(|history| {
                    let hash = stable_hash(&history);
                    (Arc::new(history), hash)
                });
                let mut table = self.table.lock().expect("memo lock");
                if table.len() >= Self::LIMIT {
                    table.clear();
                }
                table.entry(key).or_default().push(RecordEntry {
                    from: Arc::clone(&state.history),
                    envelope: owned,
                    result: result.clone(),
                });
                result
            }
        };
        if let Some((history, hash)) = result {
            state.history = history;
            state.history_hash = hash;
        }
    }
}

/// Everything the model keeps about one actor.
pub(crate) struct Slot<A: Actor> {
    pub(crate) state: Arc<A::State>,
    state_hash: u64,
    /// Armed timers, sorted and distinct (a set; a `Vec` clones in one allocation).
    pub(crate) timers: Vec<A::Timer>,
    /// Pending random choices: key -> alternatives.
    pub(crate) randoms: BTreeMap<String, Vec<A::Random>>,
    pub(crate) crashed: bool,
    storage: Option<Arc<A::Storage>>,
    storage_hash: u64,
    /// The hash of every part above, computed when first needed (0: not yet). A fingerprint
    /// then takes one word per actor; writers reset it (every write goes through
    /// [`SystemState::slot_mut`] or a fresh slot).
    parts_hash: AtomicU64,
}

impl<A: Actor> Clone for Slot<A> {
    fn clone(&self) -> Self {
        Slot {
            state: Arc::clone(&self.state),
            state_hash: self.state_hash,
            timers: self.timers.clone(),
            randoms: self.randoms.clone(),
            crashed: self.crashed,
            storage: self.storage.clone(),
            storage_hash: self.storage_hash,
            parts_hash: AtomicU64::new(self.parts_hash.load(Ordering::Relaxed)),
        }
    }
}

impl<A: Actor> Slot<A> {
    pub(crate) fn new(state: A::State) -> Self {
        Slot {
            state_hash: stable_hash(&state),
            state: Arc::new(state),
            timers: Vec::new(),
            randoms: BTreeMap::new(),
            crashed: false,
            storage: None,
            storage_hash: stable_hash(&None::<()>),
            parts_hash: AtomicU64::new(0),
        }
    }

    pub(crate) fn set_state(&mut self, state: A::State) {
        self.forget_hash();
        self.state_hash = stable_hash(&state);
        self.state = Arc::new(state);
    }

    pub(crate) fn set_storage(&mut self, storage: A::Storage) {
        self.forget_hash();
        self.storage_hash = stable_hash(&Some(&storage));
        self.storage = Some(Arc::new(storage));
    }

    pub(crate) fn storage(&self) -> Option<&A::Storage> {
        self.storage.as_deref()
    }

    pub(crate) fn arm(&mut self, timer: A::Timer)
    where
        A::Timer: Ord,
    {
        self.forget_hash();
        if let Err(at) = self.timers.binary_search(&timer) {
            self.timers.insert(at, timer);
        }
    }

    pub(crate) fn disarm(&mut self, timer: &A::Timer)
    where
        A::Timer: Ord,
    {
        self.forget_hash();
        if let Ok(at) = self.timers.binary_search(timer) {
            self.timers.remove(at);
        }
    }

    fn eq_parts(&self, other: &Self) -> bool
    where
        A::Storage: PartialEq,
    {
        self.state_hash == other.state_hash
            && self.storage_hash == other.storage_hash
            && self.crashed == other.crashed
            && self.timers == other.timers
            && self.randoms == other.randoms
            && self.state == other.state
            && self.storage == other.storage
    }

    fn forget_hash(&mut self) {
        *self.parts_hash.get_mut() = 0;
    }

    /// The cached hash of every part of the slot.
    fn parts_hash(&self) -> u64 {
        let cached = self.parts_hash.load(Ordering::Relaxed);
        if cached != 0 {
            return cached;
        }
        let hash = stable_hash(&(
            self.state_hash,
            self.storage_hash,
            self.crashed,
            &self.timers,
            &self.randoms,
        ))
        .max(1);
        // Racing threads compute the same value.
        self.parts_hash.store(hash, Ordering::Relaxed);
        hash
    }
}

/// A global state: every actor's slot, the network, the auxiliary history, and whether a
/// handler panicked.
///
/// Slots sit behind `Arc` and are copied on write ([`SystemState::slot_mut`]): a successor
/// shares every slot its step did not touch, so cloning a state for a step copies pointers,
/// and only the actor that moved gets a new slot.
pub struct SystemState<A: Actor, H> {
    pub(crate) slots: Vec<Arc<Slot<A>>>,
    /// Messages in flight.
    pub network: Network<A::Msg>,
    history: Arc<H>,
    history_hash: u64,
    /// Bit `i`: the verdict of the system's `i`-th history property on `history` (a function of
    /// the history, so neither hashed nor compared).
    history_verdicts: u32,
    /// Set when a handler panicked: the message and the step that did it. Terminal.
    pub poisoned: Option<Arc<str>>,
}

impl<A: Actor, H: Hash> SystemState<A, H> {
    pub(crate) fn new(slots: Vec<Slot<A>>, network: Network<A::Msg>, history: H) -> Self {
        SystemState {
            slots: slots.into_iter().map(Arc::new).collect(),
            network,
            history_hash: stable_hash(&history),
            history: Arc::new(history),
            history_verdicts: 0,
            poisoned: None,
        }
    }

    /// Replaces the history (refreshing its cached hash).
    pub(crate) fn set_history(&mut self, history: H) {
        self.history_hash = stable_hash(&history);
        self.history = Arc::new(history);
    }
}

impl<A: Actor, H> SystemState<A, H> {
    /// Actor `index`'s slot for writing: copied first if another state shares it.
    pub(crate) fn slot_mut(&mut self, index: usize) -> &mut Slot<A> {
        let slot = Arc::make_mut(&mut self.slots[index]);
        slot.forget_hash();
        slot
    }

    /// Whether two states share the very same history value (no step replaced it).
    pub(crate) fn same_history(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.history, &other.history)
    }

    /// The cached hash of the history.
    pub(crate) fn history_hash(&self) -> u64 {
        self.history_hash
    }

    /// The history, shared.
    pub(crate) fn shared_history(&self) -> Arc<H> {
        Arc::clone(&self.history)
    }

    pub(crate) fn set_history_verdicts(&mut self, verdicts: u32) {
        self.history_verdicts = verdicts;
    }

    /// Every cached history verdict, one bit per history property.
    pub(crate) fn history_verdict_bits(&self) -> u32 {
        self.history_verdicts
    }

    /// The cached verdict of the system's `index`-th history property.
    pub(crate) fn history_verdict(&self, index: usize) -> bool {
        self.history_verdicts & (1 << index) != 0
    }

    /// The auxiliary history (never visible to actors).
    pub fn history(&self) -> &H {
        &self.history
    }

    /// Number of actors.
    pub fn actor_count(&self) -> usize {
        self.slots.len()
    }

    /// The state of actor `index`.
    pub fn actor(&self, index: usize) -> &A::State {
        &self.slots[index].state
    }

    /// Every actor's state, by index.
    pub fn actors(&self) -> impl ExactSizeIterator<Item = &A::State> + '_ {
        self.slots.iter().map(|slot| &*slot.state)
    }

    /// Replaces one actor's state (refreshing its cached hash).
    pub fn set_actor_state(&mut self, index: usize, state: A::State) {
        self.slot_mut(index).set_state(state);
    }

    /// Arms a timer of actor `index` as its handler would (for tests that build states
    /// directly, e.g. inductive-invariant tests).
    pub fn arm_timer(&mut self, index: usize, timer: A::Timer)
    where
        A::Timer: Ord,
    {
        self.slot_mut(index).arm(timer);
    }

    /// Timers armed by actor `index`, in order.
    pub fn timers(&self, index: usize) -> &[A::Timer] {
        &self.slots[index].timers
    }

    /// Whether actor `index` is down.
    pub fn is_crashed(&self, index: usize) -> bool {
        self.slots[index].crashed
    }

    /// The storage actor `index` last saved.
    pub fn storage(&self, index: usize) -> Option<&A::Storage> {
        self.slots[index].storage()
    }

    /// Number of crashed actors.
    pub fn crashed_count(&self) -> usize {
        self.slots.iter().filter(|slot| slot.crashed).count()
    }

    /// Whether actor `index`'s state differs between two states (by cached hash).
    pub fn actor_changed(&self, other: &Self, index: usize) -> bool {
        self.slots[index].state_hash != other.slots[index].state_hash
    }
}

impl<A: Actor, H> Clone for SystemState<A, H>
where
    A::Msg: Clone,
{
    fn clone(&self) -> Self {
        SystemState {
            slots: self.slots.clone(),
            network: self.network.clone(),
            history: Arc::clone(&self.history),
            history_hash: self.history_hash,
            history_verdicts: self.history_verdicts,
            poisoned: self.poisoned.clone(),
        }
    }
}

impl<A: Actor, H: PartialEq> PartialEq for SystemState<A, H> {
    fn eq(&self, other: &Self) -> bool {
        self.history_hash == other.history_hash
            && self.slots.len() == other.slots.len()
            && self
                .slots
                .iter()
                .zip(&other.slots)
                .all(|(a, b)| Arc::ptr_eq(a, b) || a.eq_parts(b))
            && self.network == other.network
            && self.history == other.history
            && self.poisoned == other.poisoned
    }
}

impl<A: Actor, H: Eq> Eq for SystemState<A, H> where A::State: Eq {}

impl<A: Actor, H> Hash for SystemState<A, H> {
    fn hash<S: Hasher>(&self, hasher: &mut S) {
        for slot in &self.slots {
            slot.parts_hash().hash(hasher);
        }
        self.network.hash(hasher);
        self.history_hash.hash(hasher);
        self.poisoned.hash(hasher);
    }
}

impl<A: Actor, H: Debug> Debug for SystemState<A, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let actors: Vec<&A::State> = self.actors().collect();
        let timers: Vec<&[A::Timer]> = self.slots.iter().map(|s| s.timers.as_slice()).collect();
        let crashed: Vec<bool> = self.slots.iter().map(|s| s.crashed).collect();
        let storages: Vec<Option<&A::Storage>> = self.slots.iter().map(|s| s.storage()).collect();
        let mut out = f.debug_struct("SystemState");
        out.field("actor_states", &actors)
            .field("network", &self.network)
            .field("timers", &timers);
        if self.slots.iter().any(|s| !s.randoms.is_empty()) {
            let randoms: Vec<_> = self.slots.iter().map(|s| &s.randoms).collect();
            out.field("randoms", &randoms);
        }
        out.field("crashed", &crashed)
            .field("storages", &storages)
            .field("history", &self.history)
            .field("poisoned", &self.poisoned)
            .finish()
    }
}
