//! Actor handlers run guarded: a panic becomes an `actor-assertion` violation with its path
//! instead of ending the run, and the panic hook stays quiet meanwhile.

use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs an actor handler, turning a panic into an error message. The panic hook is told to stay
/// quiet meanwhile: the checker reports the panic as a violation with its path.
pub(crate) fn guarded<T>(handler: impl FnOnce() -> T) -> Result<T, String> {
    quiet_panics::install();
    quiet_panics::IN_HANDLER.with(|flag| flag.set(true));
    let result = catch_unwind(AssertUnwindSafe(handler));
    quiet_panics::IN_HANDLER.with(|flag| flag.set(false));
    result.map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-string panic payload".to_string())
    })
}

mod quiet_panics {
    use std::cell::Cell;
    use std::sync::Once;

    thread_local! {
        pub static IN_HANDLER: Cell<bool> = const { Cell::new(false) };
    }

    static INSTALL: Once = Once::new();

    /// Wraps the process's panic hook so panics inside actor handlers under the model are not
    /// printed once per explored state; every other panic prints as before.
    pub fn install() {
        INSTALL.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                if !IN_HANDLER.with(Cell::get) {
                    previous(info);
                }
            }));
        });
    }
}
