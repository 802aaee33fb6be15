//! Composition of protocol components inside one actor (DESIGN §3 "Composition").
//!
//! A consensus core is not an `Actor`: it is a component whose handlers read and write their own
//! part of the outer actor's state through a [`CowLens`] and emit their messages through [`Emit`],
//! which any outer `Out` implements when its message and timer types convert from the
//! component's. The outer actor runs the upcalls, so what it sends in reaction is its own.

use crate::crypto::NodeId;
use stateright::actor::{Actor, Id, Out};
use std::borrow::Cow;
use std::ops::Range;
use std::time::Duration;

/// Where a component's outputs go.
pub trait Emit<M, T> {
    /// Sends `msg` to `dst`.
    fn send(&mut self, dst: NodeId, msg: M);
    /// Arms `timer` (the model ignores the duration).
    fn set_timer(&mut self, timer: T, duration: Range<Duration>);
    /// Disarms `timer`.
    fn cancel_timer(&mut self, timer: T);
}

impl<A, M, T> Emit<M, T> for Out<A>
where
    A: Actor,
    A::Msg: From<M>,
    A::Timer: From<T>,
{
    fn send(&mut self, dst: NodeId, msg: M) {
        Out::send(self, node_id(dst), A::Msg::from(msg));
    }

    fn set_timer(&mut self, timer: T, duration: Range<Duration>) {
        Out::set_timer(self, A::Timer::from(timer), duration);
    }

    fn cancel_timer(&mut self, timer: T) {
        Out::cancel_timer(self, A::Timer::from(timer));
    }
}

/// The stateright id of node `id`: model ids and deployment ids are the same indices.
pub fn node_id(id: NodeId) -> Id {
    Id::from(id as usize)
}

/// The node index of a stateright id.
pub fn id_node(id: Id) -> NodeId {
    let index = usize::from(id);
    u32::try_from(index).expect("actor ids fit in u32")
}

/// Copy-on-write access to a component's part of an outer state: the outer state is cloned only
/// when the component really changes something, so a handler that changes nothing stays a no-op
/// (a spurious clone would turn it into a state change and alter the state graph).
pub struct CowLens<'a, 'b, O: Clone, I> {
    outer: &'a mut Cow<'b, O>,
    get: fn(&O) -> &I,
    get_mut: fn(&mut O) -> &mut I,
}

impl<'a, 'b, O: Clone, I> CowLens<'a, 'b, O, I> {
    /// A lens onto the part of `outer` that `get`/`get_mut` select.
    pub fn new(
        outer: &'a mut Cow<'b, O>,
        get: fn(&O) -> &I,
        get_mut: fn(&mut O) -> &mut I,
    ) -> Self {
        CowLens {
            outer,
            get,
            get_mut,
        }
    }

    /// Reads the component's state.
    pub fn get(&self) -> &I {
        (self.get)(self.outer.as_ref())
    }

    /// Writes the component's state, cloning the outer state first if it is still borrowed.
    pub fn to_mut(&mut self) -> &mut I {
        (self.get_mut)(self.outer.to_mut())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq)]
    struct Outer {
        inner: u32,
        other: u32,
    }

    #[test]
    fn reading_through_a_lens_keeps_the_outer_state_borrowed() {
        let outer = Outer { inner: 1, other: 2 };
        let mut cow = Cow::Borrowed(&outer);
        let lens = CowLens::new(&mut cow, |o| &o.inner, |o| &mut o.inner);
        assert_eq!(*lens.get(), 1);
        assert!(matches!(cow, Cow::Borrowed(_)));
    }

    #[test]
    fn writing_through_a_lens_clones_once() {
        let outer = Outer { inner: 1, other: 2 };
        let mut cow = Cow::Borrowed(&outer);
        let mut lens = CowLens::new(&mut cow, |o| &o.inner, |o| &mut o.inner);
        *lens.to_mut() = 5;
        assert!(matches!(cow, Cow::Owned(Outer { inner: 5, other: 2 })));
        assert_eq!(outer.inner, 1);
    }
}

/// The timer type of a component that sets no timers.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum NoTimer {}
