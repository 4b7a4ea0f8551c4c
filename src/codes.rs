//! Join codes: what the QR code and the short code typed by hand carry. A code is an HMAC of
//! the session id and a 15-second time slot, so it changes by itself and nothing is stored; a
//! code of the current or the previous slot is accepted (a student may scan just before the
//! change). With rotation off, a session keeps one code.

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use uuid::Uuid;

/// How long one code is shown.
pub const SLOT_SECONDS: i64 = 15;

/// Digits of a code.
pub const CODE_DIGITS: u32 = 6;

/// Makes and checks join codes with a server secret (shared by every instance).
#[derive(Clone)]
pub struct JoinCodes {
    secret: Vec<u8>,
}

impl std::fmt::Debug for JoinCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JoinCodes")
    }
}

/// The slot a time falls in.
pub fn slot_of(now: DateTime<Utc>) -> i64 {
    now.timestamp().div_euclid(SLOT_SECONDS)
}

impl JoinCodes {
    /// Codes keyed by `secret`.
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        Self {
            secret: secret.into(),
        }
    }

    /// The code for `session` in `slot`, as six digits.
    pub fn code(&self, session: Uuid, slot: i64) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(session.as_bytes());
        mac.update(&slot.to_be_bytes());
        let digest = mac.finalize().into_bytes();
        let n = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
        format!("{:06}", n % 10u32.pow(CODE_DIGITS))
    }

    /// A tag of `data` for `purpose` under the same key (HMAC-SHA256, hex, 128 bits), for
    /// tokens the server hands out and later recognises on any instance.
    pub fn tag(&self, purpose: &str, data: &str) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(data.as_bytes());
        mac.finalize().into_bytes()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// True when `tag` is [`JoinCodes::tag`] of `data` for `purpose` (in constant time).
    pub fn has_tag(&self, purpose: &str, data: &str, tag: &str) -> bool {
        constant_time_eq(&self.tag(purpose, data), tag)
    }

    /// The code to show now: the current slot's, or the fixed one when rotation is off.
    pub fn current(&self, session: Uuid, rotate: bool, now: DateTime<Utc>) -> String {
        self.code(session, if rotate { slot_of(now) } else { 0 })
    }

    /// True for the current or the previous slot's code (the fixed code when rotation is off).
    pub fn accepts(&self, session: Uuid, rotate: bool, code: &str, now: DateTime<Utc>) -> bool {
        let code = code.trim();
        if !rotate {
            return constant_time_eq(&self.code(session, 0), code);
        }
        let slot = slot_of(now);
        [slot, slot - 1]
            .iter()
            .any(|s| constant_time_eq(&self.code(session, *s), code))
    }
}

/// A QR code of `text` as an SVG document (black modules on white, with a quiet zone).
pub fn qr_svg(text: &str) -> Option<String> {
    let code =
        qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(256, 256)
            .quiet_zone(true)
            .build(),
    )
}

/// QR codes kept at most by [`join_qr_svg`] (a few per live session and its rotating code).
const QR_KEPT: usize = 1024;

/// [`qr_svg`] of a join link, remembered: every open live page reads its board at each
/// check-in, and the link changes only with the code (every 15 s), while making the QR code
/// was half the cost of the read.
pub fn join_qr_svg(link: &str) -> Option<String> {
    use std::collections::HashMap;
    use std::sync::{LazyLock, Mutex, PoisonError};

    static KEPT: LazyLock<Mutex<HashMap<String, String>>> = LazyLock::new(Default::default);
    if let Some(svg) = KEPT
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(link)
    {
        return Some(svg.clone());
    }
    let svg = qr_svg(link)?;
    let mut kept = KEPT.lock().unwrap_or_else(PoisonError::into_inner);
    if kept.len() >= QR_KEPT {
        kept.clear();
    }
    kept.insert(link.to_owned(), svg.clone());
    Some(svg)
}

/// Compares without an early exit, so the time taken says nothing about how much of a guess
/// was right.
fn constant_time_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_795_413_600 + secs, 0).unwrap()
    }

    #[test]
    fn a_code_lives_for_its_slot_and_the_next() {
        let codes = JoinCodes::new(b"secret".to_vec());
        let id = Uuid::new_v4();
        let shown = codes.current(id, true, at(0));
        assert_eq!(shown.len(), 6);
        assert!(codes.accepts(id, true, &shown, at(14)));
        assert!(
            codes.accepts(id, true, &shown, at(29)),
            "the previous slot's code still works"
        );
        assert!(
            !codes.accepts(id, true, &shown, at(30)),
            "two slots later it is refused"
        );
        assert_ne!(codes.current(id, true, at(30)), shown);
        assert!(
            !codes.accepts(Uuid::new_v4(), true, &shown, at(1)),
            "codes belong to a session"
        );
        assert!(!JoinCodes::new(b"other".to_vec()).accepts(id, true, &shown, at(1)));
        assert!(!codes.accepts(id, true, "", at(1)));
    }

    #[test]
    fn a_join_link_becomes_an_svg_qr_code() {
        let svg = qr_svg("http://127.0.0.1:3000/join/0b1c?c=123456").unwrap();
        assert!(svg.contains("<svg") && svg.contains("</svg>"));
        assert!(
            !svg.contains("join"),
            "the link is in the modules, not in the markup"
        );
    }

    #[test]
    fn a_remembered_join_qr_is_the_same_as_a_new_one() {
        let a = "http://127.0.0.1:3000/join/0b1c?c=123456";
        let b = "http://127.0.0.1:3000/join/0b1c?c=654321";
        let first = join_qr_svg(a).unwrap();
        assert_eq!(first, qr_svg(a).unwrap());
        assert_eq!(join_qr_svg(a).unwrap(), first);
        assert_eq!(join_qr_svg(b).unwrap(), qr_svg(b).unwrap());
        assert_ne!(join_qr_svg(b).unwrap(), first);
    }

    #[test]
    fn without_rotation_one_code_lasts() {
        let codes = JoinCodes::new(b"secret".to_vec());
        let id = Uuid::new_v4();
        let shown = codes.current(id, false, at(0));
        assert!(codes.accepts(id, false, &shown, at(0) + Duration::hours(2)));
    }
}
