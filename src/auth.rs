//! Logging in and who may do what. The app keeps the result in the login session; every
//! service function that needs a role takes the caller and checks it here.

use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::context::Ctx;
use crate::domain::{Role, User};
use crate::error::{Error, Problem, Result};
use crate::identity::{Lesson, PortalUser};

/// The logged-in person making a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caller {
    /// School number (or demo account name).
    pub school_number: String,
    /// Name as the portal spells it.
    pub full_name: String,
    /// Student or teacher, as the portal says.
    pub role: Role,
    /// Named in ATTN_ADMINS.
    pub is_admin: bool,
}

impl Caller {
    /// The caller, if they are a teacher.
    pub fn require_teacher(caller: Option<&Caller>) -> Result<&Caller> {
        Self::require(caller, |c| c.role == Role::Teacher)
    }

    /// The caller, if they are a student.
    pub fn require_student(caller: Option<&Caller>) -> Result<&Caller> {
        Self::require(caller, |c| c.role == Role::Student)
    }

    /// The caller, if they are an admin.
    pub fn require_admin(caller: Option<&Caller>) -> Result<&Caller> {
        Self::require(caller, |c| c.is_admin)
    }

    /// The caller, whoever they are, as long as someone is logged in.
    pub fn require_any(caller: Option<&Caller>) -> Result<&Caller> {
        Self::require(caller, |_| true)
    }

    /// The caller, if `allowed` says so.
    pub fn require(caller: Option<&Caller>, allowed: impl Fn(&Caller) -> bool) -> Result<&Caller> {
        match caller {
            None => Err(Error::Unauthenticated),
            Some(c) if allowed(c) => Ok(c),
            Some(_) => Err(Error::Forbidden),
        }
    }
}

/// A login attempt.
pub struct Credentials<'a> {
    /// School number or portal username, as typed.
    pub username: &'a str,
    /// Password, as typed; never logged or stored.
    pub password: &'a str,
    /// The client's address (see `network::client_ip`).
    pub client_ip: IpAddr,
    /// The known-device token this browser holds, if any ([`LoggedIn::device_token`] of an
    /// earlier login).
    pub device_token: Option<&'a str>,
}

/// A successful login: what the login session keeps.
#[derive(Debug)]
pub struct LoggedIn {
    /// Who logged in.
    pub caller: Caller,
    /// The portal photo (students), for the face check; never stored anywhere else.
    pub photo: Option<Vec<u8>>,
    /// The person's timetable.
    pub lessons: Vec<Lesson>,
    /// How long the login lasts without a request.
    pub idle: Duration,
    /// For the browser to keep (a long-lived cookie) and show at its next login: it marks a
    /// browser this person logged in on, whose attempts strangers' wrong guesses never pause.
    pub device_token: String,
}

/// What a known-device token is a tag of.
const KNOWN_DEVICE: &str = "known-device";

/// The token that marks a browser `username` logged in on: `<username>.<tag>`.
fn device_token(ctx: &Ctx, username: &str) -> String {
    let username = username.to_lowercase();
    format!("{username}.{}", ctx.codes.tag(KNOWN_DEVICE, &username))
}

/// The device's own key for the limits, when `token` marks a browser `username` logged in on.
fn known_device(ctx: &Ctx, username: &str, token: Option<&str>) -> Option<String> {
    let (owner, tag) = token?.rsplit_once('.')?;
    let username = username.to_lowercase();
    (owner == username && ctx.codes.has_tag(KNOWN_DEVICE, &username, tag))
        .then(|| format!("login:device:{tag}"))
}

/// Longest accepted username.
const MAX_USERNAME: usize = 64;

