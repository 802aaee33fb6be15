//! PBFT view change (card §6.2 [STD]; seed 001 §2.3 names it, §6.4.4 follows the same pattern):
//! VIEW-CHANGE carries the stable checkpoint and the prepared certificates; the new primary
//! collects 2f+1 of them and re-proposes, per sequence number, the batch of the highest-view
//! certificate (a no-op where none covers it); backups recompute that set before accepting.

use super::core::{Core, CoreOut, CoreTimer, Events, Lens, Status};
use super::msgs::{Batch, CoreMsg, NewView, PrePrepare, StableCheckpoint, ViewChange};
use super::rules::Rules;
use super::{Seq, View};
use crate::crypto::{Crypto, NodeId, Signed};
use crate::paxos::core::Payload;
use crate::quorum;
use std::collections::{BTreeMap, BTreeSet};

type SignedVc<P, C> = Signed<ViewChange<P, C>, C>;

impl<P: Payload, C: Crypto, R: Rules> Core<P, C, R> {
    /// The view timer fired: suspect the primary of the current view (or, while changing, the
    /// primary of the view being moved to) and move to the next view.
    pub fn on_timeout<O: Clone>(
        &self,
        st: &mut Lens<'_, '_, O, P, C>,
        timer: CoreTimer,
        out: &mut impl CoreOut<P, C>,
    ) -> Events<P> {
        let CoreTimer::ViewTimer = timer;
        let state = st.get();
        let waiting = state.status == Status::ViewChanging || !state.pending.is_empty();
        if !waiting || (state.status == Status::Normal && self.primary(state.view) == self.id()) {
            return Events::default();
        }
        let next = state.view + 1;
        self.start_view_change(st, next, out)
    }

    /// Enters `new_view` as ViewChanging and sends VIEW-CHANGE.
    fn start_view_change<O: Clone>(
        &self,
        st: &mut Lens<'_, '_, O, P, C>,
        new_view: View,
        out: &mut impl CoreOut<P, C>,
    ) -> Events<P> {
        let state = st.to_mut();
        debug_assert!(new_view > state.view || state.status == Status::Normal);
        state.view = new_view;
        state.status = Status::ViewChanging;
        state.slots.clear();
        state.early.clear();
        state.early_pre_prepares.clear();
        let vc = self.signer.sign(ViewChange {
            new_view,
            stable: state.stable.clone(),
            prepared: state.certs.values().cloned().collect(),
        });
        state.view_changes = state.view_changes.split_off(&new_view);
        insert_by_signer(state.view_changes.entry(new_view).or_default(), vc.clone());
        self.broadcast(CoreMsg::ViewChange(vc), out);
        // Liveness rule (a): if this view change stalls, move on.
        out.set_timer(CoreTimer::ViewTimer, self.view_timeout.clone());
        self.try_new_view(st, out)
    }

    /// Whether a VIEW-CHANGE is well formed: its checkpoint proof and every certificate hold.
    pub fn valid_view_change(&self, vc: &SignedVc<P, C>) -> bool {
        let value = vc.value();
        self.replicas.contains(&vc.signer())
            && vc.verify(&self.keyring)
            && value
                .stable
                .is_valid(self.quorum(), &self.keyring, &self.replicas)
            && value.prepared.iter().all(|cert| {
                cert.seq() > value.stable.seq
                    && cert.view() < value.new_view
                    && cert.is_valid(
                        self.primary(cert.view()),
                        R::CHECK_PRIMARY,
                        R::prepare_votes(self.f),
                        &self.keyring,
                    )
            })
    }

