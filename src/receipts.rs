//! Signed receipts. Every check-in outcome gives the student a receipt the server signs
//! (Ed25519): the session, its lesson, the student, the time and the outcome. The student keeps
//! or shows it; a teacher or an admin checks it (valid, forged, or for another session), and a
//! student may attach one to an appeal. A receipt is text: `ATTN1.<payload>.<signature>`, both
//! parts base64url, the payload a small JSON object; nothing about it is stored.
//!
//! The key comes from `ATTN_RECEIPT_KEY` (every instance needs the same one); without it, the
//! first instance makes one and keeps it in the database, where every other instance finds it.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::auth::Caller;
use crate::context::Ctx;
use crate::domain::{FailReason, LiveRecord, LiveSession, Role, Status};
use crate::error::{Error, Problem, Result};

/// What every receipt starts with; a later format gets a new one.
const PREFIX: &str = "ATTN1.";
/// Signed before the payload, so a receipt's signature can mean nothing else.
const DOMAIN: &[u8] = b"attn receipt v1\n";
/// The name of the receipt key in `signing_keys`.
const KEY_NAME: &str = "receipts";
/// Longest receipt text read (a real one is a few hundred characters).
pub const MAX_RECEIPT_LEN: usize = 2048;

/// A key's 32-byte seed, as `ATTN_RECEIPT_KEY` gives it; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct ReceiptKey([u8; 32]);

impl std::fmt::Debug for ReceiptKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReceiptKey(..)")
    }
}

impl ReceiptKey {
    /// Reads a seed in base64 (standard or URL-safe, padded or not); `None` unless it is
    /// exactly 32 bytes.
    pub fn from_text(text: &str) -> Option<Self> {
        let text = text.trim();
        let bytes = STANDARD
            .decode(text)
            .or_else(|_| URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')))
            .ok()?;
        Some(Self(bytes.try_into().ok()?))
    }

    fn generate() -> Self {
        let mut seed = [0u8; 32];
        SystemRandom::new()
            .fill(&mut seed)
            .expect("the system's random source");
        Self(seed)
    }

    fn to_text(&self) -> String {
        STANDARD.encode(self.0)
    }

    fn key_pair(&self) -> Result<Ed25519KeyPair> {
        Ed25519KeyPair::from_seed_unchecked(&self.0).map_err(|_| Error::Config {
            variable: "ATTN_RECEIPT_KEY",
            problem: "not an Ed25519 key".into(),
        })
    }
}

/// The receipt signer of one server: the key is read (or made) the first time it is needed.
#[derive(Default)]
pub struct Receipts {
    key: OnceCell<Ed25519KeyPair>,
}

impl std::fmt::Debug for Receipts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Receipts(..)")
    }
}

impl Receipts {
    async fn key(&self, ctx: &Ctx) -> Result<&Ed25519KeyPair> {
        self.key
            .get_or_try_init(|| async {
                let key = match &ctx.config.receipt_key {
                    Some(key) => key.clone(),
                    None => {
                        let fresh = ReceiptKey::generate().to_text();
                        let stored = ctx
                            .db
                            .signing_secret(KEY_NAME, &fresh, ctx.clock.now())
                            .await?;
                        ReceiptKey::from_text(&stored).ok_or(Error::Config {
                            variable: "ATTN_RECEIPT_KEY",
                            problem: "the key kept in the database is not 32 bytes".into(),
                        })?
                    }
                };
                key.key_pair()
            })
            .await
    }

    /// The public key receipts are checked with, base64url (for anyone who wants to check a
    /// receipt without asking the server).
    pub async fn public_key(&self, ctx: &Ctx) -> Result<String> {
        Ok(URL_SAFE_NO_PAD.encode(self.key(ctx).await?.public_key().as_ref()))
    }
}