/// Logs a person in through the identity provider, within the login limits: after too many
/// wrong passwords for one username from one address, for one username from anywhere, or from
/// one address, `RateLimited` without asking the portal; a browser the person logged in on
/// before (`device_token`) has a limit of its own instead of the first two. Only wrong
/// passwords count; a portal outage does not.
#[tracing::instrument(skip(ctx, credentials), fields(username = %credentials.username.trim(), ip = %credentials.client_ip))]
pub async fn login(ctx: &Ctx, credentials: Credentials<'_>) -> Result<LoggedIn> {
    let username = credentials.username.trim();
    if username.is_empty() {
        return Err(Error::invalid("school_number", Problem::Empty));
    }
    if username.chars().count() > MAX_USERNAME {
        return Err(Error::invalid(
            "school_number",
            Problem::TooLong { max: MAX_USERNAME },
        ));
    }
    if credentials.password.is_empty() {
        return Err(Error::invalid("password", Problem::Empty));
    }
    let now = ctx.clock.now();
    let config = &ctx.config;
    let user = username.to_lowercase();
    let address = crate::network::limit_key(credentials.client_ip);
    // Following OWASP's guidance on online guessing: a browser the person logged in on before
    // is limited on its own, so a stranger's wrong guesses never pause the owner there.
    // Anyone else is limited per username and address (strictly), per username from anywhere
    // (more loosely), and per address (loosely still: a classroom shares one).
    let limits: Vec<(String, u64)> = match known_device(ctx, &user, credentials.device_token) {
        Some(device) => vec![(device, config.login_max_failures)],
        None => vec![
            (
                format!("login:pair:{user}|{address}"),
                config.login_max_failures,
            ),
            (
                format!("login:user:{user}"),
                config.login_max_failures_per_user,
            ),
        ],
    };
    let limits = [
        limits,
        vec![(
            format!("login:ip:{address}"),
            config.login_max_failures_per_ip,
        )],
    ]
    .concat();
    // Counted before the portal is asked, each count atomic, so parallel guesses cannot slip
    // past a limit while the portal is slow; an attempt that is not let through, or that does
    // not turn out wrong, is taken back.
    let mut counted = Vec::new();
    for (key, limit) in &limits {
        let counter = ctx.live.hit(key, config.login_window, now).await?;
        counted.push(key);
        if counter.count > *limit {
            forgive(ctx, &counted).await?;
            return Err(Error::RateLimited {
                retry_after_secs: seconds_until(counter.resets_at, now),
            });
        }
    }

    let person = match ctx
        .identity
        .authenticate(username, credentials.password, now)
        .await
    {
        Err(Error::WrongCredentials) => return Err(Error::WrongCredentials),
        Err(other) => {
            forgive(ctx, &counted).await?;
            return Err(other);
        }
        Ok(person) => person,
    };
    // The person is who they say: their own pauses end, and this attempt counts against no
    // one sharing the address.
    for (key, _) in &limits[..limits.len() - 1] {
        ctx.live.clear(key).await?;
    }
    forgive(ctx, &counted[counted.len() - 1..]).await?;
    // The users table is a convenience of the history (the sweep writes every person of a
    // session again when it persists it): with the database away, the login still goes on, so
    // a class keeps checking in.
    if let Err(error) = remember(ctx, &person, now).await {
        ctx.metrics.error(&error);
        tracing::warn!(%error, "database unavailable: the login goes on without remembering the user");
    }
    let PortalUser {
        school_number,
        full_name,
        role,
        photo,
        lessons,
    } = person;
    let is_admin = config.admins.iter().any(|a| a == &school_number);
    tracing::info!(%school_number, role = role.as_str(), is_admin, "logged in");
    Ok(LoggedIn {
        idle: idle_limit(ctx, role),
        caller: Caller {
            school_number,
            full_name,
            role,
            is_admin,
        },
        device_token: device_token(ctx, &user),
        photo,
        lessons,
    })
}

async fn forgive(ctx: &Ctx, keys: &[&String]) -> Result<()> {
    for key in keys {
        ctx.live.forgive(key).await?;
    }
    Ok(())
}

async fn remember(ctx: &Ctx, person: &PortalUser, now: DateTime<Utc>) -> Result<()> {
    let user = User {
        school_number: person.school_number.clone(),
        full_name: person.full_name.clone(),
        role: person.role,
    };
    ctx.db.upsert_users(&[user], now).await
}

/// How long a login of `role` lasts without a request.
pub fn idle_limit(ctx: &Ctx, role: Role) -> Duration {
    match role {
        Role::Teacher | Role::Admin => ctx.config.teacher_idle,
        Role::Student => ctx.config.student_idle,
    }
}

/// True when a login last used at `last_seen` has been idle too long at `now`.
pub fn is_expired(ctx: &Ctx, role: Role, last_seen: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    let idle = chrono::Duration::from_std(idle_limit(ctx, role)).unwrap_or(chrono::Duration::MAX);
    now - last_seen >= idle
}

/// How often a live login is marked as used. A request within this time of the last mark
/// changes nothing in the login, so the session layer writes nothing to its store; idle expiry
/// is then exact to within this time (a login can end up to a minute sooner than its limit).
pub const SEEN_EVERY: chrono::Duration = chrono::Duration::minutes(1);

/// True when a live login last marked as used at `last_seen` is to be marked again at `now`
/// (a clock set back counts as due, so a mark is never left in the future).
pub fn mark_due(last_seen: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now < last_seen || now - last_seen >= SEEN_EVERY
}

fn seconds_until(at: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    let ms = (at - now).num_milliseconds().max(0) as u64;
    ms.div_ceil(1000).max(1)
}
