//! Settings, read once at start-up from `ATTN_*` environment variables (and an optional `.env`).
//! With nothing set, ATTN runs on its embedded default: a SQLite file and in-process stores.

use std::time::Duration;

use ipnet::IpNet;

use crate::error::{Error, Result};
use crate::identity::AksisConfig;

/// Default database: a SQLite file under ./data, created when missing.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/attn.db?mode=rwc";

/// Every setting of the service layer and the server.
#[derive(Debug, Clone)]
pub struct Config {
    /// `ATTN_DATABASE_URL`: `postgres://...` or `sqlite://...`.
    pub database_url: String,
    /// `ATTN_REDIS_URL`: when set, live sessions and login sessions live in Redis.
    pub redis_url: Option<String>,
    /// `ATTN_REDIS_PREFIX`: first part of every Redis key, so several deployments can share one Redis.
    pub redis_prefix: String,
    /// `ATTN_REDIS_ALLOW_VOLATILE`: accept a Redis that would lose acknowledged check-ins on a
    /// restart (no append-only file, or eviction on). Off: ATTN refuses to start on one.
    pub redis_allow_volatile: bool,
    /// `ATTN_SWEEP_INTERVAL_SECS`: how often finished sessions are moved to the database.
    pub sweep_interval: Duration,
    /// `ATTN_SWEEP_LEASE_SECS`: how long one instance may hold a session it is persisting.
    pub sweep_lease: Duration,
    /// `ATTN_TIMEZONE`: the zone times are shown in (the portal's timetable is UTC+3).
    pub timezone: chrono_tz::Tz,
    /// `ATTN_TEACHER_IDLE_MINUTES`: a teacher's login ends after this long without a request.
    pub teacher_idle: Duration,
    /// `ATTN_STUDENT_IDLE_MINUTES`: a student's login ends after this long without a request.
    pub student_idle: Duration,
    /// `ATTN_SECURE_COOKIES`: mark cookies Secure (set when served over https).
    pub secure_cookies: bool,
    /// `ATTN_ADMINS`: comma-separated school numbers that also get the admin role.
    pub admins: Vec<String>,
    /// `ATTN_DEMO_ACCOUNTS`: allow the demo accounts (default: on in the embedded mode only).
    pub demo_accounts: bool,
    /// `ATTN_DEMO_PASSWORD`: the demo accounts' shared password.
    pub demo_password: String,
    /// `ATTN_DEMO_PHOTO`: an image file used as every demo student's portal photo (none when
    /// unset, so a face check finds no reference).
    pub demo_photo: Option<std::path::PathBuf>,
    /// `ATTN_AKSIS_*`, `ATTN_PORTAL_TIMEOUT_SECS` and `ATTN_PORTAL_CONNECTIONS`: where the
    /// portal is, how long to wait for it, and how many logins may talk to it at once.
    pub portal: AksisConfig,
    /// `ATTN_TRUSTED_PROXIES`: addresses or CIDRs of reverse proxies whose X-Forwarded-For is
    /// believed. Nobody else's is.
    pub trusted_proxies: Vec<IpNet>,
    /// `ATTN_LOGIN_MAX_FAILURES`: failed logins per username from one client address (or
    /// from one browser the person logged in on before) within the window.
    pub login_max_failures: u64,
    /// `ATTN_LOGIN_MAX_FAILURES_PER_USER`: failed logins per username from anywhere within
    /// the window, except from browsers the person logged in on before.
    pub login_max_failures_per_user: u64,
    /// `ATTN_LOGIN_MAX_FAILURES_PER_IP`: failed logins per client address within the window
    /// (a whole class may share one address).
    pub login_max_failures_per_ip: u64,
    /// `ATTN_LOGIN_WINDOW_SECS`: the window of the login limits.
    pub login_window: Duration,
    /// `ATTN_CLASSROOM_NETWORKS`: CIDRs that count as a classroom network for every session,
    /// besides the teacher's own /24 or /64.
    pub classroom_networks: Vec<IpNet>,
    /// `ATTN_JOIN_SECRET`: key of the rotating join codes; every instance needs the same one.
    /// Unset: a random key per process (fine for one instance).
    pub join_secret: Option<String>,
    /// `ATTN_RECEIPT_KEY`: the Ed25519 key check-in receipts are signed with, as its 32-byte
    /// seed in base64 (`openssl rand -base64 32`); every instance needs the same one. Unset: a
    /// key made once and kept in the database.
    pub receipt_key: Option<crate::receipts::ReceiptKey>,
    /// `ATTN_PUBLIC_URL`: the address students reach the server at (for the QR code), e.g.
    /// `https://attn.example.edu`. Unset: taken from the teacher's own request.
    pub public_url: Option<String>,
    /// `ATTN_JOIN_MAX_PER_STUDENT`: check-in attempts per student per minute.
    pub join_max_per_student: u64,
    /// `ATTN_JOIN_MAX_PER_IP`: check-in attempts per client address per minute (a whole class
    /// may share one address).
    pub join_max_per_ip: u64,
    /// `ATTN_MODELS_DIR`: the face-check models (see `scripts/models`).
    pub models_dir: std::path::PathBuf,
    /// `ATTN_FACE_THRESHOLD`: descriptor distance under which a selfie matches the portal photo.
    pub face_threshold: f32,
    /// `ATTN_FACE_WORKERS`: face checks run at once (each on a blocking thread of its own).
    pub face_workers: usize,
    /// `ATTN_HEADER_READ_SECS`: how long a connection may take to send a request's headers
    /// before it is closed (slow-header attacks).
    pub header_read: Duration,
    /// `ATTN_BODY_IDLE_SECS`: how long a request body may send nothing before the request is
    /// given up (a stalled upload holds nothing for long).
    pub body_idle: Duration,
    /// `ATTN_UPLOADS_IN_FLIGHT`: selfies being received at once; past that, a student is told
    /// the face check is busy and to try again in a few seconds.
    pub uploads_in_flight: usize,
    /// `ATTN_FACE_QUEUE`: face checks that may wait for a worker; past that, a student is told
    /// the check is busy and to try again in a few seconds, and nothing is recorded.
    pub face_queue: usize,
    /// `ATTN_METRICS_TOKEN`: the bearer token Prometheus sends to read `/metrics`. Unset:
    /// `/metrics` is not served.
    pub metrics_token: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self::from_lookup(|_| None).expect("the defaults are valid")
    }
}

