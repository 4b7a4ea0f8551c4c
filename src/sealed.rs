//! Sealing a secret under a key kept somewhere else: the portal photo of a logged-in student is
//! stored in the login session only sealed (AES-256-GCM), under a key that only the student's
//! own browser carries, in a cookie. Whoever reads the store (a Redis dump, its append-only file,
//! a backup) reads no photo; the student's next request brings the key to open it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

/// A fresh 256-bit key, carried by the browser as text.
#[derive(Clone, PartialEq, Eq)]
pub struct SealKey([u8; 32]);

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(..)")
    }
}

impl SealKey {
    /// A new random key.
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        SystemRandom::new()
            .fill(&mut key)
            .expect("the system's random source");
        Self(key)
    }

    /// The key as cookie text.
    pub fn to_text(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// Reads a key back from its text; `None` for anything else.
    pub fn from_text(text: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(text.trim()).ok()?;
        Some(Self(bytes.try_into().ok()?))
    }

    fn aead(&self) -> LessSafeKey {
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &self.0).expect("a 32-byte key"))
    }
}

/// `secret` sealed under `key`: a random nonce, then the ciphertext with its tag.
pub fn seal(key: &SealKey, secret: &[u8]) -> Vec<u8> {
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .expect("the system's random source");
    let mut sealed = secret.to_vec();
    key.aead()
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::empty(),
            &mut sealed,
        )
        .expect("sealing fits in memory");
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    out
}

/// The secret, if `sealed` was sealed under `key` and not changed since.
pub fn open(key: &SealKey, sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < NONCE_LEN {
        return None;
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut body = body.to_vec();
    let plain = key
        .aead()
        .open_in_place(nonce, Aad::empty(), &mut body)
        .ok()?;
    Some(plain.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_key_opens_what_it_sealed() {
        let key = SealKey::generate();
        let photo = b"\xff\xd8\xff\xe0 a portal photo".to_vec();
        let sealed = seal(&key, &photo);
        assert!(
            !sealed.windows(4).any(|w| w == b"\xff\xd8\xff\xe0"),
            "no plain bytes"
        );
        assert_eq!(open(&key, &sealed), Some(photo.clone()));
        let again = SealKey::from_text(&key.to_text()).unwrap();
        assert_eq!(open(&again, &sealed), Some(photo.clone()));

        assert_eq!(open(&SealKey::generate(), &sealed), None, "another key");
        let mut changed = sealed.clone();
        *changed.last_mut().unwrap() ^= 1;
        assert_eq!(open(&key, &changed), None, "changed");
        assert_eq!(open(&key, &sealed[..5]), None, "cut short");
        assert_ne!(seal(&key, &photo), sealed, "a fresh nonce each time");
        for bad in ["", "short", "not base64 !!!"] {
            assert!(SealKey::from_text(bad).is_none(), "{bad:?}");
        }
    }
}