    pub(super) fn on_view_change<O: Clone>(
        &self,
        st: &mut Lens<'_, '_, O, P, C>,
        vc: SignedVc<P, C>,
        out: &mut impl CoreOut<P, C>,
    ) -> Events<P> {
        let state = st.get();
        let target = vc.value().new_view;
        let signer = vc.signer();
        let relevant =
            target > state.view || (target == state.view && state.status == Status::ViewChanging);
        let known = state
            .view_changes
            .get(&target)
            .is_some_and(|vcs| vcs.iter().any(|v| v.signer() == signer));
        if !relevant || known || signer == self.id() || !self.valid_view_change(&vc) {
            return Events::default();
        }
        insert_by_signer(st.to_mut().view_changes.entry(target).or_default(), vc);
        // Liveness rule (b): f+1 replicas want a later view, so at least one correct one does.
        let state = st.get();
        let ahead: BTreeSet<NodeId> = state
            .view_changes
            .range(state.view + 1..)
            .flat_map(|(_, vcs)| vcs.iter().map(|v| v.signer()))
            .collect();
        if ahead.len() >= quorum::bft_weak_certificate(self.f) {
            let smallest = *state
                .view_changes
                .range(state.view + 1..)
                .next()
                .expect("some view-change is ahead")
                .0;
            return self.start_view_change(st, smallest, out);
        }
        self.try_new_view(st, out)
    }

    /// New primary: with 2f+1 VIEW-CHANGEs (own included), send NEW-VIEW and enter the view.
    fn try_new_view<O: Clone>(
        &self,
        st: &mut Lens<'_, '_, O, P, C>,
        out: &mut impl CoreOut<P, C>,
    ) -> Events<P> {
        let state = st.get();
        let view = state.view;
        let Some(vcs) = state.view_changes.get(&view) else {
            return Events::default();
        };
        if state.status != Status::ViewChanging
            || self.primary(view) != self.id()
            || vcs.len() < self.quorum()
        {
            return Events::default();
        }
        // Own VIEW-CHANGE first, then the lowest signers.
        let mut chosen: Vec<SignedVc<P, C>> = vcs
            .iter()
            .filter(|v| v.signer() == self.id())
            .chain(vcs.iter().filter(|v| v.signer() != self.id()))
            .take(self.quorum())
            .cloned()
            .collect();
        chosen.sort_by_key(|v| v.signer());
        let (min_s, reproposals) = self.reproposals(&chosen);
        let pre_prepares: Vec<_> = reproposals
            .into_iter()
            .map(|(seq, batch)| {
                let digest = C::digest(&batch);
                (self.signer.sign(PrePrepare { view, seq, digest }), batch)
            })
            .collect();
        let stable = best_stable(&chosen, min_s);
        let nv = self.signer.sign(NewView {
            view,
            view_changes: chosen,
            pre_prepares: pre_prepares.clone(),
        });
        self.broadcast(CoreMsg::NewView(nv), out);
        self.enter_view(st, view, stable, pre_prepares, out)
    }

    /// What a NEW-VIEW built from `vcs` must re-propose: `min_s` (the latest stable checkpoint
    /// among them) and, for each n in (min_s, max_s], the batch of the highest-view certificate
    /// for n, or a no-op (card §6.2 step 3).
    pub fn reproposals(&self, vcs: &[SignedVc<P, C>]) -> (Seq, Vec<(Seq, Batch<P>)>) {
        let min_s = vcs.iter().map(|v| v.value().stable.seq).max().unwrap_or(0);
        let mut best: BTreeMap<Seq, (View, &Batch<P>)> = BTreeMap::new();
        for cert in vcs.iter().flat_map(|v| v.value().prepared.iter()) {
            if cert.seq() <= min_s {
                continue;
            }
            match best.get(&cert.seq()) {
                Some((view, _)) if *view >= cert.view() => {}
                _ => {
                    best.insert(cert.seq(), (cert.view(), &cert.batch));
                }
            }
        }
        let max_s = best.keys().next_back().copied().unwrap_or(min_s);
        let list = (min_s + 1..=max_s)
            .map(|seq| match best.get(&seq) {
                Some((_, batch)) if R::REPROPOSE_PREPARED => (seq, (*batch).clone()),
                _ => (seq, Batch::NoOp),
            })
            .collect();
        (min_s, list)
    }

