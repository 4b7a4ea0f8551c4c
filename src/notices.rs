//! Notices pushed to the students' join pages: a re-check has started, the session has ended,
//! the teacher changed one student's record. They are few (a teacher's actions, not every
//! check-in), so every instance shares one subscription to them in the live store and hands
//! each on to the join pages it serves that are open on that session.

use std::sync::Arc;

use tokio::sync::{OnceCell, broadcast};
use uuid::Uuid;

use crate::auth::Caller;
use crate::context::Ctx;
use crate::domain::parse_session_id;
use crate::error::Result;
use crate::live::{LiveStore, StudentNotice, existing_session};

/// Notices waiting for a slow join page; more and it just reads its page again.
const BACKLOG: usize = 64;

/// How long the relay waits before subscribing again after the live store dropped it.
const RESUBSCRIBE: std::time::Duration = std::time::Duration::from_secs(1);

/// This instance's share of the notices: one subscription, handed on to every join page.
#[derive(Debug)]
pub struct Notices {
    tx: broadcast::Sender<StudentNotice>,
    relay: OnceCell<()>,
}

impl Default for Notices {
    fn default() -> Self {
        Self {
            tx: broadcast::channel(BACKLOG).0,
            relay: OnceCell::new(),
        }
    }
}

impl Notices {
    /// Every notice from now on. The first call subscribes to the live store (and waits until
    /// it has), then a relay keeps the subscription for the life of the process, subscribing
    /// again whenever the store drops it (a Redis restart).
    async fn listen(
        &self,
        live: &Arc<dyn LiveStore>,
    ) -> Result<broadcast::Receiver<StudentNotice>> {
        self.relay
            .get_or_try_init(|| async {
                let first = live.notices().await?;
                tokio::spawn(relay(first, live.clone(), self.tx.clone()));
                Ok::<_, crate::Error>(())
            })
            .await?;
        Ok(self.tx.subscribe())
    }
}

async fn relay(
    mut subscription: tokio::sync::mpsc::Receiver<StudentNotice>,
    live: Arc<dyn LiveStore>,
    tx: broadcast::Sender<StudentNotice>,
) {
    loop {
        while let Some(notice) = subscription.recv().await {
            // Nobody listening is fine.
            let _ = tx.send(notice);
        }
        loop {
            tokio::time::sleep(RESUBSCRIBE).await;
            match live.notices().await {
                Ok(again) => {
                    subscription = again;
                    break;
                }
                Err(error) => tracing::debug!(%error, "notices: live store away, trying again"),
            }
        }
    }
}

/// Tells the join pages of `session_id` (every student's, or only `student`'s) to read their
/// page again. Best effort: the change is made already, and a page that misses the notice
/// shows it when it is opened again.
pub async fn tell(ctx: &Ctx, session_id: Uuid, student: Option<&str>) {
    let notice = StudentNotice {
        session_id,
        student: student.map(str::to_owned),
    };
    if let Err(error) = ctx.live.announce(&notice).await {
        ctx.metrics.error(&error);
        tracing::warn!(%error, session = %session_id, "join pages not told of a change");
    }
}

/// A join page's share of the notices: those of its session meant for everyone or for its
/// student.
#[derive(Debug)]
pub struct JoinWatch {
    rx: broadcast::Receiver<StudentNotice>,
    session_id: Uuid,
    student: String,
}

impl JoinWatch {
    /// Waits for the next notice for this page; `None` once no more can come.
    pub async fn next(&mut self) -> Option<()> {
        loop {
            match self.rx.recv().await {
                Ok(n) if self.is_mine(&n) => return Some(()),
                Ok(_) => {}
                // Some were missed: reading the page again covers them.
                Err(broadcast::error::RecvError::Lagged(_)) => return Some(()),
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

impl JoinWatch {
    /// A notice for this page that has come already, without waiting.
    pub fn try_next(&mut self) -> Option<()> {
        loop {
            match self.rx.try_recv() {
                Ok(n) if self.is_mine(&n) => return Some(()),
                Ok(_) => {}
                Err(broadcast::error::TryRecvError::Lagged(_)) => return Some(()),
                Err(_) => return None,
            }
        }
    }

    fn is_mine(&self, n: &StudentNotice) -> bool {
        n.session_id == self.session_id && n.student.as_ref().is_none_or(|s| *s == self.student)
    }
}

/// The notices for the caller's join page of a session still in the live store. Anyone
/// logged in; `NotFound` for a session that is gone.
pub async fn watch_join(ctx: &Ctx, caller: Option<&Caller>, session_id: &str) -> Result<JoinWatch> {
    let me = Caller::require_any(caller)?;
    let session = existing_session(ctx.live.as_ref(), parse_session_id(session_id)?).await?;
    let rx = ctx.notices.listen(&ctx.live).await?;
    Ok(JoinWatch {
        rx,
        session_id: session.id,
        student: me.school_number.clone(),
    })
}
