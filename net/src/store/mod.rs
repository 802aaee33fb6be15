//! The node store (DESIGN §5 "Durability"): one redb file per node holding the actor's Storage
//! (split into parts so a save writes only what changed), the incarnation counter and the
//! trace, each value checksummed; plus the committed ledger exported as a hash chain for
//! auditors and clients. Opening verifies every checksum and the whole chain.

pub mod layout;
mod layout_pbft;

use std::path::Path;

use redb::{Database, ReadableTable, ReadableTableMetadata, TableDefinition};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::host::{Disk, DiskError, Recovered};
use crate::protocols::Committed;
pub use layout::{Part, StorageLayout};

const STORAGE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("storage");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const TRACE: TableDefinition<u64, &[u8]> = TableDefinition::new("trace");
/// Height → entry digest (32 bytes) then chain head (32 bytes).
const LEDGER: TableDefinition<u64, &[u8]> = TableDefinition::new("ledger");

const CHECKSUM: usize = 8;

fn checksum(payload: &[u8]) -> [u8; CHECKSUM] {
    let mut out = [0; CHECKSUM];
    out.copy_from_slice(&Sha256::digest(payload)[..CHECKSUM]);
    out
}

fn sealed(payload: &[u8]) -> Vec<u8> {
    let mut bytes = checksum(payload).to_vec();
    bytes.extend_from_slice(payload);
    bytes
}

fn unsealed<'a>(what: &str, bytes: &'a [u8]) -> Result<&'a [u8], DiskError> {
    if bytes.len() < CHECKSUM || checksum(&bytes[CHECKSUM..]) != bytes[..CHECKSUM] {
        return Err(DiskError::Corrupt(format!("{what}: checksum mismatch")));
    }
    Ok(&bytes[CHECKSUM..])
}

fn io(what: &str) -> impl Fn(redb::Error) -> DiskError + '_ {
    move |e| DiskError::Io(format!("{what}: {e}"))
}

/// The chain head after `entry` on top of `prev`.
pub fn chain(prev: &[u8; 32], entry: &[u8; 32]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(prev);
    hasher.update(entry);
    hasher.finalize().into()
}

/// A node's store on disk.
pub struct RedbDisk<S> {
    db: Database,
    /// The open group transaction holding staged steps, committed by `flush`.
    group: Option<redb::WriteTransaction>,
    last_saved: Option<S>,
    next_trace: u64,
    ledger_height: u64,
    ledger_head: [u8; 32],
}

impl<S> RedbDisk<S> {
    /// Opens (or creates) the store at `path`. redb itself refuses a file whose last commit is
    /// torn or truncated (it falls back to the previous commit); [`Disk::open`] then checks ours.
    pub fn open_path(path: &Path) -> Result<Self, DiskError> {
        // redb asserts (panics) on some truncated files instead of returning an error.
        let db = std::panic::catch_unwind(|| Database::create(path))
            .map_err(|_| {
                DiskError::Corrupt(format!(
                    "{}: the file is truncated or damaged (redb refused its layout)",
                    path.display()
                ))
            })?
            .map_err(|e| DiskError::Corrupt(format!("{}: {e}", path.display())))?;
        Ok(RedbDisk {
            db,
            group: None,
            last_saved: None,
            next_trace: 0,
            ledger_height: 0,
            ledger_head: [0; 32],
        })
    }

    /// The exported ledger's height and head.
    pub fn ledger_head(&self) -> (u64, [u8; 32]) {
        (self.ledger_height, self.ledger_head)
    }

    /// Appends the entries of `committed` beyond the exported height to the hash chain. Entries
    /// a snapshot covers (never seen one by one) are chained as a marker, so heights stay aligned.
    pub fn export_ledger(&mut self, committed: &Committed) -> Result<(), DiskError> {
        if committed.len() <= self.ledger_height {
            return Ok(());
        }
        // Only committed steps may be exported, and redb has one writer at a time.
        self.flush_group()?;
        let write = self.db.begin_write().map_err(|e| io("begin")(e.into()))?;
        {
            let mut table = write
                .open_table(LEDGER)
                .map_err(|e| io("ledger")(e.into()))?;
            let (mut height, mut head) = (self.ledger_height, self.ledger_head);
            while height < committed.len() {
                let entry = if height < committed.base {
                    [0xff; 32]
                } else {
                    committed.entries[(height - committed.base) as usize]
                };
                head = chain(&head, &entry);
                let mut row = entry.to_vec();
                row.extend_from_slice(&head);
                table
                    .insert(height, sealed(&row).as_slice())
                    .map_err(|e| io("ledger")(e.into()))?;
                height += 1;
            }
            (self.ledger_height, self.ledger_head) = (height, head);
        }
        write
            .commit()
            .map_err(|e| DiskError::Fsync(format!("ledger commit: {e}")))
    }