    pub(super) fn on_new_view<O: Clone>(
        &self,
        st: &mut Lens<'_, '_, O, P, C>,
        nv: Signed<NewView<P, C>, C>,
        out: &mut impl CoreOut<P, C>,
    ) -> Events<P> {
        let state = st.get();
        let value = nv.value();
        let view = value.view;
        let relevant =
            view > state.view || (view == state.view && state.status == Status::ViewChanging);
        if !relevant || nv.signer() != self.primary(view) || !nv.verify(&self.keyring) {
            return Events::default();
        }
        let signers: BTreeSet<NodeId> = value.view_changes.iter().map(|v| v.signer()).collect();
        let well_formed = signers.len() == value.view_changes.len()
            && signers.len() >= self.quorum()
            && value
                .view_changes
                .iter()
                .all(|v| v.value().new_view == view && self.valid_view_change(v));
        if !well_formed {
            return Events::default();
        }
        // Recompute the re-proposals: a faulty primary cannot drop a prepared request.
        let (min_s, expected) = self.reproposals(&value.view_changes);
        let matches = expected.len() == value.pre_prepares.len()
            && expected
                .iter()
                .zip(&value.pre_prepares)
                .all(|((seq, batch), (pp, b))| {
                    let p = pp.value();
                    b == batch
                        && p.view == view
                        && p.seq == *seq
                        && p.digest == C::digest(batch)
                        && pp.signer() == nv.signer()
                });
        if !matches {
            return Events::default();
        }
        let stable = best_stable(&value.view_changes, min_s);
        let pre_prepares = value.pre_prepares.clone();
        self.enter_view(st, view, stable, pre_prepares, out)
    }

    /// Enters `view` in normal status with the NEW-VIEW's re-proposals logged.
    fn enter_view<O: Clone>(
        &self,
        st: &mut Lens<'_, '_, O, P, C>,
        view: View,
        stable: StableCheckpoint<C>,
        pre_prepares: Vec<super::msgs::Proposal<P, C>>,
        out: &mut impl CoreOut<P, C>,
    ) -> Events<P> {
        let mut events = Events::default();
        if stable.seq > st.get().low() {
            events.stable = Some(stable.seq);
            self.install_stable(st, stable, out);
        }
        let state = st.to_mut();
        // What arrived early for the view being moved to counts now; for another view, stale.
        let mut early_pre_prepares = std::mem::take(&mut state.early_pre_prepares);
        if view != state.view {
            state.early.clear();
            early_pre_prepares.clear();
        }
        state.view = view;
        state.status = Status::Normal;
        state.slots.clear();
        state.view_changes = state.view_changes.split_off(&(view + 1));
        let last = pre_prepares
            .last()
            .map_or(state.low(), |(pp, _)| pp.value().seq);
        state.next_seq = last.max(state.low()) + 1;
        let is_primary = self.primary(view) == self.id();
        if is_primary || state.pending.is_empty() {
            out.cancel_timer(CoreTimer::ViewTimer);
        } else {
            out.set_timer(CoreTimer::ViewTimer, self.view_timeout.clone());
        }
        for (pp, batch) in pre_prepares {
            if pp.value().seq > st.get().low() {
                events.absorb(self.log_pre_prepare(st, pp, batch, out));
            }
        }
        // The NEW-VIEW's re-proposals came first, so they win any sequence number both name.
        for (seq, (pp, batch)) in early_pre_prepares {
            let state = st.get();
            if self.in_window(state, seq) && !state.slots.contains_key(&seq) {
                events.absorb(self.log_pre_prepare(st, pp, batch, out));
            }
        }
        if is_primary {
            self.fill(st, out);
        }
        events
    }
}

/// The stable checkpoint at `min_s` carried by one of `vcs` (genesis at 0).
fn best_stable<P, C: Crypto>(vcs: &[SignedVc<P, C>], min_s: Seq) -> StableCheckpoint<C>
where
    P: Clone,
{
    vcs.iter()
        .map(|v| &v.value().stable)
        .find(|s| s.seq == min_s)
        .cloned()
        .unwrap_or_else(StableCheckpoint::genesis)
}

fn insert_by_signer<T, C: Crypto>(list: &mut Vec<Signed<T, C>>, item: Signed<T, C>) {
    let at = list.partition_point(|v| v.signer() < item.signer());
    list.insert(at, item);
}
