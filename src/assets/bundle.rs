//! The zip of a Lambda custom runtime: one entry, `bootstrap`, built so that the same binary always gives the
//! same bytes (and so the same SHA-256, the asset's S3 key) on any machine, whatever the file's mtime, owner or
//! umask: entries sorted by name, every time stamp 1980-01-01 00:00 (zip's epoch), permissions fixed (0755 for
//! executables, 0644 otherwise), deflate at level 9, no extra fields and no comment.

use std::io::{Cursor, Write};

use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

/// The name Lambda's `provided.*` runtimes run.
pub const BOOTSTRAP: &str = "bootstrap";

/// The deflate level: fixed, because another level gives other bytes (and another key).
pub const DEFLATE_LEVEL: i64 = 9;

/// One file of a zip.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The path inside the zip (`bootstrap`).
    pub name: &'a str,
    /// The file's content.
    pub bytes: &'a [u8],
    /// Whether the file gets mode 0755 (else 0644): Lambda runs `bootstrap` only if it is executable.
    pub executable: bool,
}

/// The zip of a custom-runtime binary: `bootstrap`, executable.
pub fn zip_bootstrap(binary: &[u8]) -> Result<Vec<u8>, zip::result::ZipError> {
    zip_entries(&[Entry {
        name: BOOTSTRAP,
        bytes: binary,
        executable: true,
    }])
}

/// A zip of these entries, byte-for-byte reproducible: the order they are given in does not matter.
pub fn zip_entries(entries: &[Entry<'_>]) -> Result<Vec<u8>, zip::result::ZipError> {
    let mut sorted: Vec<&Entry<'_>> = entries.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(b.name));
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for e in sorted {
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .compression_level(Some(DEFLATE_LEVEL))
            .last_modified_time(DateTime::default())
            .unix_permissions(if e.executable { 0o755 } else { 0o644 })
            .large_file(false);
        zip.start_file(e.name, options)?;
        zip.write_all(e.bytes)?;
    }
    Ok(zip.finish()?.into_inner())
}

/// The hex SHA-256 of `bytes`: an asset's hash is the hash of its zip.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::time::{Duration, SystemTime};

    /// Name, content, unix mode, mtime and method of each entry.
    type Unzipped = (String, Vec<u8>, Option<u32>, DateTime, CompressionMethod);

    fn unzip(bytes: &[u8]) -> Vec<Unzipped> {
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        (0..archive.len())
            .map(|i| {
                let mut f = archive.by_index(i).unwrap();
                let mut content = Vec::new();
                f.read_to_end(&mut content).unwrap();
                (
                    f.name().to_owned(),
                    content,
                    f.unix_mode(),
                    f.last_modified().unwrap(),
                    f.compression(),
                )
            })
            .collect()
    }

    #[test]
    fn bootstrap_zip_has_one_executable_entry_at_the_zip_epoch() {
        let binary = b"\x7fELF fake binary".repeat(100);
        let entries = unzip(&zip_bootstrap(&binary).unwrap());
        assert_eq!(entries.len(), 1);
        let (name, content, mode, mtime, method) = &entries[0];
        assert_eq!(name, "bootstrap");
        assert_eq!(content, &binary);
        assert_eq!(mode.map(|m| m & 0o777), Some(0o755));
        assert_eq!(
            (
                mtime.year(),
                mtime.month(),
                mtime.day(),
                mtime.hour(),
                mtime.minute()
            ),
            (1980, 1, 1, 0, 0)
        );
        assert_eq!(*method, CompressionMethod::Deflated);
    }

    #[test]
    fn same_file_content_gives_the_same_bytes_whatever_its_mtime_and_mode() {
        let dir = tempfile::tempdir().unwrap();
        let content = b"the same binary".repeat(1000);
        let old = dir.path().join("old");
        let new = dir.path().join("new");
        std::fs::write(&old, &content).unwrap();
        std::fs::write(&new, &content).unwrap();
        let f = std::fs::File::options().write(true).open(&old).unwrap();
        f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(86_400 * 365 * 20))
            .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&new, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        let a = zip_bootstrap(&std::fs::read(&old).unwrap()).unwrap();
        std::thread::sleep(Duration::from_millis(1100)); // a zip made a second later still has the same bytes
        let b = zip_bootstrap(&std::fs::read(&new).unwrap()).unwrap();
        assert_eq!(a, b);
        assert_eq!(sha256_hex(&a), sha256_hex(&b));
    }

    #[test]
    fn different_content_gives_a_different_hash() {
        let a = zip_bootstrap(b"one binary").unwrap();
        let b = zip_bootstrap(b"another binary").unwrap();
        assert_ne!(sha256_hex(&a), sha256_hex(&b));
    }

    #[test]
    fn entries_are_sorted_so_their_order_does_not_matter() {
        let x = Entry {
            name: "b.txt",
            bytes: b"b",
            executable: false,
        };
        let y = Entry {
            name: "a.txt",
            bytes: b"a",
            executable: false,
        };
        let one = zip_entries(&[x.clone(), y.clone()]).unwrap();
        assert_eq!(one, zip_entries(&[y, x]).unwrap());
        let names: Vec<String> = unzip(&one).into_iter().map(|e| e.0).collect();
        assert_eq!(names, ["a.txt", "b.txt"]);
        assert_eq!(unzip(&one)[0].2.map(|m| m & 0o777), Some(0o644));
    }

    #[test]
    fn sha256_is_the_standard_digest() {
        // The SHA-256 of the empty string, as `sha256sum` prints it.
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