    /// The chain head after the first `height` entries (all zero for height 0).
    pub fn head_at(&self, height: u64) -> Result<[u8; 32], String> {
        if height == 0 {
            return Ok([0; 32]);
        }
        let read = self.db.begin_read().map_err(|e| e.to_string())?;
        let table = read.open_table(LEDGER).map_err(|e| e.to_string())?;
        let row = table
            .get(height - 1)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("no ledger entry at height {height}"))?;
        let row = unsealed("ledger row", row.value()).map_err(|e| e.to_string())?;
        row[32..]
            .try_into()
            .map_err(|_| "short ledger row".to_string())
    }

    /// Every exported entry digest, in order (`[0xff; 32]` where a snapshot covered it).
    pub fn ledger_entries(&self) -> Result<Vec<[u8; 32]>, String> {
        let read = self.db.begin_read().map_err(|e| e.to_string())?;
        let table = match read.open_table(LEDGER) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(e.to_string()),
        };
        let mut entries = Vec::new();
        for row in table.iter().map_err(|e| e.to_string())? {
            let (_, value) = row.map_err(|e| e.to_string())?;
            let row = unsealed("ledger row", value.value()).map_err(|e| e.to_string())?;
            entries.push(row[..32].try_into().map_err(|_| "short ledger row")?);
        }
        Ok(entries)
    }

    /// The trace lines recorded, in order.
    pub fn trace_lines(&self) -> Result<Vec<String>, DiskError> {
        let read = self.db.begin_read().map_err(|e| io("read")(e.into()))?;
        let table = match read.open_table(TRACE) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(io("trace")(e.into())),
        };
        let mut lines = Vec::new();
        for row in table.iter().map_err(|e| io("trace")(e.into()))? {
            let (_, value) = row.map_err(|e| io("trace")(e.into()))?;
            let line = unsealed("trace record", value.value())?;
            lines.push(String::from_utf8_lossy(line).into_owned());
        }
        Ok(lines)
    }

    fn flush_group(&mut self) -> Result<(), DiskError> {
        match self.group.take() {
            // A failed commit (fsync) is fatal for the caller: it never retries (DESIGN §5).
            Some(write) => write
                .commit()
                .map_err(|e| DiskError::Fsync(format!("group commit: {e}"))),
            None => Ok(()),
        }
    }

    fn verify_ledger(&mut self, read: &redb::ReadTransaction) -> Result<(), DiskError> {
        let table = match read.open_table(LEDGER) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(()),
            Err(e) => return Err(io("ledger")(e.into())),
        };
        let (mut height, mut head) = (0u64, [0u8; 32]);
        for row in table.iter().map_err(|e| io("ledger")(e.into()))? {
            let (key, value) = row.map_err(|e| io("ledger")(e.into()))?;
            let row = unsealed("ledger row", value.value())?;
            if key.value() != height || row.len() != 64 {
                return Err(DiskError::Corrupt(format!(
                    "ledger row {} where {height} was expected",
                    key.value()
                )));
            }
            let entry: [u8; 32] = row[..32].try_into().expect("32 bytes");
            head = chain(&head, &entry);
            if row[32..] != head {
                return Err(DiskError::Corrupt(format!(
                    "ledger hash chain broken at height {height}"
                )));
            }
            height += 1;
        }
        (self.ledger_height, self.ledger_head) = (height, head);
        Ok(())
    }
}

