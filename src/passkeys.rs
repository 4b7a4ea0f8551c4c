//! Passkeys bind a check-in to the phone in the student's hand. A session that asks for them
//! (see [`DeviceCheck`]) takes a check-in only when it is signed, with a challenge begun for
//! that session and its code of the moment, by the one passkey the student registered. A
//! friend's phone, a private tab or another laptop has no such passkey and is refused; the
//! teacher can still count the student by hand, and that shows.
//!
//! A student's first check-in in a session that takes new passkeys registers one: the weak
//! moment (a classmate's phone could register for a student who never came), so every
//! registration is flagged on the teacher's live page and kept in the record's evidence. A
//! student has one passkey; a new phone needs a teacher's or an admin's leave, which is written
//! in the audit log.
//!
//! The relying party is `ATTN_PUBLIC_URL` (its host is the id, the URL the origin). Only public
//! keys are stored (`passkeys`), and the ceremony's state lives in the login session between
//! its two steps.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use webauthn_rs::prelude::{
    AuthenticationResult, AuthenticatorAttachment, CreationChallengeResponse, Passkey,
    PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse, Url, Webauthn, WebauthnBuilder,
};

use crate::auth::Caller;
use crate::context::Ctx;
use crate::db::entity::{passkey, passkey_grant};
use crate::domain::{
    DeviceCheck, DeviceProof, FailReason, LiveSession, Reason, Role, SchoolNumber, User,
};
use crate::error::{Entity, Error, Problem, Result};

/// Shortest reason for letting a student register a new passkey.
pub const APPROVAL_REASON_MIN: usize = 5;

/// The relying party: who passkeys are made for, and the one origin they are used from.
pub struct Passkeys {
    webauthn: Webauthn,
}

impl std::fmt::Debug for Passkeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passkeys")
            .field("origins", &self.webauthn.get_allowed_origins())
            .finish()
    }
}

impl Passkeys {
    /// The relying party of `public_url` (`https://attn.example.edu`, or `http://localhost:3000`
    /// while developing). A URL without a domain name (an IP address) cannot carry passkeys.
    pub fn new(public_url: &str) -> Result<Self> {
        let refuse = |problem: &str| Error::Config {
            variable: "ATTN_PUBLIC_URL",
            problem: problem.to_owned(),
        };
        let origin = Url::parse(public_url).map_err(|_| refuse("is not a URL"))?;
        let Some(rp_id) = origin.domain().map(str::to_owned) else {
            return Err(refuse(
                "names no domain (an IP address cannot carry passkeys; use localhost)",
            ));
        };
        let secure = origin.scheme() == "https" || rp_id == "localhost";
        if !secure {
            return Err(refuse("must be https (or http://localhost)"));
        }
        let webauthn = WebauthnBuilder::new(&rp_id, &origin)
            .and_then(|b| b.rp_name("ATTN").build())
            .map_err(|e| refuse(&e.to_string()))?;
        Ok(Self { webauthn })
    }
}

/// A passkey ceremony begun for one student's check-in to one session. The login session keeps
/// it until the browser answers; it is used once.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ceremony {
    session_id: Uuid,
    student: String,
    step: Step,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
enum Step {
    /// The student has no passkey yet and may register one (with whose leave, if anyone's).
    Register {
        state: PasskeyRegistration,
        approved_by: Option<String>,
    },
    /// The student signs with the passkey they registered.
    Authenticate(PasskeyAuthentication),
}

/// What the browser is asked to do, as JSON for `navigator.credentials`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Challenge {
    /// Make a passkey (`navigator.credentials.create`).
    Register(CreationChallengeResponse),
    /// Sign with the student's passkey (`navigator.credentials.get`).
    Authenticate(RequestChallengeResponse),
    /// Nothing to sign: the student has no passkey and may not register one here; checking in
    /// records that (the teacher can allow a new one).
    None,
}

/// The first step of a passkey check-in.
#[derive(Debug, Clone)]
pub struct Begun {
    /// For the browser.
    pub challenge: Challenge,
    /// For the login session, until the browser answers.
    pub ceremony: Option<Ceremony>,
}

/// What came back from the browser with a check-in.
#[derive(Debug, Clone)]
pub enum Answer<'a> {
    /// The browser gave no passkey: it has none for this student, or the student cancelled.
    Refused,
    /// The ceremony could not begin (the page's script says so); the student may try again.
    Failed,
    /// The browser's answer to `ceremony`, the one this login session kept.
    Signed {
        /// The ceremony the login session kept (`None`: none, or used already).
        ceremony: Option<Ceremony>,
        /// The credential, as JSON.
        credential: &'a str,
        /// The browser's `User-Agent`, to name the device a new passkey is on.
        user_agent: &'a str,
    },
}