impl Config {
    /// Reads `.env` (when present) and the process environment.
    pub fn from_env() -> Result<Self> {
        let _ = dotenvy::dotenv();
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Reads settings through `get`, which returns a variable's value when it is set.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let get = |key: &str| {
            get(key)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let secs = |key: &'static str, default: u64| -> Result<Duration> {
            parse_number(key, get(key), default).map(Duration::from_secs)
        };
        let minutes = |key: &'static str, default: u64| -> Result<Duration> {
            parse_number(key, get(key), default).map(|m| Duration::from_secs(m * 60))
        };
        let database_url = get("ATTN_DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into());
        if !(database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://")
            || database_url.starts_with("sqlite:"))
        {
            return Err(Error::Config {
                variable: "ATTN_DATABASE_URL",
                problem: "must start with postgres:// or sqlite:".into(),
            });
        }
        let timezone = match get("ATTN_TIMEZONE") {
            None => chrono_tz::Europe::Istanbul,
            Some(name) => name.parse().map_err(|_| Error::Config {
                variable: "ATTN_TIMEZONE",
                problem: format!("unknown time zone {name:?}"),
            })?,
        };
        let redis_url = get("ATTN_REDIS_URL");
        let embedded = database_url.starts_with("sqlite:") && redis_url.is_none();
        let defaults = AksisConfig::default();
        let portal = AksisConfig {
            login_url: get("ATTN_AKSIS_LOGIN_URL").unwrap_or(defaults.login_url),
            obs_url: get("ATTN_AKSIS_OBS_URL").unwrap_or(defaults.obs_url),
            timetable_url: get("ATTN_AKSIS_TIMETABLE_URL").unwrap_or(defaults.timetable_url),
            logout_url: get("ATTN_AKSIS_LOGOUT_URL").unwrap_or(defaults.logout_url),
            timeout: secs("ATTN_PORTAL_TIMEOUT_SECS", defaults.timeout.as_secs())?,
            connections: parse_number(
                "ATTN_PORTAL_CONNECTIONS",
                get("ATTN_PORTAL_CONNECTIONS"),
                defaults.connections as u64,
            )?
            .clamp(1, 1_000) as usize,
        };
        let trusted_proxies = get("ATTN_TRUSTED_PROXIES")
            .map(|v| parse_networks("ATTN_TRUSTED_PROXIES", &v))
            .transpose()?
            .unwrap_or_default();
        let classroom_networks = get("ATTN_CLASSROOM_NETWORKS")
            .map(|v| parse_networks("ATTN_CLASSROOM_NETWORKS", &v))
            .transpose()?
            .unwrap_or_default();
        Ok(Self {
            classroom_networks,
            join_secret: get("ATTN_JOIN_SECRET"),
            receipt_key: get("ATTN_RECEIPT_KEY")
                .map(|v| {
                    crate::receipts::ReceiptKey::from_text(&v).ok_or(Error::Config {
                        variable: "ATTN_RECEIPT_KEY",
                        problem: "must be 32 bytes in base64 (openssl rand -base64 32)".into(),
                    })
                })
                .transpose()?,
            metrics_token: get("ATTN_METRICS_TOKEN"),
            public_url: get("ATTN_PUBLIC_URL").map(|u| u.trim_end_matches('/').to_owned()),
            join_max_per_student: parse_number(
                "ATTN_JOIN_MAX_PER_STUDENT",
                get("ATTN_JOIN_MAX_PER_STUDENT"),
                20,
            )?,
            join_max_per_ip: parse_number(
                "ATTN_JOIN_MAX_PER_IP",
                get("ATTN_JOIN_MAX_PER_IP"),
                1000,
            )?,
            models_dir: get("ATTN_MODELS_DIR")
                .unwrap_or_else(|| "models".into())
                .into(),
            face_threshold: match get("ATTN_FACE_THRESHOLD") {
                None => crate::face::DEFAULT_THRESHOLD,
                Some(v) => v
                    .parse::<f32>()
                    .ok()
                    .filter(|t| *t > 0.0 && *t < 2.0)
                    .ok_or_else(|| Error::Config {
                        variable: "ATTN_FACE_THRESHOLD",
                        problem: format!("{v:?} is not a distance between 0 and 2"),
                    })?,
            },
            face_workers: parse_number("ATTN_FACE_WORKERS", get("ATTN_FACE_WORKERS"), 2)?
                .clamp(1, 64) as usize,
            face_queue: parse_number("ATTN_FACE_QUEUE", get("ATTN_FACE_QUEUE"), 32)?
                .clamp(1, 10_000) as usize,
            header_read: secs("ATTN_HEADER_READ_SECS", 10)?.max(Duration::from_secs(1)),
            body_idle: secs("ATTN_BODY_IDLE_SECS", 20)?.max(Duration::from_secs(1)),
            uploads_in_flight: parse_number(
                "ATTN_UPLOADS_IN_FLIGHT",
                get("ATTN_UPLOADS_IN_FLIGHT"),
                16,
            )?
            .clamp(1, 10_000) as usize,
            demo_accounts: match get("ATTN_DEMO_ACCOUNTS") {
                None => embedded,
                value => parse_bool("ATTN_DEMO_ACCOUNTS", value)?,
            },
            demo_password: get("ATTN_DEMO_PASSWORD").unwrap_or_else(|| "demo".into()),
            demo_photo: get("ATTN_DEMO_PHOTO").map(Into::into),
            portal,
            trusted_proxies,
            login_max_failures: parse_number(
                "ATTN_LOGIN_MAX_FAILURES",
                get("ATTN_LOGIN_MAX_FAILURES"),
                5,
            )?,
            login_max_failures_per_user: parse_number(
                "ATTN_LOGIN_MAX_FAILURES_PER_USER",
                get("ATTN_LOGIN_MAX_FAILURES_PER_USER"),
                20,
            )?,
            login_max_failures_per_ip: parse_number(
                "ATTN_LOGIN_MAX_FAILURES_PER_IP",
                get("ATTN_LOGIN_MAX_FAILURES_PER_IP"),
                100,
            )?,
            login_window: secs("ATTN_LOGIN_WINDOW_SECS", 600)?,
            database_url,
            redis_url,
            redis_prefix: get("ATTN_REDIS_PREFIX").unwrap_or_else(|| "attn".into()),
            redis_allow_volatile: parse_bool(
                "ATTN_REDIS_ALLOW_VOLATILE",
                get("ATTN_REDIS_ALLOW_VOLATILE"),
            )?,
            sweep_interval: secs("ATTN_SWEEP_INTERVAL_SECS", 30)?,
            sweep_lease: secs("ATTN_SWEEP_LEASE_SECS", 60)?,
            timezone,
            teacher_idle: minutes("ATTN_TEACHER_IDLE_MINUTES", 60)?,
            student_idle: minutes("ATTN_STUDENT_IDLE_MINUTES", 10)?,
            secure_cookies: parse_bool("ATTN_SECURE_COOKIES", get("ATTN_SECURE_COOKIES"))?,
            admins: get("ATTN_ADMINS")
                .map(|v| {
                    v.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default(),
        })
    }

    /// True when running on the embedded default (SQLite and in-process stores).
    pub fn is_embedded(&self) -> bool {
        self.database_url.starts_with("sqlite:") && self.redis_url.is_none()
    }

    /// One line for the start-up log saying which backends are in use (without credentials).
    pub fn mode_description(&self) -> String {
        let db = if self.database_url.starts_with("sqlite:") {
            "SQLite"
        } else {
            "PostgreSQL"
        };
        let live = if self.redis_url.is_some() {
            "Redis"
        } else {
            "in-process memory"
        };
        let mode = if self.is_embedded() {
            "embedded"
        } else {
            "services"
        };
        format!("{mode} mode: database {db}, live store and login sessions {live}")
    }
}

fn parse_number(variable: &'static str, value: Option<String>, default: u64) -> Result<u64> {
    match value {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| Error::Config {
            variable,
            problem: format!("{v:?} is not a whole number"),
        }),
    }
}

