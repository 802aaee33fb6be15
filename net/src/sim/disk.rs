//! The simulated disk: an append-only byte log of checksummed records, shared with the simulator
//! so it survives a node's crash, with injectable faults (torn write, fsync error).

use std::cell::RefCell;
use std::rc::Rc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::host::{Disk, DiskError, Recovered};

/// One transaction in the log.
#[derive(Clone, Debug, Serialize, Deserialize)]
enum Record {
    Begin {
        incarnation: u64,
        header: Option<String>,
    },
    Step {
        save: Option<Vec<u8>>,
        trace: Option<String>,
    },
}

/// A fault the next commit suffers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiskFault {
    /// Only a prefix of the record reaches the disk, then the node dies.
    TornWrite,
    /// The record is written but fsync reports failure: the node must stop.
    FsyncError,
}

/// What the simulated disk holds: the bytes, plus counters for reports.
#[derive(Debug, Default)]
pub struct DiskImage {
    log: Vec<u8>,
    armed: Option<DiskFault>,
    /// Torn tails found and discarded on open.
    pub torn_tails_discarded: u64,
}

impl DiskImage {
    /// The trace lines recorded so far (headers and records, in order).
    pub fn trace_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for record in parse(&self.log).0 {
            match record {
                Record::Begin {
                    header: Some(h), ..
                } => lines.push(h),
                Record::Step { trace: Some(t), .. } => lines.push(t),
                _ => {}
            }
        }
        lines
    }

    /// Arms a fault for the next commit.
    pub fn arm(&mut self, fault: DiskFault) {
        self.armed = Some(fault);
    }

    /// Disarms a fault the last step did not reach (it committed nothing).
    pub fn disarm(&mut self) {
        self.armed = None;
    }

    /// Damages the log in the middle (a test of corruption detection).
    pub fn flip_byte(&mut self, at: usize) {
        if let Some(byte) = self.log.get_mut(at) {
            *byte ^= 0xff;
        }
    }

    /// Fault injection: the log loses everything after `len` bytes, as if the transactions
    /// there were never durable (a runtime that released their sends too early, then crashed).
    pub fn lose_tail(&mut self, len: usize) {
        self.log.truncate(len);
    }

    /// Fault injection: the last step keeps its trace record but loses its Save, as a runtime
    /// that wrote traces durably but released sends before the save was durable would. Returns
    /// whether there was a save to lose.
    pub fn lose_last_save(&mut self) -> bool {
        let (records, end, _) = parse(&self.log);
        let Some(Record::Step {
            save: Some(_),
            trace,
        }) = records.last().cloned()
        else {
            return false;
        };
        let last = frame(records.last().expect("checked"));
        self.log.truncate(end - last.len());
        self.log
            .extend_from_slice(&frame(&Record::Step { save: None, trace }));
        true
    }

    /// Bytes in the log.
    pub fn len(&self) -> usize {
        self.log.len()
    }

    /// Whether the log is empty.
    pub fn is_empty(&self) -> bool {
        self.log.is_empty()
    }
}

const CHECKSUM: usize = 8;

fn checksum(payload: &[u8]) -> [u8; CHECKSUM] {
    let full = Sha256::digest(payload);
    let mut out = [0; CHECKSUM];
    out.copy_from_slice(&full[..CHECKSUM]);
    out
}

fn frame(record: &Record) -> Vec<u8> {
    let payload = postcard::to_allocvec(record).expect("records encode");
    let mut bytes = Vec::with_capacity(4 + CHECKSUM + payload.len());
    bytes.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&checksum(&payload));
    bytes.extend_from_slice(&payload);
    bytes
}

/// Parses every whole record; returns them with the offset where parsing stopped and whether the
/// stop was a bad record (`Some(reason)`) rather than the clean end.
fn parse(log: &[u8]) -> (Vec<Record>, usize, Option<String>) {
    let mut records = Vec::new();
    let mut at = 0;
    while at < log.len() {
        let rest = &log[at..];
        if rest.len() < 4 + CHECKSUM {
            return (records, at, Some("truncated record header".into()));
        }
        let len = u32::from_le_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
        let Some(payload) = rest.get(4 + CHECKSUM..4 + CHECKSUM + len) else {
            return (
                records,
                at,
                Some(format!("record of {len} bytes truncated")),
            );
        };
        if checksum(payload) != rest[4..4 + CHECKSUM] {
            return (records, at, Some("record checksum mismatch".into()));
        }
        match postcard::from_bytes(payload) {
            Ok(record) => records.push(record),
            Err(e) => return (records, at, Some(format!("record does not decode: {e}"))),
        }
        at += 4 + CHECKSUM + len;
    }
    (records, at, None)
}

/// A node's handle on its simulated disk.
#[derive(Clone, Debug, Default)]
pub struct MemDisk {
    image: Rc<RefCell<DiskImage>>,
}

