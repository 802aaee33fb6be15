//! `--coverage`: how often each action kind (each message type delivered or dropped, each
//! timer, crash, recover, random choice) was offered and how often it fired, and which kinds
//! never fired — part of the protocol the search never exercised.
//!
//! A kind is named by the enum variant path of the message or timer as its `Debug` output
//! starts (`Core(Prepare { .. })` is `Core::Prepare`), so every protocol is covered without
//! code of its own; a protocol may declare its kinds (`System::declare_action_kinds`) so that
//! kinds that never even occurred are reported too.

use crate::system::SystemAction;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::{self, Debug, Write as _};
use std::sync::Mutex;

/// The kinds of step the environment or an actor can take.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionCategory {
    /// A message is delivered.
    Deliver,
    /// The network loses a message.
    Drop,
    /// A timer fires.
    Timeout,
    /// An actor crashes.
    Crash,
    /// An actor recovers.
    Recover,
    /// A random choice is resolved.
    Random,
}

const CATEGORIES: usize = 6;

impl ActionCategory {
    fn index(self) -> usize {
        self as usize
    }

    fn all() -> [ActionCategory; CATEGORIES] {
        use ActionCategory::*;
        [Deliver, Drop, Timeout, Crash, Recover, Random]
    }

    /// The word the text report uses.
    pub fn word(self) -> &'static str {
        match self {
            ActionCategory::Deliver => "deliver",
            ActionCategory::Drop => "drop",
            ActionCategory::Timeout => "timer",
            ActionCategory::Crash => "crash",
            ActionCategory::Recover => "recover",
            ActionCategory::Random => "random",
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    enabled: u64,
    fired: u64,
}

/// Coverage counters of one run (shared by the checker threads).
#[derive(Debug)]
pub struct Coverage {
    table: Mutex<[BTreeMap<String, Counts>; CATEGORIES]>,
    declared: Vec<(ActionCategory, String)>,
}

/// One action kind's counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageEntry {
    /// deliver, drop, timeout, crash, recover or random.
    pub category: ActionCategory,
    /// Message or timer variant path, random-choice key; empty for crash and recover.
    pub kind: String,
    /// Times the action was offered in an expanded state.
    pub enabled: u64,
    /// Times it produced a successor (a step), counting revisits.
    pub fired: u64,
}

/// The coverage section of a report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageReport {
    /// Every kind seen or declared, by category then name.
    pub actions: Vec<CoverageEntry>,
    /// Kinds that never fired, as `category kind` (each a warning).
    pub never_fired: Vec<String>,
}

impl CoverageEntry {
    /// `deliver Core::Prepare`, `crash`.
    pub fn label(&self) -> String {
        if self.kind.is_empty() {
            self.category.word().to_string()
        } else {
            format!("{} {}", self.category.word(), self.kind)
        }
    }
}

impl CoverageReport {
    /// The coverage section of the text report.
    pub fn write_text(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        writeln!(
            out,
            "coverage: {} action kinds, {} never fired (fired = steps taken, offered = times enabled)",
            self.actions.len(),
            self.never_fired.len()
        )?;
        let width = self
            .actions
            .iter()
            .map(|e| e.label().len())
            .max()
            .unwrap_or(0);
        for entry in &self.actions {
            writeln!(
                out,
                "  {:<width$}  fired {:>10}  offered {:>10}{}",
                entry.label(),
                entry.fired,
                entry.enabled,
                if entry.fired == 0 {
                    "  WARNING: never fired"
                } else {
                    ""
                }
            )?;
        }
        if !self.never_fired.is_empty() {
            writeln!(
                out,
                "warning: never fired: {} (this part of the protocol was never exercised)",
                self.never_fired.join(", ")
            )?;
        }
        Ok(())
    }
}

impl Coverage {
    /// Counters with the `declared` kinds present at zero.
    pub fn new(declared: Vec<(ActionCategory, String)>) -> Coverage {
        let mut table: [BTreeMap<String, Counts>; CATEGORIES] = Default::default();
        for (category, kind) in &declared {
            table[category.index()].entry(kind.clone()).or_default();
        }
        Coverage {
            table: Mutex::new(table),
            declared,
        }
    }

    /// Counts the actions offered in one expanded state.
    pub(crate) fn enabled<M: Debug, T: Debug, R: Debug>(&self, actions: &[SystemAction<M, T, R>]) {
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        let mut name = KindName::default();
        for action in actions {
            let (category, kind) = classify(action, &mut name);
            bump(&mut table[category.index()], kind).enabled += 1;
        }
    }

    /// Counts one step taken.
    pub(crate) fn fired<M: Debug, T: Debug, R: Debug>(&self, action: &SystemAction<M, T, R>) {
        let mut name = KindName::default();
        let (category, kind) = classify(action, &mut name);
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        bump(&mut table[category.index()], kind).fired += 1;
    }

    /// The counts so far.
    pub fn report(&self) -> CoverageReport {
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner()).clone();
        // A declared kind absorbs the names that extend it: the name rule cannot tell a
        // variant's payload struct (`Request(Signed { .. })`) from a nested variant.
        for (category, declared) in &self.declared {
            let map = &mut table[category.index()];
            let prefix = format!("{declared}::");
            let extending: Vec<String> = map
                .keys()
                .filter(|kind| kind.starts_with(&prefix) && !self.is_declared(*category, kind))
                .cloned()
                .collect();
            for kind in extending {
                let counts = map.remove(&kind).unwrap_or_default();
                let into = map.entry(declared.clone()).or_default();
                into.enabled += counts.enabled;
                into.fired += counts.fired;
            }
        }
        let mut actions = Vec::new();
        for category in ActionCategory::all() {
            for (kind, counts) in &table[category.index()] {
                actions.push(CoverageEntry {
                    category,
                    kind: kind.clone(),
                    enabled: counts.enabled,
                    fired: counts.fired,
                });
            }
        }
        let never_fired = actions
            .iter()
            .filter(|entry| entry.fired == 0)
            .map(CoverageEntry::label)
            .collect();
        CoverageReport {
            actions,
            never_fired,
        }
    }
}