/// A passkey check that passed, not yet written down: the student's check-in says whether it
/// counts (a registration is kept only with a check-in that passes).
#[derive(Debug, Clone)]
pub enum Proven {
    /// The session asks for no passkey.
    NotAsked,
    /// Signed with the student's passkey.
    Signed(AuthenticationResult),
    /// A new passkey.
    New {
        /// It.
        passkey: Box<Passkey>,
        /// Who allowed it, if it needed leave.
        approved_by: Option<String>,
        /// What the browser said it was.
        device: String,
    },
}

/// Begins a passkey check-in: the student asks with the session's code of the moment; the
/// answer says whether to sign or to register. `CodeExpired` and `SessionEnded` as a
/// check-in; students only, within their check-in limit.
pub async fn begin(
    ctx: &Ctx,
    caller: Option<&Caller>,
    session_id: &str,
    code: &str,
) -> Result<Begun> {
    let student = Caller::require_student(caller)?;
    crate::student::may_upload_selfie(ctx, caller).await?;
    let session = crate::student::open_session(ctx, session_id, code).await?;
    if !session.device_check.needs_passkey() {
        return Ok(Begun {
            challenge: Challenge::None,
            ceremony: None,
        });
    }
    let passkeys = ctx.passkeys.as_deref().ok_or(Error::PasskeysUnavailable)?;
    let number = &student.school_number;
    let step = match ctx.db.passkey_of(number).await? {
        Some(stored) => {
            let passkey = stored_passkey(&stored)?;
            let (request, state) = passkeys
                .webauthn
                .start_passkey_authentication(&[passkey])
                .map_err(unavailable)?;
            let ceremony = Step::Authenticate(state);
            (Challenge::Authenticate(request), ceremony)
        }
        None => {
            let grant = ctx.db.passkey_grant(number).await?;
            if grant.is_none() && !session.device_check.takes_new_passkeys() {
                return Ok(Begun {
                    challenge: Challenge::None,
                    ceremony: None,
                });
            }
            let (mut creation, state) = passkeys
                .webauthn
                .start_passkey_registration(user_handle(number), number, &student.full_name, None)
                .map_err(unavailable)?;
            // The phone in the student's hand, not a security key passed around the room.
            if let Some(selection) = creation.public_key.authenticator_selection.as_mut() {
                selection.authenticator_attachment = Some(AuthenticatorAttachment::Platform);
            }
            let ceremony = Step::Register {
                state,
                approved_by: grant.map(|g| g.granted_by),
            };
            (Challenge::Register(creation), ceremony)
        }
    };
    let (challenge, step) = step;
    Ok(Begun {
        challenge,
        ceremony: Some(Ceremony {
            session_id: session.id,
            student: number.clone(),
            step,
        }),
    })
}

/// The stable, opaque id a student's passkey is made for (no school number in it).
fn user_handle(number: &str) -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_OID,
        format!("attn-student:{number}").as_bytes(),
    )
}

fn stored_passkey(stored: &passkey::Model) -> Result<Passkey> {
    Ok(serde_json::from_str(&stored.passkey)?)
}

fn unavailable(error: webauthn_rs::prelude::WebauthnError) -> Error {
    tracing::warn!(%error, "passkey ceremony could not begin");
    Error::PasskeysUnavailable
}

/// Checks the browser's answer for a check-in of `student` to `session`: `Ok(Ok(..))` when it
/// proves the student's device (or the session asks for no passkey), `Ok(Err(reason))` for a
/// failure to record, `Err` for a refusal that records nothing (no script ran, no ceremony).
pub(crate) async fn verify(
    ctx: &Ctx,
    session: &LiveSession,
    student: &Caller,
    answer: Option<&Answer<'_>>,
) -> Result<std::result::Result<Proven, FailReason>> {
    if !session.device_check.needs_passkey() {
        return Ok(Ok(Proven::NotAsked));
    }
    let passkeys = ctx.passkeys.as_deref().ok_or(Error::PasskeysUnavailable)?;
    let number = &student.school_number;
    let (ceremony, credential, user_agent) = match answer {
        None => return Err(Error::PasskeyNeedsScript),
        Some(Answer::Failed) => return Err(Error::PasskeyExpired),
        Some(Answer::Refused) => return Ok(Err(refusal(ctx, session, number).await?)),
        Some(Answer::Signed {
            ceremony,
            credential,
            user_agent,
        }) => (ceremony, credential, user_agent),
    };
    let Some(ceremony) = ceremony
        .as_ref()
        .filter(|c| c.session_id == session.id && &c.student == number)
    else {
        return Err(Error::PasskeyExpired);
    };
    let malformed = || Error::invalid("passkey", Problem::Malformed);
    Ok(match &ceremony.step {
        Step::Register { state, approved_by } => {
            let response: RegisterPublicKeyCredential =
                serde_json::from_str(credential).map_err(|_| malformed())?;
            match passkeys
                .webauthn
                .finish_passkey_registration(&response, state)
            {
                Ok(passkey) => Ok(Proven::New {
                    passkey: Box::new(passkey),
                    approved_by: approved_by.clone(),
                    device: device_name(user_agent),
                }),
                Err(error) => {
                    tracing::info!(%error, student = %number, "passkey registration refused");
                    Err(FailReason::PasskeyInvalid)
                }
            }
        }
        Step::Authenticate(state) => {
            let response: PublicKeyCredential =
                serde_json::from_str(credential).map_err(|_| malformed())?;
            match passkeys
                .webauthn
                .finish_passkey_authentication(&response, state)
            {
                Ok(result) => Ok(Proven::Signed(result)),
                Err(error) => {
                    tracing::info!(%error, student = %number, "passkey signature refused");
                    Err(FailReason::PasskeyInvalid)
                }
            }
        }
    })
}