impl MemDisk {
    /// A fresh, empty disk.
    pub fn new() -> Self {
        MemDisk::default()
    }

    /// The shared image (the simulator keeps one across crashes).
    pub fn image(&self) -> &Rc<RefCell<DiskImage>> {
        &self.image
    }

    fn append(&mut self, record: &Record) -> Result<(), DiskError> {
        let bytes = frame(record);
        let mut image = self.image.borrow_mut();
        match image.armed.take() {
            None => {
                image.log.extend_from_slice(&bytes);
                Ok(())
            }
            Some(DiskFault::TornWrite) => {
                let keep = bytes.len() / 2;
                image.log.extend_from_slice(&bytes[..keep]);
                Err(DiskError::Fsync("simulated torn write".into()))
            }
            Some(DiskFault::FsyncError) => {
                image.log.extend_from_slice(&bytes);
                Err(DiskError::Fsync("simulated fsync error".into()))
            }
        }
    }
}

impl<S: Serialize + DeserializeOwned> Disk<S> for MemDisk {
    fn open(&mut self) -> Result<Recovered<S>, DiskError> {
        let mut image = self.image.borrow_mut();
        let (records, end, problem) = parse(&image.log);
        if let Some(reason) = problem {
            // Only the last record can be torn (a crash mid-commit); its step released nothing.
            // A bad record with whole records after it is damage, not a torn tail.
            let tail = &image.log[end..];
            let tail_len = tail
                .get(..4)
                .map(|l| u32::from_le_bytes(l.try_into().expect("4 bytes")) as usize);
            let whole_record_follows =
                tail_len.is_some_and(|len| tail.len() > 4 + CHECKSUM + len + 4 + CHECKSUM);
            if whole_record_follows {
                return Err(DiskError::Corrupt(format!(
                    "{reason} at byte {end} with more records after it"
                )));
            }
            tracing::warn!(at = end, %reason, "discarding torn last transaction");
            image.log.truncate(end);
            image.torn_tails_discarded += 1;
        }
        let mut recovered = Recovered {
            storage: None,
            last_incarnation: 0,
        };
        for record in records {
            match record {
                Record::Begin { incarnation, .. } => recovered.last_incarnation = incarnation,
                Record::Step {
                    save: Some(bytes), ..
                } => {
                    let storage = postcard::from_bytes(&bytes)
                        .map_err(|e| DiskError::Corrupt(format!("saved storage: {e}")))?;
                    recovered.storage = Some(storage);
                }
                Record::Step { save: None, .. } => {}
            }
        }
        Ok(recovered)
    }

    fn begin(&mut self, incarnation: u64, header: Option<&str>) -> Result<(), DiskError> {
        self.append(&Record::Begin {
            incarnation,
            header: header.map(str::to_owned),
        })
    }

    fn commit(&mut self, save: Option<&S>, trace_line: Option<&str>) -> Result<(), DiskError> {
        let save = save.map(|s| postcard::to_allocvec(s).expect("storage encodes"));
        self.append(&Record::Step {
            save,
            trace: trace_line.map(str::to_owned),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(disk: &mut MemDisk) -> Result<Recovered<u64>, DiskError> {
        Disk::<u64>::open(disk)
    }

    #[test]
    fn saves_survive_and_torn_tails_are_discarded() {
        let mut disk = MemDisk::new();
        Disk::<u64>::begin(&mut disk, 1, None).unwrap();
        Disk::<u64>::commit(&mut disk, Some(&5), None).unwrap();
        disk.image().borrow_mut().arm(DiskFault::TornWrite);
        assert!(Disk::<u64>::commit(&mut disk, Some(&6), None).is_err());
        let recovered = open(&mut disk).unwrap();
        assert_eq!(recovered.storage, Some(5), "the torn save never happened");
        assert_eq!(recovered.last_incarnation, 1);
        assert_eq!(disk.image().borrow().torn_tails_discarded, 1);
    }

    #[test]
    fn damage_before_the_last_record_is_refused() {
        let mut disk = MemDisk::new();
        Disk::<u64>::begin(&mut disk, 1, None).unwrap();
        Disk::<u64>::commit(&mut disk, Some(&5), None).unwrap();
        Disk::<u64>::commit(&mut disk, Some(&6), None).unwrap();
        disk.image().borrow_mut().flip_byte(4 + CHECKSUM + 1);
        let error = open(&mut disk).unwrap_err();
        assert!(matches!(error, DiskError::Corrupt(_)), "{error:?}");
    }

    #[test]
    fn fsync_error_is_reported() {
        let mut disk = MemDisk::new();
        disk.image().borrow_mut().arm(DiskFault::FsyncError);
        let error = Disk::<u64>::commit(&mut disk, Some(&1), None).unwrap_err();
        assert!(matches!(error, DiskError::Fsync(_)));
    }
}