impl Coverage {
    fn is_declared(&self, category: ActionCategory, kind: &str) -> bool {
        self.declared
            .iter()
            .any(|(c, k)| *c == category && k == kind)
    }
}

fn bump<'a>(map: &'a mut BTreeMap<String, Counts>, kind: &str) -> &'a mut Counts {
    if !map.contains_key(kind) {
        map.insert(kind.to_string(), Counts::default());
    }
    map.get_mut(kind).expect("inserted above")
}

fn classify<'n, M: Debug, T: Debug, R: Debug>(
    action: &SystemAction<M, T, R>,
    name: &'n mut KindName,
) -> (ActionCategory, &'n str) {
    match action {
        SystemAction::Deliver { msg, .. } => (ActionCategory::Deliver, name.of(msg)),
        SystemAction::Drop { msg, .. } => (ActionCategory::Drop, name.of(msg)),
        SystemAction::Timeout { timer, .. } => (ActionCategory::Timeout, name.of(timer)),
        SystemAction::Crash(_) => (ActionCategory::Crash, ""),
        SystemAction::Recover(_) => (ActionCategory::Recover, ""),
        SystemAction::SelectRandom { key, .. } => {
            name.clear();
            name.push_str(key);
            (ActionCategory::Random, name.as_str())
        }
    }
}

/// The variant path of a value from the start of its `Debug` output, without formatting the
/// rest: the writer refuses input after the name, which aborts the formatting.
#[derive(Default)]
pub struct KindName {
    raw: String,
    path: String,
    done: bool,
}

impl KindName {
    const LIMIT: usize = 96;

    /// `Core(Prepare { ballot: .. })` gives `Core::Prepare`; `Request(Request { .. })` gives
    /// `Request`; `View(3)` gives `View`.
    pub fn of<T: Debug + ?Sized>(&mut self, value: &T) -> &str {
        self.raw.clear();
        self.done = false;
        let _ = write!(self, "{value:?}");
        self.path.clear();
        let mut last = "";
        for segment in self.raw.split('(') {
            if segment.is_empty()
                || !segment.starts_with(|c: char| c.is_ascii_uppercase())
                || segment == last
            {
                continue;
            }
            if !self.path.is_empty() {
                self.path.push_str("::");
            }
            self.path.push_str(segment);
            last = segment;
        }
        &self.path
    }

    fn clear(&mut self) {
        self.path.clear();
    }

    fn push_str(&mut self, s: &str) {
        self.path.push_str(s);
    }

    fn as_str(&self) -> &str {
        &self.path
    }
}

impl fmt::Write for KindName {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.done {
            return Err(fmt::Error);
        }
        for c in s.chars() {
            if (c.is_ascii_alphanumeric() || c == '_' || c == '(') && self.raw.len() < Self::LIMIT {
                self.raw.push(c);
            } else {
                self.done = true;
                return Err(fmt::Error);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    #[allow(dead_code)]
    enum Inner {
        Prepare { ballot: u32 },
        Tick,
    }

    #[derive(Debug)]
    #[allow(dead_code)]
    struct Request {
        seq: u64,
    }

    #[derive(Debug)]
    #[allow(dead_code)]
    enum Msg {
        Core(Inner),
        Request(Request),
        View(u64),
        Reply { ok: bool },
    }

    #[test]
    fn kind_names_follow_the_variant_path_and_stop_at_the_payload() {
        let mut name = KindName::default();
        assert_eq!(
            name.of(&Msg::Core(Inner::Prepare { ballot: 3 })),
            "Core::Prepare"
        );
        assert_eq!(name.of(&Msg::Core(Inner::Tick)), "Core::Tick");
        assert_eq!(name.of(&Msg::Request(Request { seq: 1 })), "Request");
        assert_eq!(name.of(&Msg::View(7)), "View");
        assert_eq!(name.of(&Msg::Reply { ok: true }), "Reply");
    }

    #[test]
    fn declared_kinds_that_never_fire_are_reported() {
        let coverage = Coverage::new(vec![
            (ActionCategory::Deliver, "View".into()),
            (ActionCategory::Deliver, "Reply".into()),
            (ActionCategory::Deliver, "Core".into()),
            (ActionCategory::Crash, String::new()),
        ]);
        let deliver = |msg| SystemAction::<Msg, (), ()>::Deliver {
            src: 0.into(),
            dst: 1.into(),
            msg,
        };
        let offered = [deliver(Msg::View(1)), deliver(Msg::Core(Inner::Tick))];
        coverage.enabled(&offered);
        coverage.fired(&offered[0]);
        let report = coverage.report();
        assert_eq!(
            report.never_fired,
            ["deliver Core", "deliver Reply", "crash"]
        );
        let core = &report.actions.iter().find(|e| e.kind == "Core").unwrap();
        assert_eq!(
            (core.enabled, core.fired),
            (1, 0),
            "Core::Tick counts as Core"
        );
        let view = &report.actions.iter().find(|e| e.kind == "View").unwrap();
        assert_eq!((view.enabled, view.fired), (1, 1));
    }
}