/// Why a browser that gave no passkey fails: it lacks the student's (or the student may
/// register one and did not), or the student has none and the session takes no new ones.
async fn refusal(ctx: &Ctx, session: &LiveSession, number: &str) -> Result<FailReason> {
    if ctx.db.passkey_of(number).await?.is_some()
        || session.device_check.takes_new_passkeys()
        || ctx.db.passkey_grant(number).await?.is_some()
    {
        return Ok(FailReason::PasskeyMissing);
    }
    Ok(FailReason::PasskeyNotRegistered)
}

/// Writes down a passkey check that passed, with a check-in that counts: a new passkey is
/// kept (unless the student got one meanwhile), a signature moves the passkey's counter on.
/// What the record's evidence says of the device, or the reason it fails after all.
pub(crate) async fn keep(
    ctx: &Ctx,
    session: &LiveSession,
    student: &Caller,
    proven: Proven,
    now: DateTime<Utc>,
) -> Result<std::result::Result<DeviceProof, FailReason>> {
    let number = &student.school_number;
    match proven {
        Proven::NotAsked => Ok(Ok(DeviceProof::Cookie)),
        Proven::Signed(result) => {
            // The passkey signed may have been replaced since the ceremony began.
            let Some(stored) = ctx.db.passkey_of(number).await? else {
                return Ok(Err(FailReason::PasskeyMissing));
            };
            let mut passkey = stored_passkey(&stored)?;
            if passkey.update_credential(&result).is_none() {
                return Ok(Err(FailReason::PasskeyMissing));
            }
            let json = serde_json::to_string(&passkey)?;
            ctx.db
                .passkey_used(number, &stored.credential_id, &json, now)
                .await?;
            Ok(Ok(DeviceProof::Passkey))
        }
        Proven::New {
            passkey,
            approved_by,
            device,
        } => {
            let row = passkey::Model {
                student_number: number.clone(),
                credential_id: credential_id(&passkey),
                passkey: serde_json::to_string(&passkey)?,
                device,
                registered_at: now,
                registered_in: Some(session.id),
                approved_by: approved_by.clone(),
                last_used_at: Some(now),
            };
            if !ctx.db.register_passkey(row).await? {
                return Ok(Err(FailReason::PasskeyInvalid));
            }
            Ok(Ok(DeviceProof::NewPasskey { approved_by }))
        }
    }
}

fn credential_id(passkey: &Passkey) -> String {
    use base64::Engine;
    let id: &[u8] = passkey.cred_id().as_ref();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id)
}

/// A short name of the device a browser runs on, from its `User-Agent` ("Android · Chrome"),
/// so a student can tell which phone their passkey is on. Unknown parts are left out.
pub fn device_name(user_agent: &str) -> String {
    let system = [
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Android", "Android"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(mark, _)| user_agent.contains(mark))
    .map(|(_, name)| name);
    // Order matters: Edge and Samsung's browser also say "Chrome", Chrome also says "Safari".
    let browser = [
        ("Edg/", "Edge"),
        ("SamsungBrowser", "Samsung Internet"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ]
    .into_iter()
    .find(|(mark, _)| user_agent.contains(mark))
    .map(|(_, name)| name);
    let parts: Vec<&str> = system.into_iter().chain(browser).collect();
    if parts.is_empty() {
        "?".to_owned()
    } else {
        parts.join(" · ")
    }
}

/// A student's passkey as they see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MyPasskey {
    /// The device it is on ("Android · Chrome").
    pub device: String,
    /// When it was registered.
    pub registered_at: DateTime<Utc>,
    /// When a check-in was last signed with it.
    pub last_used_at: Option<DateTime<Utc>>,
}

/// What a student's own page shows of their device: the passkey they registered, and whether
/// a teacher or an admin allowed them a new one (to be registered at their next check-in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MyDevice {
    /// The registered passkey, if any.
    pub passkey: Option<MyPasskey>,
    /// Leave to register a new one: who gave it and when.
    pub allowed: Option<(String, DateTime<Utc>)>,
}