/// What a receipt says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The session.
    #[serde(rename = "s")]
    pub session_id: Uuid,
    /// Its lesson title.
    #[serde(rename = "l")]
    pub lesson_name: String,
    /// The student's school number.
    #[serde(rename = "n")]
    pub student_number: String,
    /// The student's name.
    #[serde(rename = "m")]
    pub student_name: String,
    /// When the student checked in.
    #[serde(rename = "t", with = "chrono::serde::ts_milliseconds")]
    pub at: DateTime<Utc>,
    /// The outcome: present or late, failed (with the reason), or what the teacher set.
    #[serde(rename = "o")]
    pub status: Status,
    /// Why a check failed.
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    pub fail_reason: Option<FailReason>,
}

impl Receipt {
    /// The receipt of a student's check-in to a live session; `None` while a face check still
    /// runs, or once the teacher removed the student.
    pub fn of_check_in(session: &LiveSession, record: &LiveRecord) -> Option<Self> {
        if record.is_pending() || record.deletion.is_some() {
            return None;
        }
        Some(Self {
            session_id: session.id,
            lesson_name: session.lesson_name.clone(),
            student_number: record.student_number.clone(),
            student_name: record.student_full_name.clone(),
            at: record.attendance_time?,
            status: record.status(),
            fail_reason: record
                .fail_reason
                .filter(|_| record.status() == Status::Failed),
        })
    }
}

/// What checking a receipt found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Signed by this server, for the session asked about (or for any, when none was named).
    Valid(Receipt),
    /// Signed by this server, but for another session than the one asked about.
    OtherSession(Receipt),
    /// Not signed by this server, changed after signing, or not a receipt at all.
    Forged,
}

/// Signs `receipt`; the text the student keeps.
pub async fn sign(ctx: &Ctx, receipt: &Receipt) -> Result<String> {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(receipt)?);
    let signature = ctx.receipts.key(ctx).await?.sign(&signed_bytes(&payload));
    Ok(format!(
        "{PREFIX}{payload}.{}",
        URL_SAFE_NO_PAD.encode(signature.as_ref())
    ))
}

fn signed_bytes(payload: &str) -> Vec<u8> {
    [DOMAIN, payload.as_bytes()].concat()
}

/// What `text` says, when this server signed it exactly so; `None` for anything else.
pub async fn read(ctx: &Ctx, text: &str) -> Result<Option<Receipt>> {
    let text = text.trim();
    if text.len() > MAX_RECEIPT_LEN {
        return Ok(None);
    }
    let Some((payload, signature)) = text
        .strip_prefix(PREFIX)
        .and_then(|rest| rest.split_once('.'))
    else {
        return Ok(None);
    };
    let Ok(signature) = URL_SAFE_NO_PAD.decode(signature) else {
        return Ok(None);
    };
    let key = ctx.receipts.key(ctx).await?;
    let public = UnparsedPublicKey::new(&ED25519, key.public_key().as_ref());
    if public.verify(&signed_bytes(payload), &signature).is_err() {
        return Ok(None);
    }
    Ok(URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok()))
}

/// Checks a receipt a student shows, for the session `session_id` when one is named (an
/// empty one names none). Teachers and admins.
pub async fn verify(
    ctx: &Ctx,
    caller: Option<&Caller>,
    text: &str,
    session_id: Option<&str>,
) -> Result<Verdict> {
    Caller::require(caller, |c| c.is_admin || c.role == Role::Teacher)?;
    let session = match session_id.map(str::trim).filter(|s| !s.is_empty()) {
        Some(id) => Some(crate::domain::parse_session_id(id)?),
        None => None,
    };
    if text.trim().is_empty() {
        return Err(Error::invalid("receipt", Problem::Empty));
    }
    Ok(match read(ctx, text).await? {
        None => Verdict::Forged,
        Some(r) if session.is_some_and(|s| s != r.session_id) => Verdict::OtherSession(r),
        Some(r) => Verdict::Valid(r),
    })
}
