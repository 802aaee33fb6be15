use super::*;
use crate::host::Disk;
use quorate_impl::crypto::Symbolic;
use quorate_impl::paxos::{Ballot, PaxosStorage, Value};
use std::sync::Arc;

type Storage = PaxosStorage<Symbolic, u8, u8>;

fn dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("quorate-store-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn storage(slots: u64) -> Storage {
    let ballot = Ballot {
        round: 1,
        leader: 0,
    };
    PaxosStorage {
        promised: ballot,
        accepted: Arc::new((1..=slots).map(|s| (s, (ballot, Value::NoOp))).collect()),
        compacted_upto: 0,
        snapshot: None,
    }
}

#[test]
fn a_save_writes_only_the_changed_parts_and_reopens_equal() {
    let path = dir("diff").join("node.redb");
    let mut disk = RedbDisk::<Storage>::open_path(&path).unwrap();
    assert!(disk.open().unwrap().storage.is_none());
    disk.begin(1, Some("{\"header\":1}\n")).unwrap();
    let first = storage(100);
    disk.commit(Some(&first), Some("{\"step\":0}\n")).unwrap();
    let mut second = first.clone();
    Arc::make_mut(&mut second.accepted).insert(101, (second.promised, Value::NoOp));
    assert_eq!(second.diff(Some(&first)).len(), 1, "one new slot, one part");
    disk.commit(Some(&second), Some("{\"step\":1}\n")).unwrap();
    drop(disk);
    let mut reopened = RedbDisk::<Storage>::open_path(&path).unwrap();
    let recovered = reopened.open().unwrap();
    assert_eq!(recovered.storage, Some(second));
    assert_eq!(recovered.last_incarnation, 1);
    assert_eq!(reopened.trace_lines().unwrap().len(), 3);
}

#[test]
fn a_flipped_stored_byte_is_refused_on_open() {
    let path = dir("flip").join("node.redb");
    let mut disk = RedbDisk::<Storage>::open_path(&path).unwrap();
    disk.open().unwrap();
    disk.begin(1, None).unwrap();
    disk.commit(Some(&storage(3)), None).unwrap();
    disk.flush().unwrap();
    // Overwrite one part with bytes whose checksum no longer matches (bit rot under redb).
    let write = disk.db.begin_write().unwrap();
    {
        let mut table = write.open_table(STORAGE).unwrap();
        let mut bad = sealed(b"x");
        bad[0] ^= 1;
        table.insert(b"m".as_slice(), bad.as_slice()).unwrap();
    }
    write.commit().unwrap();
    let error = Disk::<Storage>::open(&mut disk).unwrap_err();
    assert!(
        matches!(&error, DiskError::Corrupt(m) if m.contains("checksum")),
        "{error}"
    );
}

#[test]
fn a_truncated_file_is_refused_on_open() {
    let path = dir("trunc").join("node.redb");
    {
        let mut disk = RedbDisk::<Storage>::open_path(&path).unwrap();
        disk.open().unwrap();
        disk.begin(1, None).unwrap();
        disk.commit(Some(&storage(50)), None).unwrap();
    }
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 3]).unwrap();
    let opened = RedbDisk::<Storage>::open_path(&path).and_then(|mut d| d.open().map(|_| ()));
    assert!(
        opened.is_err(),
        "a file cut to a third must not open as if whole"
    );
}

#[test]
fn the_ledger_chain_is_extended_and_verified_on_open() {
    let path = dir("ledger").join("node.redb");
    let mut disk = RedbDisk::<Storage>::open_path(&path).unwrap();
    disk.open().unwrap();
    let committed = Committed {
        base: 0,
        entries: vec![[1; 32], [2; 32], [3; 32]],
    };
    disk.export_ledger(&committed).unwrap();
    let head = disk.ledger_head();
    assert_eq!(head.0, 3);
    assert_eq!(
        head.1,
        chain(&chain(&chain(&[0; 32], &[1; 32]), &[2; 32]), &[3; 32])
    );
    // Re-exporting the same prefix is a no-op; the head is recomputed on open.
    disk.export_ledger(&committed).unwrap();
    drop(disk);
    let mut reopened = RedbDisk::<Storage>::open_path(&path).unwrap();
    Disk::<Storage>::open(&mut reopened).unwrap();
    assert_eq!(reopened.ledger_head(), head);
    // A rewritten row breaks the chain.
    let write = reopened.db.begin_write().unwrap();
    {
        let mut table = write.open_table(LEDGER).unwrap();
        let mut row = [9u8; 32].to_vec();
        row.extend_from_slice(&head.1);
        table.insert(1, sealed(&row).as_slice()).unwrap();
    }
    write.commit().unwrap();
    let error = Disk::<Storage>::open(&mut reopened).unwrap_err();
    assert!(
        matches!(&error, DiskError::Corrupt(m) if m.contains("chain")),
        "{error}"
    );
}