/// The caller's registered passkey and any leave for a new one. Anyone logged in (only
/// students ever have one).
pub async fn my_device(ctx: &Ctx, caller: Option<&Caller>) -> Result<MyDevice> {
    let me = Caller::require_any(caller)?;
    let number = &me.school_number;
    let passkey = ctx.db.passkey_of(number).await?.map(|p| MyPasskey {
        device: p.device,
        registered_at: p.registered_at,
        last_used_at: p.last_used_at,
    });
    let allowed = ctx
        .db
        .passkey_grant(number)
        .await?
        .map(|g| (g.granted_by, g.granted_at));
    Ok(MyDevice { passkey, allowed })
}

/// Lets a student register a new passkey (a new phone), with a reason of at least
/// [`APPROVAL_REASON_MIN`] characters: their passkey is removed, their next check-in registers
/// one (in any session asking for passkeys), and the audit log says who allowed it, when and
/// why. A teacher, for a student of their running session (`session_id`); an admin, for any
/// student (`session_id` `None`).
pub async fn allow_new_passkey(
    ctx: &Ctx,
    caller: Option<&Caller>,
    session_id: Option<&str>,
    student: &str,
    reason: &str,
) -> Result<()> {
    let actor = Caller::require_any(caller)?;
    let reason = Reason::parse(reason, APPROVAL_REASON_MIN)?;
    let number = SchoolNumber::parse(student)?;
    let (student_name, session) = match session_id {
        Some(id) => {
            let session = crate::teacher::open_owned(ctx, caller, id).await?;
            let record = ctx
                .live
                .record(session.id, number.as_str())
                .await?
                .ok_or(Error::NotFound(Entity::Record))?;
            (record.student_full_name, Some(session.id))
        }
        None => {
            Caller::require_admin(caller)?;
            let known = ctx.db.users_by_numbers(&[number.to_string()]).await?;
            let name = known.into_iter().next().map(|u| u.full_name);
            (name.unwrap_or_else(|| number.to_string()), None)
        }
    };
    let student = User {
        school_number: number.to_string(),
        full_name: student_name,
        role: Role::Student,
    };
    let actor_user = User {
        school_number: actor.school_number.clone(),
        full_name: actor.full_name.clone(),
        role: if actor.role == Role::Student {
            return Err(Error::Forbidden);
        } else {
            actor.role
        },
    };
    let grant = passkey_grant::Model {
        student_number: student.school_number.clone(),
        granted_by: actor.school_number.clone(),
        granted_at: ctx.clock.now(),
        reason: reason.as_str().to_owned(),
    };
    ctx.db
        .allow_new_passkey(&student, &actor_user, grant)
        .await?;
    tracing::info!(student = %number, by = %actor.school_number, "new passkey allowed");
    if let Some(session) = session {
        crate::notices::tell(ctx, session, Some(number.as_str())).await;
    }
    Ok(())
}

/// How a session that needs passkeys shows on the device evidence of a check that failed.
pub fn unproven(device_check: DeviceCheck) -> DeviceProof {
    if device_check.needs_passkey() {
        DeviceProof::NoPasskey
    } else {
        DeviceProof::Cookie
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_is_named_by_its_system_and_browser() {
        let pixel = "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";
        assert_eq!(device_name(pixel), "Android · Chrome");
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
        assert_eq!(device_name(iphone), "iPhone · Safari");
        let samsung = "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36";
        assert_eq!(device_name(samsung), "Android · Samsung Internet");
        assert_eq!(device_name(""), "?");
    }

    #[test]
    fn only_a_domain_over_https_or_localhost_is_a_relying_party() {
        assert!(Passkeys::new("https://attn.example.edu").is_ok());
        assert!(Passkeys::new("http://localhost:3000").is_ok());
        for bad in [
            "http://attn.example.edu",
            "https://10.0.0.5",
            "http://127.0.0.1:3000",
            "not a url",
        ] {
            assert!(
                matches!(Passkeys::new(bad), Err(Error::Config { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_students_handle_is_stable_and_hides_the_number() {
        assert_eq!(user_handle("1306200001"), user_handle("1306200001"));
        assert_ne!(user_handle("1306200001"), user_handle("1306200002"));
        assert!(!user_handle("1306200001").to_string().contains("1306200001"));
    }
}