/// Comma-separated addresses or CIDRs; a bare address is a network of one.
fn parse_networks(variable: &'static str, value: &str) -> Result<Vec<IpNet>> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| Error::Config {
                    variable,
                    problem: format!("{s:?} is not an address or CIDR"),
                })
        })
        .collect()
}

fn parse_bool(variable: &'static str, value: Option<String>) -> Result<bool> {
    match value.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("0" | "false" | "no" | "off") => Ok(false),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some(other) => Err(Error::Config {
            variable,
            problem: format!("{other:?} is not true or false"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| vars.get(k).cloned())
    }

    #[test]
    fn nothing_set_means_embedded() {
        let c = config(&[]).unwrap();
        assert!(c.is_embedded());
        assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(c.teacher_idle, Duration::from_secs(3600));
        assert_eq!(c.student_idle, Duration::from_secs(600));
        assert_eq!(c.timezone, chrono_tz::Europe::Istanbul);
        assert!(c.mode_description().starts_with("embedded"));
        assert!(c.demo_accounts, "demo accounts are on in the embedded mode");
        assert!(c.trusted_proxies.is_empty());
    }

    #[test]
    fn demo_accounts_are_off_with_services_unless_asked_for() {
        let services = [
            ("ATTN_DATABASE_URL", "postgres://postgres@127.0.0.1/attn"),
            ("ATTN_REDIS_URL", "redis://127.0.0.1:6379"),
        ];
        assert!(!config(&services).unwrap().demo_accounts);
        let mut on = services.to_vec();
        on.push(("ATTN_DEMO_ACCOUNTS", "true"));
        assert!(config(&on).unwrap().demo_accounts);
        assert!(
            !config(&[("ATTN_DEMO_ACCOUNTS", "0")])
                .unwrap()
                .demo_accounts
        );
    }

    #[test]
    fn trusted_proxies_take_addresses_and_cidrs() {
        let c = config(&[("ATTN_TRUSTED_PROXIES", "10.0.0.1, 192.168.0.0/16,::1")]).unwrap();
        assert_eq!(c.trusted_proxies.len(), 3);
        assert!(config(&[("ATTN_TRUSTED_PROXIES", "proxy.local")]).is_err());
    }

    #[test]
    fn services_mode_with_postgres_and_redis() {
        let c = config(&[
            ("ATTN_DATABASE_URL", "postgres://postgres@127.0.0.1/attn"),
            ("ATTN_REDIS_URL", "redis://127.0.0.1:6379"),
            ("ATTN_ADMINS", " 100, 200 ,"),
        ])
        .unwrap();
        assert!(!c.is_embedded());
        assert_eq!(c.admins, vec!["100", "200"]);
        assert!(c.mode_description().contains("PostgreSQL"));
        assert!(c.mode_description().contains("Redis"));
    }

    #[test]
    fn bad_values_name_the_variable() {
        let err = config(&[("ATTN_SWEEP_INTERVAL_SECS", "soon")]).unwrap_err();
        assert!(err.to_string().contains("ATTN_SWEEP_INTERVAL_SECS"));
        let err = config(&[("ATTN_DATABASE_URL", "mysql://x")]).unwrap_err();
        assert!(err.to_string().contains("ATTN_DATABASE_URL"));
        assert!(config(&[("ATTN_TIMEZONE", "Mars/Olympus")]).is_err());
        assert!(config(&[("ATTN_SECURE_COOKIES", "maybe")]).is_err());
    }
}