impl<S: StorageLayout + Serialize + DeserializeOwned + Clone> Disk<S> for RedbDisk<S> {
    fn open(&mut self) -> Result<Recovered<S>, DiskError> {
        let read = self.db.begin_read().map_err(|e| io("read")(e.into()))?;
        let mut parts = Vec::new();
        match read.open_table(STORAGE) {
            Ok(table) => {
                for row in table.iter().map_err(|e| io("storage")(e.into()))? {
                    let (key, value) = row.map_err(|e| io("storage")(e.into()))?;
                    let payload = unsealed("storage part", value.value())?;
                    parts.push((key.value().to_vec(), payload.to_vec()));
                }
            }
            Err(redb::TableError::TableDoesNotExist(_)) => {}
            Err(e) => return Err(io("storage")(e.into())),
        }
        let storage = if parts.is_empty() {
            None
        } else {
            Some(S::assemble(parts).map_err(DiskError::Corrupt)?)
        };
        let last_incarnation = match read.open_table(META) {
            Ok(table) => table
                .get("incarnation")
                .map_err(|e| io("meta")(e.into()))?
                .map_or(0, |v| v.value()),
            Err(redb::TableError::TableDoesNotExist(_)) => 0,
            Err(e) => return Err(io("meta")(e.into())),
        };
        self.next_trace = match read.open_table(TRACE) {
            Ok(table) => {
                // Checking each record's checksum here makes damage visible at start, not at audit.
                for row in table.iter().map_err(|e| io("trace")(e.into()))? {
                    let (_, value) = row.map_err(|e| io("trace")(e.into()))?;
                    unsealed("trace record", value.value())?;
                }
                table.len().map_err(|e| io("trace")(e.into()))?
            }
            Err(redb::TableError::TableDoesNotExist(_)) => 0,
            Err(e) => return Err(io("trace")(e.into())),
        };
        self.verify_ledger(&read)?;
        self.last_saved = storage.clone();
        Ok(Recovered {
            storage,
            last_incarnation,
        })
    }

    fn begin(&mut self, incarnation: u64, header: Option<&str>) -> Result<(), DiskError> {
        self.flush_group()?;
        let write = self.db.begin_write().map_err(|e| io("begin")(e.into()))?;
        {
            let mut meta = write.open_table(META).map_err(|e| io("meta")(e.into()))?;
            meta.insert("incarnation", incarnation)
                .map_err(|e| io("meta")(e.into()))?;
            let mut trace = write.open_table(TRACE).map_err(|e| io("trace")(e.into()))?;
            if let Some(line) = header {
                trace
                    .insert(self.next_trace, sealed(line.as_bytes()).as_slice())
                    .map_err(|e| io("trace")(e.into()))?;
                self.next_trace += 1;
            }
        }
        write
            .commit()
            .map_err(|e| DiskError::Fsync(format!("begin commit: {e}")))
    }

    fn commit(&mut self, save: Option<&S>, trace_line: Option<&str>) -> Result<(), DiskError> {
        if self.group.is_none() {
            self.group = Some(self.db.begin_write().map_err(|e| io("begin")(e.into()))?);
        }
        let write = self.group.as_ref().expect("just opened");
        {
            if let Some(storage) = save {
                let mut table = write
                    .open_table(STORAGE)
                    .map_err(|e| io("storage")(e.into()))?;
                for part in storage.diff(self.last_saved.as_ref()) {
                    match part {
                        Part::Put(key, bytes) => table
                            .insert(key.as_slice(), sealed(&bytes).as_slice())
                            .map(|_| ()),
                        Part::Delete(key) => table.remove(key.as_slice()).map(|_| ()),
                    }
                    .map_err(|e| io("storage")(e.into()))?;
                }
            }
            if let Some(line) = trace_line {
                let mut trace = write.open_table(TRACE).map_err(|e| io("trace")(e.into()))?;
                trace
                    .insert(self.next_trace, sealed(line.as_bytes()).as_slice())
                    .map_err(|e| io("trace")(e.into()))?;
            }
        }
        if trace_line.is_some() {
            self.next_trace += 1;
        }
        if let Some(storage) = save {
            self.last_saved = Some(storage.clone());
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), DiskError> {
        self.flush_group()
    }
}

impl<S> Drop for RedbDisk<S> {
    fn drop(&mut self) {
        // Staged steps were never released, so dropping them is safe; committing is kinder.
        if let Err(e) = self.flush_group() {
            tracing::warn!(%e, "staged steps lost at close");
        }
    }
}

#[cfg(test)]
mod tests;
