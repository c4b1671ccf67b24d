//! Access: bearer tokens with a role (`admin`, `analyst`, `recorder` for named agencies), stored hashed.
//!
//! Tokens live beside the log in `DATA_DIR/tokens.jsonl`, one JSON object a line, appended by
//! `p30 token create`. They are not in the fjall database because the CLI must add a token while a
//! server holds the database's lock; the server re-reads the file when it changes, so a new token works
//! without a restart.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a token may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, settings too.
    Admin,
    /// Reads only.
    Analyst,
    /// Writes for the agencies named in the token.
    Recorder,
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Self::Admin),
            "analyst" => Ok(Self::Analyst),
            "recorder" => Ok(Self::Recorder),
            other => Err(format!("no role {other:?}: admin, analyst or recorder")),
        }
    }
}

/// No token, or one this server does not know (HTTP 401).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a valid bearer token is needed")]
pub struct Unauthorized;

/// A token as stored: its hash, never the token itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub token_sha256: String,
    pub role: Role,
    #[serde(default)]
    pub agencies: Vec<String>,
    pub name: String,
}

impl Grant {
    /// Whether this grant may record changes touching all of these agencies.
    pub fn may_write_for<'a>(&self, mut agencies: impl Iterator<Item = &'a str>) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Analyst => false,
            Role::Recorder => agencies.all(|a| self.agencies.iter().any(|g| g == a)),
        }
    }

    pub fn may_read(&self) -> bool {
        true
    }
}

pub fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Lower-case hex, written straight into one string (every authenticated request hashes its token).
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

/// The token file of a data dir.
pub fn tokens_path(data_dir: &Path) -> PathBuf {
    data_dir.join("tokens.jsonl")
}

/// Creates a token, appends its hash to the data dir's token file, and returns the token.
pub fn create_token(
    data_dir: &Path,
    role: Role,
    agencies: Vec<String>,
    name: Option<String>,
) -> anyhow::Result<String> {
    anyhow::ensure!(role != Role::Recorder || !agencies.is_empty(), "a recorder token needs at least one --agency");
    std::fs::create_dir_all(data_dir)?;
    let mut secret = [0u8; 24];
    rand::fill(&mut secret);
    let token = format!("p30_{}", hex(&secret));
    let name = name.unwrap_or_else(|| format!("{}-{}", format!("{role:?}").to_lowercase(), &hash_token(&token)[..8]));
    let grant = Grant { token_sha256: hash_token(&token), role, agencies, name };
    // A line cut short by a crash is skipped when read; start on a fresh line so this one is not lost with it.
    let path = tokens_path(data_dir);
    let torn = std::fs::read(&path).is_ok_and(|bytes| bytes.last().is_some_and(|&b| b != b'\n'));
    let mut line = if torn { "\n".to_owned() } else { String::new() };
    line.push_str(&serde_json::to_string(&grant)?);
    line.push('\n');
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&path)?;
    file.write_all(line.as_bytes())?;
    file.sync_all()?;
    Ok(token)
}

/// The grants of a data dir, re-read when the token file changes.
#[derive(Debug)]
pub struct Tokens {
    path: PathBuf,
    loaded: RwLock<(Option<SystemTime>, HashMap<String, Grant>)>,
}

impl Tokens {
    pub fn new(data_dir: &Path) -> Self {
        let tokens = Self { path: tokens_path(data_dir), loaded: RwLock::new((None, HashMap::new())) };
        tokens.reload_if_changed();
        tokens
    }

    fn modified(&self) -> Option<SystemTime> {
        std::fs::metadata(&self.path).and_then(|m| m.modified()).ok()
    }

    fn reload_if_changed(&self) {
        let modified = self.modified();
        if self.loaded.read().map(|l| l.0 == modified && modified.is_some()).unwrap_or(false) {
            return;
        }
        let text = std::fs::read_to_string(&self.path).unwrap_or_default();
        let grants = text
            .lines()
            .filter_map(|l| serde_json::from_str::<Grant>(l).ok())
            .map(|g| (g.token_sha256.clone(), g))
            .collect();
        if let Ok(mut l) = self.loaded.write() {
            *l = (modified, grants);
        }
    }

    /// The grant of a bearer token, if it is one of ours.
    pub fn grant(&self, token: &str) -> Option<Grant> {
        let hash = hash_token(token);
        let found = self.loaded.read().ok().and_then(|l| l.1.get(&hash).cloned());
        if found.is_some() {
            return found;
        }
        // A token created since the last read: look again (cheap when the file has not changed).
        self.reload_if_changed();
        self.loaded.read().ok().and_then(|l| l.1.get(&hash).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_hash_is_sha256_in_lower_case_hex() {
        assert_eq!(hash_token("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn a_created_token_is_stored_hashed_and_found_without_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let tokens = Tokens::new(dir.path());
        let token = create_token(dir.path(), Role::Recorder, vec!["STP".into()], Some("Chị Lan".into())).unwrap();
        let stored = std::fs::read_to_string(tokens_path(dir.path())).unwrap();
        assert!(!stored.contains(&token), "the token itself must not be stored");
        let grant = tokens.grant(&token).expect("found after the file changed");
        assert_eq!((grant.role, grant.name.as_str()), (Role::Recorder, "Chị Lan"));
        assert!(grant.may_write_for(["STP"].into_iter()));
        assert!(!grant.may_write_for(["STP", "SXD"].into_iter()));
        assert!(tokens.grant("p30_nottoken").is_none());
    }

    #[test]
    fn analysts_never_write_and_admins_always_may() {
        let g = |role| Grant { token_sha256: String::new(), role, agencies: vec![], name: "x".into() };
        assert!(!g(Role::Analyst).may_write_for(std::iter::empty()));
        assert!(g(Role::Admin).may_write_for(["SXD"].into_iter()));
    }

    #[test]
    fn a_token_line_torn_by_a_crash_does_not_take_the_next_token_with_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(tokens_path(dir.path()), "{\"token_sha256\":\"ab").unwrap();
        let token = create_token(dir.path(), Role::Admin, vec![], None).unwrap();
        assert!(Tokens::new(dir.path()).grant(&token).is_some());
    }

    #[test]
    fn a_recorder_token_needs_an_agency() {
        let dir = tempfile::tempdir().unwrap();
        assert!(create_token(dir.path(), Role::Recorder, vec![], None).is_err());
    }
}
